"""Courses: ``/api/courses``. Front desk and admins plan, book, cancel, pause, resume and extend
courses; clinicians and therapists read the courses of patients they treat.

The views are thin: ``scheduler.courses`` does the work, inside one write transaction.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from sqlalchemy import select

from ..auth.api import current_actor
from ..auth.permissions import (
    can_manage_courses,
    can_view_course,
    is_admin,
    require,
    visible_courses,
)
from ..clock import now
from ..courses import (
    book_course,
    cancel_course,
    cancel_session,
    course_view,
    extend_course,
    get_course,
    pause_course,
    plan_and_book,
    proposal_plan,
    resume_course,
)
from ..courses.numbering import session_numbers
from ..courses.proposals import (
    Choice,
    CourseRequest,
    Names,
    course_request,
    other_times,
    propose,
    require_pin_held,
    swap_session,
)
from ..db import db, write_transaction
from ..errors import NotFound
from ..models import Appointment, Course, Room, StaffMember
from ..record_reads import note_read
from .access import action, get_or_404, visible_or_404
from .blueprint import Blueprint
from .responses import errors
from .schemas.courses import (
    BookRequestSchema,
    CancelledSchema,
    CancelSessionSchema,
    CourseQuerySchema,
    CourseSchema,
    CourseSummarySchema,
    ExtendSchema,
    OtherTimesRequestSchema,
    OtherTimesSchema,
    PlanRequestSchema,
    ProposalSchema,
    ReasonSchema,
    ResumeSchema,
    SwapProposalSchema,
    SwapRequestSchema,
    appointment_item,
    course_json,
    preferences_from,
    proposed_items,
)

blp = Blueprint(
    "courses",
    __name__,
    url_prefix="/api/courses",
    description="Plan and book a protocol as a course; follow, cancel, pause, resume, extend it",
)


def names(location_tz: str) -> Names:
    """Every room and staff name, for move previews (staff names are not patient data)."""
    rooms = {i: n for i, n in db.session.execute(select(Room.id, Room.name))}
    staff = {i: n for i, n in db.session.execute(select(StaffMember.id, StaffMember.name))}
    return Names(location_tz, rooms, staff)


def _request(data: dict[str, Any]) -> CourseRequest:
    overrides = data.get("override") or []
    if overrides:
        require(is_admin(current_actor()), "override a rule (admins only)")
    return CourseRequest(
        patient_id=data["patient_id"],
        location_id=data["location_id"],
        protocol_id=data.get("protocol_id"),
        protocol_version_id=data.get("protocol_version_id"),
        preferences=preferences_from(data.get("preferences")),
        earliest=data.get("earliest_start"),
        overrides=tuple(overrides),
    )


def _visible(course: Course) -> Course:
    viewer = current_actor()
    visible_or_404(can_view_course(db.session, viewer, course.patient_id), "course", course.id)
    note_read(viewer, course.patient_id)
    return course


def _answer(course: Course) -> dict[str, Any]:
    return course_json(course_view(db.session, course))


@blp.route("/plan", methods=["POST"])
@blp.arguments(PlanRequestSchema)
@blp.response(200, ProposalSchema)
@errors(blp, 400, 403, 409, 422)
def plan(data: dict[str, Any]) -> Any:
    """A proposal for the whole course: every appointment with its time, room, staff and pair.
    Writes nothing. When no complete plan exists, `complete` is false and `failure` says which
    appointment fails and why, with the partial plan and alternatives for that appointment.
    When the patient misses a precondition of the protocol (a completed induction, the REMS
    enrollment), 409 with rule `precondition` lists each in `missing`."""
    require(can_manage_courses(current_actor()), "plan courses")
    return propose(db.session, _request(data), now())


@blp.route("/plan/swap", methods=["POST"])
@blp.arguments(SwapRequestSchema)
@blp.response(200, SwapProposalSchema)
@errors(blp, 400, 403, 409, 422)
def swap(data: dict[str, Any]) -> Any:
    """The proposal with appointment `key` moved to `starts_at` (in `room_id`, with `staff`
    when given): every other appointment prefers where it was in `appointments`, and moves only
    when the protocol makes it follow (its pair, later spacing); `changed` lists what moved.
    Writes nothing. A time the appointment itself cannot take is 422 naming `starts_at` and
    why; when a later appointment then finds no time, `complete` is false as for a plan."""
    require(can_manage_courses(current_actor()), "plan courses")
    choice = Choice(
        starts_at=data["starts_at"],
        room_id=data.get("room_id"),
        staff=tuple((s["staff_id"], s["part"]) for s in data["staff"])
        if data.get("staff")
        else None,
    )
    result = swap_session(
        db.session, _request(data), proposed_items(data), data["key"], choice, now()
    )
    require_pin_held(result, data["key"])
    return result


@blp.route("/plan/alternatives", methods=["POST"])
@blp.arguments(OtherTimesRequestSchema)
@blp.response(200, OtherTimesSchema)
@errors(blp, 400, 403, 409, 422)
def alternatives(data: dict[str, Any]) -> Any:
    """Other times for appointment `key` of the proposal `appointments`: its earliest free
    times, one per day, each with the rules or preferences it would break (`breaks`). Writes
    nothing. A proposal that breaks the protocol is 422 naming the item; without
    `appointments` and no complete plan, 409 with rule `no_plan`."""
    require(can_manage_courses(current_actor()), "plan courses")
    return other_times(db.session, _request(data), proposed_items(data), data["key"], now())


@blp.route("")
class Courses(MethodView):
    @blp.arguments(CourseQuerySchema, location="query")
    @blp.response(200, CourseSummarySchema(many=True))
    @errors(blp, 422)
    def get(self, query: dict[str, Any]) -> Any:
        """Courses you may see, newest first; `patient_id` for one patient's."""
        statement = select(Course).order_by(Course.created_at.desc(), Course.id.desc())
        if query.get("patient_id") is not None:
            statement = statement.where(Course.patient_id == query["patient_id"])
        statement = visible_courses(current_actor(), statement)
        return [
            course_json(course_view(db.session, c), detail=False)
            for c in db.session.scalars(statement)
        ]

    @blp.arguments(BookRequestSchema)
    @blp.response(201, CourseSchema)
    @errors(blp, 400, 403, 409, 422)
    def post(self, data: dict[str, Any]) -> Any:
        """Book a course: the `appointments` of a proposal, or (without them) plan and book in
        one call. All or nothing. With `appointments`, if anything was taken meanwhile the
        answer is 409 naming the appointment and what is in the way, and nothing is written.
        Without them, a time taken meanwhile makes the server plan again (in turns with other
        plan-and-books at the location), so 409 means the course no longer fits."""
        require(can_manage_courses(current_actor()), "book courses")
        request = course_request(db.session, _request(data), now())
        items = proposed_items(data)
        if not items:
            course, _booked = plan_and_book(db.session, action("course.book"), request)
            return _answer(course)
        result = proposal_plan(request, items)
        with write_transaction(db.session):
            course, _booked = book_course(db.session, action("course.book"), request, result)
        return _answer(course)


