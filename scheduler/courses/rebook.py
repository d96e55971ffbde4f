"""Rebooking a missed dose: after a dose is cancelled or missed (no-show), a replacement dose
with its pair is planned at the end of the series, keeping every spacing and window rule.

The replacement is planned as the step's next session (dose 5 missed: planned after dose 6) and
names the missed session it stands in for (``replaces_id``), so it shows the missed number
(``numbering.py``): each session keeps its number and the course again delivers its count.
When only the protocol's window or a maximum gap stands in the way, the answer says so and
offers the time an extension would allow; extending is a clinical decision, recorded on the
course with its reason (``Course.exceptions``, rule ``window``) and honoured by the integrity
check.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ..audit import Action, record
from ..errors import Conflict, ValidationFailed
from ..models import (
    COUNTED_STATUSES,
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    Course,
    CourseStatus,
)
from ..planning import Plan
from ..protocols import Step
from .booking import book_plan
from .course_state import (
    CourseState,
    course_appointments,
    course_state,
)
from .lifecycle import plan_sessions
from .others import other_dosing_courses, refuse_interleaving

MISSED = frozenset({AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW})
#: Sessions that happened or will: what a replacement is spaced from.
COUNTED = COUNTED_STATUSES
WINDOW_RULE = "window"


@dataclass
class Rebooked:
    plan: Plan
    booked: list[Appointment]
    #: The recorded extension, when the window had to give way.
    extension: dict[str, object] | None


def rebook_missed_dose(
    session: Session,
    action: Action,
    course: Course,
    missed_id: int,
    *,
    earliest: dt.datetime | None = None,
    extend_window_reason: str | None = None,
) -> Rebooked:
    """Plan and book a replacement for the missed dose ``missed_id`` with its pair."""
    if course.status not in (CourseStatus.ACTIVE, CourseStatus.COMPLETED):
        raise Conflict(
            f"Course {course.id} is {course.status.value}; only an active or completed course "
            "can rebook a missed dose",
            rule="course_status",
        )
    every = course_appointments(session, course)
    missed = next((a for a in every if a.id == missed_id), None)
    if missed is None:
        raise ValidationFailed({"appointment_id": f"no appointment {missed_id} in this course"})
    state = course_state(session, course)
    step = _step_of(state, missed)
    if missed.status not in MISSED:
        raise ValidationFailed(
            {"appointment_id": "only a cancelled or missed (no-show) session is rebooked"}
        )
    state.appointments = [a for a in every if a.status in COUNTED]
    delivered = sum(1 for a in state.appointments if a.step_key == step.key)
    if not step.open_ended and delivered >= step.finite_count:
        raise Conflict(
            f"The course already delivers {delivered} of {step.finite_count} sessions of "
            f"{step.label.lower()}; nothing to rebook",
            rule="nothing_to_plan",
        )
    number = max(a.sequence or 0 for a in every if a.step_key == step.key) + 1
    key = f"{step.key}-{number}"
    reason = (extend_window_reason or "").strip()
    new = {step.key: [number]}
    plan, _ = plan_sessions(session, action, state, new, earliest)
    extension: dict[str, object] | None = None
    if not plan.complete:
        loose, _ = plan_sessions(
            session, action, state, new, earliest, relaxed=frozenset({(step.key, number)})
        )
        if not loose.complete:
            assert plan.failure is not None
            raise Conflict(
                f"No replacement for {step.label.lower()} {missed.sequence}: "
                f"{plan.failure.message}",
                rule="no_plan",
                details={"failing": plan.failure.key},
            )
        if not reason:
            assert plan.failure is not None
            first = min(a.starts_at for a in loose.appointments if not a.fixed)
            raise Conflict(
                f"No replacement within the protocol's window or maximum gap: "
                f"{plan.failure.message}. Extending the window (a clinical decision, give "
                f"extend_window_reason) would allow it from {first.isoformat()}",
                rule="rebook_window",
                details={"possible_from": first.isoformat(), "appointment_key": key},
            )
        plan = loose
        extension = {
            "rule": WINDOW_RULE,
            "appointment_key": key,
            "reason": reason[:300],
            "by": action.actor.id if action.actor else None,
            "at": action.now.isoformat(),
        }
        course.exceptions = [*(course.exceptions or []), extension]
    doses = [(a.starts_at, a.ends_at) for a in plan.appointments if not a.fixed]
    others = other_dosing_courses(session, course.patient_id, exclude_course_id=course.id)
    refuse_interleaving(others, doses, "The replacement", new_course=False)
    standing = {a.key for a in plan.appointments if a.fixed}
    existing = {k: v.id for k, v in state.by_key.items() if k in standing}
    booked = book_plan(session, action, course, plan, existing)
    for appointment in booked:
        appointment.replaces_id = missed.id
    before = course.status.value
    course.status = CourseStatus.ACTIVE
    course.updated_at = action.now
    record(
        session,
        action,
        "course",
        course.id,
        {"status": before},
        {
            "status": course.status.value,
            "rebooked": missed.id,
            "replacement": [a.id for a in booked],
            **({"extension": extension} if extension else {}),
        },
        what="course.rebook",
    )
    return Rebooked(plan, booked, extension)


def _step_of(state: CourseState, missed: Appointment) -> Step:
    for step in state.definition.steps:
        if step.key == missed.step_key and step.kind == AppointmentKind.DOSING:
            return step
    raise ValidationFailed(
        {"appointment_id": "only a dose (a session with its pair) is rebooked this way"}
    )
