"""Sessions that need attention: ``GET /api/attention`` lists every session flagged because a
change after booking made it break a rule, and ``POST /api/appointments/{id}/replan/preview``
plans it afresh with its pair (apply the preview's token at ``.../reschedule``)."""

from __future__ import annotations

from typing import Any

from flask import current_app
from marshmallow import Schema
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..auth.api import current_actor
from ..auth.permissions import can_manage_courses, require, visible_appointments
from ..clock import now
from ..courses.replan import preview_replan
from ..db import db
from ..integrity.check import OPEN
from ..models import Appointment
from .access import get_or_404
from .blueprint import Blueprint
from .courses import names
from .pagination import PAGING, SelectPage
from .responses import errors
from .schemas.appointments import AppointmentSchema
from .schemas.common import Id, PageQuerySchema
from .schemas.courses import MovePreviewSchema, move_preview

blp = Blueprint(
    "needs-attention",
    __name__,
    url_prefix="/api",
    description="Sessions a change after booking left breaking a rule, and re-planning them",
)


class AttentionQuerySchema(PageQuerySchema):
    location_id = Id()


class ReplanRequestSchema(Schema):
    """Nothing to give: the session is planned afresh near where it was."""


@blp.route("/attention", methods=["GET"])
@blp.arguments(AttentionQuerySchema, location="query")
@blp.response(200, AppointmentSchema(many=True))
@blp.paginate(SelectPage, **PAGING)
@errors(blp, 422)
def attention(query: dict[str, Any]) -> Any:
    """Sessions still open that need attention, oldest flag first; each carries
    `needs_attention` with the rule it breaks and since when. Filter by `location_id`."""
    statement = (
        select(Appointment)
        .options(selectinload(Appointment.location))
        .where(Appointment.attention_rule.is_not(None), Appointment.status.in_(OPEN))
        .order_by(Appointment.attention_since, Appointment.starts_at, Appointment.id)
    )
    if "location_id" in query:
        statement = statement.where(Appointment.location_id == query["location_id"])
    return visible_appointments(current_actor(), statement)


@blp.route("/appointments/<int:appointment_id>/replan/preview", methods=["POST"])
@blp.arguments(ReplanRequestSchema)
@blp.response(200, MovePreviewSchema)
@errors(blp, 400, 403, 404, 409, 422)
def replan_preview(_data: dict[str, Any], appointment_id: int) -> Any:
    """Plan the session afresh at the nearest time that keeps every rule, with its paired
    session and any later session whose spacing would fail. Writes nothing: send the token to
    `POST /api/appointments/{id}/reschedule` to apply exactly this."""
    require(can_manage_courses(current_actor()), "re-plan appointments")
    appointment = get_or_404(Appointment, appointment_id, "appointment")
    result = preview_replan(db.session, appointment, now=now())
    secret = str(current_app.config["SECRET_KEY"])
    return move_preview(result, names(appointment.location.timezone), result.token(secret))
