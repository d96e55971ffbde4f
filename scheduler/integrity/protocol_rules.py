"""A course's protocol, judged over its sessions as they now stand: spacing, phases, windows
and pairs (through the constraints the planner obeys, never its search), prerequisites within
the course, and the protocol's preconditions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy.orm import Session

from ..courses.course_state import (
    element_appointments,
    live_wanted,
    placement_of,
    shape_of,
)
from ..courses.pauses import relaxed_rules
from ..courses.preconditions import missing_preconditions
from ..models import (
    Appointment,
    AppointmentKind,
    Course,
    CourseStatus,
)
from ..planning import Placement
from ..planning.checks import violations as protocol_violations
from ..protocols import ProtocolDefinition
from .data import HELD, CourseData, Violation


def course_violations(
    session: Session, courses: CourseData, targets: list[Appointment], now: dt.datetime
) -> Iterable[Violation]:
    judged = {a.id for a in targets}
    for course_id, course in courses.courses.items():
        if course.status == CourseStatus.CANCELLED:
            continue
        yield from _protocol(session, courses, course_id, judged, now)


def _relaxed(session: Session, course: Course) -> set[tuple[str, int]]:
    """Elements whose maxima a clinical decision relaxed: a resume after a pause, a window
    extended to rebook a missed dose (each recorded with its reason)."""
    found: set[tuple[str, int]] = set()
    for item in relaxed_rules(session, course):
        key = item.get("appointment_key")
        if isinstance(key, str) and "-" in key:
            step, _, number = key.rpartition("-")
            if number.isdigit():
                found.add((step, int(number)))
    return found


def _protocol(
    session: Session, courses: CourseData, course_id: int, judged: set[int], now: dt.datetime
) -> Iterable[Violation]:
    course = courses.courses[course_id]
    state = courses.states[course_id]
    every = [a for a in courses.appointments[course_id] if a.step_key is not None]
    definition = state.definition
    wanted = live_wanted(state)
    shape = shape_of(definition, wanted, _relaxed(session, course))
    standing = element_appointments(shape, state)
    placements: list[Placement | None] = [None] * len(shape)
    fixed: set[int] = set()
    for index, appointment in standing.items():
        placements[index] = placement_of(appointment)
        if appointment.starts_at < now or appointment.status in HELD:
            fixed.add(index)
    for index, message in protocol_violations(shape, placements, state.tz, fixed=fixed):
        appointment = standing[index]
        if appointment.id in judged:
            yield Violation(appointment.id, "protocol", message)
    yield from _missing_pairs(state.appointments, every, definition, judged)
    yield from _missing_prerequisites(state.appointments, every, definition, judged)
    yield from _preconditions(session, course, definition, state.appointments, judged, now)


def _missing_pairs(
    counted: list[Appointment],
    every: list[Appointment],
    definition: ProtocolDefinition,
    judged: set[int],
) -> Iterable[Violation]:
    """A dose whose integration session was cancelled (or a required one never booked)."""
    pairs = {a.paired_with_id for a in counted if a.paired_with_id is not None}
    ever_paired = {a.paired_with_id for a in every if a.paired_with_id is not None}
    for a in counted:
        if a.id not in judged or a.step_key is None:
            continue
        try:
            step = definition.step(a.step_key)
        except KeyError:
            continue
        if step.pairing is None or a.id in pairs:
            continue
        if step.pairing.optional and a.id not in ever_paired:
            continue
        what = step.pairing.label.lower()
        why = "was cancelled" if a.id in ever_paired else "is not booked"
        yield Violation(
            a.id,
            "pair_missing",
            f"Its {what} {why}: book one {step.pairing.min_after} to "
            f"{step.pairing.max_after} after the session, or re-plan the session with its pair",
        )


def _missing_prerequisites(
    counted: list[Appointment],
    every: list[Appointment],
    definition: ProtocolDefinition,
    judged: set[int],
) -> Iterable[Violation]:
    """The first session of a step that needs another step first (a dose after the
    evaluation) when that step's session was cancelled."""
    have = {a.step_key for a in counted}
    ever = {a.step_key for a in every}
    for step in definition.steps:
        for before in step.after:
            if before.step in have or before.step not in ever:
                continue
            sessions = [a for a in counted if a.step_key == step.key]
            if not sessions:
                continue
            first = min(sessions, key=lambda a: (a.starts_at, a.id))
            if first.id in judged:
                label = definition.step(before.step).label
                yield Violation(
                    first.id,
                    "prerequisite",
                    f"{label} was cancelled: it must be held before this session; book it "
                    "again or re-plan the course",
                )


def _preconditions(
    session: Session,
    course: Course,
    definition: ProtocolDefinition,
    counted: list[Appointment],
    judged: set[int],
    now: dt.datetime,
) -> Iterable[Violation]:
    """A precondition that no longer holds before the course's first dose (an induction
    cancelled, an enrollment removed), unless an admin recorded an exception for it."""
    doses = [a for a in counted if a.kind == AppointmentKind.DOSING]
    if not doses or any(a.status in HELD or a.starts_at < now for a in doses):
        return
    first = min(doses, key=lambda a: (a.starts_at, a.id))
    if first.id not in judged:
        return
    excepted = {str(item.get("rule")) for item in course.exceptions or []}
    for missing in missing_preconditions(
        session,
        patient_id=course.patient_id,
        definition=definition,
        now=now,
        exclude_course_id=course.id,
    ):
        if missing.rule not in excepted:
            yield Violation(first.id, missing.rule, missing.message)
