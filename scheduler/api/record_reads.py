"""Who looked at patients' records: ``GET /api/record-reads`` (admins), newest first,
filterable by patient, staff member and time."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields
from sqlalchemy import select

from ..auth.api import current_actor
from ..auth.permissions import is_admin, require
from ..models import RecordRead
from .blueprint import Blueprint
from .pagination import PAGING, SelectPage
from .responses import errors
from .schemas.common import Id, Instant, PageQuerySchema

blp = Blueprint(
    "record-reads",
    __name__,
    url_prefix="/api/record-reads",
    description="Who looked at which patient's record, when, and through which route",
)


class RecordReadQuerySchema(PageQuerySchema):
    patient_id = Id(strict=False)
    staff_id = Id(strict=False)
    since = Instant(metadata={"description": "reads at or after this instant"})
    until = Instant(metadata={"description": "reads before this instant"})


class RecordReadSchema(Schema):
    id = fields.Integer()
    at = Instant()
    staff_id = fields.Integer(allow_none=True)
    staff = fields.String(attribute="staff_label")
    patient_id = fields.Integer()
    via = fields.String(metadata={"example": "GET /api/patients/<int:patient_id>"})


@blp.route("", methods=["GET"])
@blp.arguments(RecordReadQuerySchema, location="query")
@blp.response(200, RecordReadSchema(many=True))
@blp.paginate(SelectPage, **PAGING)
@errors(blp, 403, 422)
def record_reads(query: dict[str, Any]) -> Any:
    """Reads of patient records (admins), newest first."""
    require(is_admin(current_actor()), "see who read patient records")
    statement = select(RecordRead).order_by(RecordRead.at.desc(), RecordRead.id.desc())
    if "patient_id" in query:
        statement = statement.where(RecordRead.patient_id == query["patient_id"])
    if "staff_id" in query:
        statement = statement.where(RecordRead.staff_id == query["staff_id"])
    if "since" in query:
        statement = statement.where(RecordRead.at >= query["since"])
    if "until" in query:
        statement = statement.where(RecordRead.at < query["until"])
    return statement
