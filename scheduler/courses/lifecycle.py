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
from ..models import OPEN_STATUSES, Appointment, AppointmentKind, Course, CourseStatus
from ..planning import Plan, Wanted
from ..planning.shape import pause_exceptions
from .booking import book_plan
from .course_state import (
    CourseState,
    course_appointments,
    course_state,
    element_appointments,
    live_wanted,
    placement_of,
    shape_of,
)
from .others import (
    has_override,
    lock_patient,
    not_before,
    other_dosing_courses,
    refuse_interleaving,
)
from .pauses import PAUSE, RESUME, Pause, paused_since
from .plan_request import Request, run_planner

#: Appointments still to come that a cancellation or pause takes back.
OPEN = OPEN_STATUSES
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
    session: Session,
    action: Action,
    state: CourseState,
    reason: str,
    *,
    keep_pairs_of_held: bool = False,
) -> list[Appointment]:
    due = [a for a in state.appointments if a.status in OPEN and a.starts_at >= action.now]
    if keep_pairs_of_held:
        # A dose already given keeps its integration session: the pause stops the course,
        # not the care that goes with a dose the patient has had.
        going = {a.id for a in due}
        due = [a for a in due if a.paired_with_id is None or a.paired_with_id in going]
    return [cancel_appointment(session, a, action, reason) for a in due]


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
    """Pause: the appointments still to come are cancelled, to be planned again on resume,
    except the integration sessions of doses already given."""
    text = _reason(reason)
    _require(course, {CourseStatus.ACTIVE}, "paused")
    cancelled = _take_back(
        session,
        action,
        course_state(session, course),
        f"Course paused: {text}",
        keep_pairs_of_held=True,
    )
    course.status = CourseStatus.PAUSED
    course.cancel_reason = text
    course.updated_at = action.now
    _audit(session, action, course, "active", PAUSE)
    return cancelled


def resume_course(
    session: Session, action: Action, course: Course, earliest: dt.datetime | None
) -> tuple[Plan, list[Appointment]]:
    """Plan and book the sessions not yet held (and their pairs) from ``earliest``.

    The protocol's clock stood still while the course was paused, from the pause to the
    resume's earliest start: resumed sessions keep their phase, weeks counting from the course
    start plus the paused days, and every rule holds among them; the minimum gap to the sessions
    held before the pause holds in real time. A maximum reaching back across the pause (to the
    last held session, or the step's overall window) counts on the course's clock; if no plan
    keeps even that, it is dropped. Each maximum exceeded in real time is recorded on the course
    (``Course.exceptions``: rule, appointment key, the pause as its reason).
    """
    _require(course, {CourseStatus.PAUSED}, "resumed")
    state = course_state(session, course)
    start = max(earliest or action.now, action.now)
    pause = Pause.between(paused_since(session, course), start, state.tz)
    state.pauses.append(pause)
    wanted = live_wanted(state)
    everything = _all_sequences(session, course)
    new: dict[str, list[int]] = {}
    for step in state.definition.steps:
        target = step.planned_count(state.preferences.sessions_ahead)
        target = max(target, max(everything.get(step.key, [0])))
        have = set(wanted.sessions.get(step.key, []))
        new[step.key] = [n for n in range(1, target + 1) if n not in have]
    plan, standing = plan_sessions(session, action, state, new, earliest)
    if not plan.complete and state.paused_days:
        # Whatever still fails once the maxima across the pause give way is the one to report.
        plan, standing = plan_sessions(session, action, state, new, earliest, across_pauses=True)
    booked = _book(session, action, state, plan, standing)
    reason = pause.reason(state.tz)
    exceptions = [
        {
            "rule": rule,
            "appointment_key": plan.shape.elements[i].key,
            "reason": reason,
            "detail": detail,
            "by": action.actor.id if action.actor else None,
            "at": action.now.isoformat(),
        }
        for i, rule, detail in pause_exceptions(plan.shape, plan.placements, state.tz)
        if i not in standing
    ]
    if exceptions:
        # A new list: the JSON column is saved when the attribute is assigned.
        course.exceptions = [*(course.exceptions or []), *exceptions]
    course.status = CourseStatus.ACTIVE
    course.cancel_reason = None
    course.updated_at = action.now
    record(
        session,
        action,
        "course",
        course.id,
        {"status": "paused"},
        {
            "status": course.status.value,
            "cancel_reason": None,
            "pause": pause.as_json(),
            "exceptions": exceptions,
        },
        what=RESUME,
    )
    return plan, booked