@blp.route("/<int:course_id>", methods=["GET"])
@blp.response(200, CourseSchema)
@errors(blp, 403, 404)
def get(course_id: int) -> Any:
    """A course: status, progress (done of total), its appointments in order with their pairs."""
    return _answer(_visible(get_course(db.session, course_id)))


@blp.route("/<int:course_id>/cancel", methods=["POST"])
@blp.arguments(ReasonSchema)
@blp.response(200, CourseSchema)
@errors(blp, 400, 403, 404, 409, 422)
def cancel(data: dict[str, Any], course_id: int) -> Any:
    """Cancel the course: every appointment still to come is cancelled; history is kept."""
    require(can_manage_courses(current_actor()), "cancel courses")
    with write_transaction(db.session):
        course = get_course(db.session, course_id, lock=True)
        cancel_course(db.session, action("course.cancel"), course, data["reason"])
    return _answer(course)


@blp.route("/<int:course_id>/pause", methods=["POST"])
@blp.arguments(ReasonSchema)
@blp.response(200, CourseSchema)
@errors(blp, 400, 403, 404, 409, 422)
def pause(data: dict[str, Any], course_id: int) -> Any:
    """Pause the course: appointments still to come are cancelled until it is resumed."""
    require(can_manage_courses(current_actor()), "pause courses")
    with write_transaction(db.session):
        course = get_course(db.session, course_id, lock=True)
        pause_course(db.session, action("course.pause"), course, data["reason"])
    return _answer(course)


@blp.route("/<int:course_id>/resume", methods=["POST"])
@blp.arguments(ResumeSchema)
@blp.response(200, CourseSchema)
@errors(blp, 400, 403, 404, 409, 422)
def resume(data: dict[str, Any], course_id: int) -> Any:
    """Resume a paused course: the sessions not yet held are planned and booked from
    `earliest_start` (default now); their spacing to earlier sessions keeps its minimum."""
    require(can_manage_courses(current_actor()), "resume courses")
    with write_transaction(db.session):
        course = get_course(db.session, course_id, lock=True)
        resume_course(db.session, action("course.resume"), course, data.get("earliest_start"))
    return _answer(course)


@blp.route("/<int:course_id>/extend", methods=["POST"])
@blp.arguments(ExtendSchema)
@blp.response(200, CourseSchema)
@errors(blp, 400, 403, 404, 409, 422)
def extend(data: dict[str, Any], course_id: int) -> Any:
    """Book `sessions` more sessions of a maintenance (open-ended) course, with their pairs."""
    require(can_manage_courses(current_actor()), "extend courses")
    with write_transaction(db.session):
        course = get_course(db.session, course_id, lock=True)
        extend_course(
            db.session,
            action("course.extend"),
            course,
            data["sessions"],
            data.get("earliest_start"),
        )
    return _answer(course)


@blp.route("/<int:course_id>/appointments/<int:appointment_id>/cancel", methods=["POST"])
@blp.arguments(CancelSessionSchema)
@blp.response(200, CancelledSchema)
@errors(blp, 400, 403, 404, 409, 422)
def cancel_appointment(data: dict[str, Any], course_id: int, appointment_id: int) -> Any:
    """Cancel one appointment of the course, as `POST /api/appointments/{id}/cancel` does. A
    dose whose integration session is still to come needs `keep_integration`: true keeps that
    session, false cancels it too (422 without it). The cancelled dose keeps its number."""
    require(can_manage_courses(current_actor()), "cancel appointments")
    with write_transaction(db.session):
        appointment = get_or_404(Appointment, appointment_id, "appointment")
        if appointment.course_id != course_id:
            raise NotFound(f"No appointment {appointment_id} in course {course_id}")
        cancelled = cancel_session(
            db.session,
            action("course.cancel_appointment"),
            appointment,
            data["reason"],
            data.get("keep_integration"),
        )
    numbers = session_numbers(db.session, cancelled)
    return {"cancelled": [appointment_item(a, numbers=numbers) for a in cancelled]}
