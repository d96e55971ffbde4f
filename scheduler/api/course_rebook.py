"""``POST /api/courses/{id}/rebook``: a replacement for a cancelled or missed dose, with its
pair, keeping every spacing and window rule (or an extension of the window, recorded with its
reason). Front desk and admins."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema

from ..auth.api import current_actor
from ..auth.permissions import can_manage_courses, require
from ..courses import course_view, get_course
from ..courses.rebook import rebook_missed_dose
from ..db import db, write_transaction
from .access import action
from .blueprint import Blueprint
from .responses import errors
from .schemas.common import Id, Instant, Text
from .schemas.courses import CourseSchema, course_json

blp = Blueprint(
    "course-rebook",
    __name__,
    url_prefix="/api/courses",
    description="Rebooking a missed dose of a course",
)


class RebookSchema(Schema):
    appointment_id = Id(
        required=True, metadata={"description": "The cancelled or missed (no-show) dose"}
    )
    earliest_start = Instant(load_default=None, allow_none=True)
    extend_window_reason = Text(
        max_length=300,
        load_default=None,
        allow_none=True,
        metadata={
            "description": "When only the protocol's window or a maximum gap prevents a "
            "replacement (409 rule rebook_window): extend it for this dose, for this reason"
        },
    )


@blp.route("/<int:course_id>/rebook", methods=["POST"])
@blp.arguments(RebookSchema)
@blp.response(201, CourseSchema)
@errors(blp, 400, 403, 404, 409, 422)
def rebook(data: dict[str, Any], course_id: int) -> Any:
    """Plan and book a replacement dose with its pair after the course's last session. 409
    `rebook_window` names the rule in the way and when an extension would allow it."""
    require(can_manage_courses(current_actor()), "rebook doses")
    with write_transaction(db.session):
        course = get_course(db.session, course_id, lock=True)
        rebook_missed_dose(
            db.session,
            action("course.rebook"),
            course,
            data["appointment_id"],
            earliest=data.get("earliest_start"),
            extend_window_reason=data.get("extend_window_reason"),
        )
    return course_json(course_view(db.session, course))