def extend_course(
    session: Session,
    action: Action,
    course: Course,
    sessions: int,
    earliest: dt.datetime | None = None,
) -> tuple[Plan, list[Appointment]]:
    """Book ``sessions`` more sessions (with their pairs) of the protocol's open-ended step. A
    maintenance course that completed (everything booked was held) becomes active again."""
    if not 1 <= sessions <= MAX_EXTENSION:
        raise ValidationFailed({"sessions": f"must be between 1 and {MAX_EXTENSION}"})
    _require(course, {CourseStatus.ACTIVE, CourseStatus.COMPLETED}, "extended")
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
    plan, booked = _plan_and_book(session, action, state, new, earliest)
    before = course.status.value
    course.status = CourseStatus.ACTIVE
    course.updated_at = action.now
    record(
        session,
        action,
        "course",
        course.id,
        {"status": before},
        {"extended_by": sessions, "step": step.key, "status": course.status.value},
        what="course.extend",
    )
    return plan, booked


def _all_sequences(session: Session, course: Course) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for a in course_appointments(session, course):
        if a.step_key is not None and a.sequence is not None:
            found.setdefault(a.step_key, []).append(a.sequence)
    return found


def plan_sessions(
    session: Session,
    action: Action,
    state: CourseState,
    new: dict[str, list[int]],
    earliest: dt.datetime | None,
    *,
    across_pauses: bool = False,
    relaxed: frozenset[tuple[str, int]] = frozenset(),
) -> tuple[Plan, dict[int, Appointment]]:
    """Plan the ``new`` sessions around the course's live appointments (which stay): the plan,
    complete or not, and the appointments standing for its elements. ``across_pauses``: drop
    the maxima that span a pause; ``relaxed``: sessions whose maxima a recorded decision drops
    (see ``build_shape``)."""
    wanted = live_wanted(state)
    sessions = {k: sorted(set(v) | set(new.get(k, []))) for k, v in wanted.sessions.items()}
    for key, seqs in new.items():
        sessions.setdefault(key, sorted(seqs))
    pairs = {k: set(v) for k, v in wanted.pairs.items()}
    prefs = state.preferences
    for step in state.definition.steps:
        if step.pairing is not None and (prefs.include_optional or not step.pairing.optional):
            pairs.setdefault(step.key, set()).update(new.get(step.key, []))
    # New sessions come after every pause so far: the course's clock has lost all of them.
    paused = dict(wanted.paused)
    if state.paused_days:
        paused.update((f"{key}-{n}", state.paused_days) for key, seqs in new.items() for n in seqs)
    shape = shape_of(
        state.definition, Wanted(sessions, pairs, paused), relaxed, across_pauses=across_pauses
    )
    standing = element_appointments(shape, state)
    if len(standing) == len(shape):
        raise Conflict("Nothing is left to plan for this course", rule="nothing_to_plan")
    start = max(earliest or action.now, action.now)
    course = state.course
    if not has_override(course):
        # One dosing course at a time: what is planned now comes after the patient's others.
        others = other_dosing_courses(session, course.patient_id, exclude_course_id=course.id)
        start = max(start, not_before(others) or start)
    request = Request(
        shape=shape,
        preferences=prefs,
        earliest=start,
        fixed={i: placement_of(a) for i, a in standing.items()},
        own_appointments={a.id for a in standing.values()},
    )
    plan = run_planner(
        session,
        location_id=state.course.location_id,
        patient_id=state.course.patient_id,
        request=request,
    )
    return plan, standing


def _book(
    session: Session,
    action: Action,
    state: CourseState,
    plan: Plan,
    standing: dict[int, Appointment],
) -> list[Appointment]:
    if not plan.complete:
        assert plan.failure is not None
        raise Conflict(
            f"No complete plan: {plan.failure.message}",
            rule="no_plan",
            details={"failing": plan.failure.key},
        )
    course = state.course
    lock_patient(session, course.patient_id)
    if not has_override(course):
        doses = [
            (a.starts_at, a.ends_at)
            for a in plan.appointments
            if not a.fixed and a.kind == AppointmentKind.DOSING
        ]
        others = other_dosing_courses(session, course.patient_id, exclude_course_id=course.id)
        refuse_interleaving(others, doses, "The new sessions", new_course=False)
    existing = {plan.shape.elements[i].key: a.id for i, a in standing.items()}
    return book_plan(session, action, course, plan, existing)


def _plan_and_book(
    session: Session,
    action: Action,
    state: CourseState,
    new: dict[str, list[int]],
    earliest: dt.datetime | None,
) -> tuple[Plan, list[Appointment]]:
    plan, standing = plan_sessions(session, action, state, new, earliest)
    return plan, _book(session, action, state, plan, standing)
