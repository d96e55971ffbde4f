"""A course's life after booking: cancel it, pause and resume it, extend a maintenance course.

Past and completed appointments are history and stay as they are; only appointments still to
come are cancelled or planned. Every change goes through ``scheduler.booking`` and the audit
log, under the one action the caller gives.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from ..audit import Action, record
from ..booking import cancel_appointment
from ..errors import Conflict, ValidationFailed
from ..models import Appointment, AppointmentStatus, Course, CourseStatus
from ..planning import Plan, Wanted
from .booking import book_plan
from .state import (
    CourseState,
    Request,
    course_appointments,
    course_state,
    element_appointments,
    live_wanted,
    placement_of,
    run_planner,
    shape_of,
)

#: Appointments still to come that a cancellation or pause takes back.
OPEN = frozenset({AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED})
MAX_EXTENSION = 26


def _reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise ValidationFailed({"reason": "a reason is required"})
    if "\x00" in text:
        raise ValidationFailed({"reason": "must not contain NUL characters"})
    return text[:200]


def _require(course: Course, allowed: set[CourseStatus], verb: str) -> None:
    if course.status not in allowed:
        raise Conflict(
            f"Course {course.id} is {course.status.value} and cannot be {verb}",
            rule="course_status",
        )


def _audit(session: Session, action: Action, course: Course, before: str, what: str) -> None:
    record(
        session,
        action,
        "course",
        course.id,
        {"status": before},
        {"status": course.status.value, "cancel_reason": course.cancel_reason},
        what=what,
    )


def _take_back(
    session: Session, action: Action, state: CourseState, reason: str
) -> list[Appointment]:
    cancelled = []
    for appointment in state.appointments:
        if appointment.status in OPEN and appointment.starts_at >= action.now:
            cancelled.append(cancel_appointment(session, appointment, action, reason))
    return cancelled


def cancel_course(
    session: Session, action: Action, course: Course, reason: str | None
) -> list[Appointment]:
    """Cancel the course and every appointment still to come; history is kept."""
    text = _reason(reason)
    _require(course, {CourseStatus.ACTIVE, CourseStatus.PAUSED}, "cancelled")
    before = course.status.value
    cancelled = _take_back(
        session, action, course_state(session, course), f"Course cancelled: {text}"
    )
    course.status = CourseStatus.CANCELLED
    course.cancel_reason = text
    course.updated_at = action.now
    _audit(session, action, course, before, "course.cancel")
    return cancelled


def pause_course(
    session: Session, action: Action, course: Course, reason: str | None
) -> list[Appointment]:
    """Pause: the appointments still to come are cancelled, to be planned again on resume."""
    text = _reason(reason)
    _require(course, {CourseStatus.ACTIVE}, "paused")
    cancelled = _take_back(session, action, course_state(session, course), f"Course paused: {text}")
    course.status = CourseStatus.PAUSED
    course.cancel_reason = text
    course.updated_at = action.now
    _audit(session, action, course, "active", "course.pause")
    return cancelled


def resume_course(
    session: Session, action: Action, course: Course, earliest: dt.datetime | None
) -> tuple[Plan, list[Appointment]]:
    """Plan and book the sessions not yet held (and their pairs) from ``earliest``.

    After a pause the spacing to the sessions already held keeps its minimum only: a maximum
    gap or an overall window measured from before the pause cannot be kept. Among the resumed
    sessions every rule holds again.
    """
    _require(course, {CourseStatus.PAUSED}, "resumed")
    state = course_state(session, course)
    wanted = live_wanted(state)
    everything = _all_sequences(session, course)
    new: dict[str, list[int]] = {}
    for step in state.definition.steps:
        target = step.planned_count(state.preferences.sessions_ahead)
        target = max(target, max(everything.get(step.key, [0])))
        have = set(wanted.sessions.get(step.key, []))
        new[step.key] = [n for n in range(1, target + 1) if n not in have]
    relaxed = {(key, seqs[0]) for key, seqs in new.items() if seqs and wanted.sessions.get(key)}
    plan, booked = _plan_and_book(session, action, state, new, relaxed, earliest)
    course.status = CourseStatus.ACTIVE
    course.cancel_reason = None
    course.updated_at = action.now
    _audit(session, action, course, "paused", "course.resume")
    return plan, booked


def extend_course(
    session: Session,
    action: Action,
    course: Course,
    sessions: int,
    earliest: dt.datetime | None = None,
) -> tuple[Plan, list[Appointment]]:
    """Book ``sessions`` more sessions (with their pairs) of the protocol's open-ended step."""
    if not 1 <= sessions <= MAX_EXTENSION:
        raise ValidationFailed({"sessions": f"must be between 1 and {MAX_EXTENSION}"})
    _require(course, {CourseStatus.ACTIVE}, "extended")
    state = course_state(session, course)
    steps = state.definition.open_ended_steps
    if not steps:
        raise Conflict(
            "This course's protocol has no open-ended (maintenance) step to extend",
            rule="not_extendable",
        )
    step = steps[0]
    last = max(_all_sequences(session, course).get(step.key, [0]))
    new = {step.key: list(range(last + 1, last + sessions + 1))}
    plan, booked = _plan_and_book(session, action, state, new, set(), earliest)
    course.updated_at = action.now
    record(
        session,
        action,
        "course",
        course.id,
        None,
        {"extended_by": sessions, "step": step.key},
        what="course.extend",
    )
    return plan, booked


def _all_sequences(session: Session, course: Course) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for a in course_appointments(session, course):
        if a.step_key is not None and a.sequence is not None:
            found.setdefault(a.step_key, []).append(a.sequence)
    return found


def _plan_and_book(
    session: Session,
    action: Action,
    state: CourseState,
    new: dict[str, list[int]],
    relaxed: set[tuple[str, int]],
    earliest: dt.datetime | None,
) -> tuple[Plan, list[Appointment]]:
    """Plan the ``new`` sessions around the course's live appointments (which stay) and book."""
    wanted = live_wanted(state)
    sessions = {k: sorted(set(v) | set(new.get(k, []))) for k, v in wanted.sessions.items()}
    for key, seqs in new.items():
        sessions.setdefault(key, sorted(seqs))
    pairs = {k: set(v) for k, v in wanted.pairs.items()}
    prefs = state.preferences
    for step in state.definition.steps:
        if step.pairing is not None and (prefs.include_optional or not step.pairing.optional):
            pairs.setdefault(step.key, set()).update(new.get(step.key, []))
    shape = shape_of(state.definition, Wanted(sessions, pairs), relaxed)
    standing = element_appointments(shape, state)
    if len(standing) == len(shape):
        raise Conflict("Nothing is left to plan for this course", rule="nothing_to_plan")
    request = Request(
        shape=shape,
        preferences=prefs,
        earliest=max(earliest or action.now, action.now),
        fixed={i: placement_of(a) for i, a in standing.items()},
        own_appointments={a.id for a in standing.values()},
    )
    plan = run_planner(
        session,
        location_id=state.course.location_id,
        patient_id=state.course.patient_id,
        request=request,
    )
    if not plan.complete:
        assert plan.failure is not None
        raise Conflict(
            f"No complete plan: {plan.failure.message}",
            rule="no_plan",
            details={"failing": plan.failure.key},
        )
    existing = {shape.elements[i].key: a.id for i, a in standing.items()}
    return plan, book_plan(session, action, state.course, plan, existing)
