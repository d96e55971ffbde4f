"""A course as the planner sees it: its protocol definition, its live appointments as placed
elements, its pauses and preferences, loaded from the database."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import NotFound
from ..models import LIVE_STATUSES, Appointment, Course, Location, ProtocolVersion
from ..planning import (
    Placement,
    Preferences,
    Shape,
    Wanted,
    build_shape,
    to_epoch,
)
from ..protocols import ProtocolDefinition, definition_of
from .pauses import Pause, course_pauses, paused_days_before


@dataclass
class CourseState:
    course: Course
    version: ProtocolVersion
    definition: ProtocolDefinition
    tz: ZoneInfo
    #: Live appointments of the course (not cancelled), by start.
    appointments: list[Appointment]
    preferences: Preferences
    #: The course's ended pauses, oldest first: its protocol's clock stood still in them.
    pauses: list[Pause] = field(default_factory=list)

    @property
    def paused_days(self) -> int:
        return sum(p.days for p in self.pauses)

    @property
    def by_key(self) -> dict[str, Appointment]:
        return {
            f"{a.step_key}-{a.sequence}": a
            for a in self.appointments
            if a.step_key is not None and a.sequence is not None
        }


def get_course(session: Session, course_id: int, *, lock: bool = False) -> Course:
    query = select(Course).where(Course.id == course_id)
    if lock:
        query = query.with_for_update()
    course = session.scalars(query).first() if 0 < course_id < 2**31 else None
    if course is None:
        raise NotFound(f"No course {course_id}")
    return course


def course_appointments(session: Session, course: Course) -> list[Appointment]:
    """Every appointment of the course, cancelled ones too, by start."""
    return list(
        session.scalars(
            select(Appointment)
            .where(Appointment.course_id == course.id)
            .order_by(Appointment.starts_at, Appointment.id)
        )
    )


def course_state(session: Session, course: Course) -> CourseState:
    location = session.get(Location, course.location_id)
    assert location is not None
    return CourseState(
        course=course,
        version=course.protocol_version,
        definition=definition_of(course.protocol_version),
        tz=ZoneInfo(location.timezone),
        appointments=[a for a in course_appointments(session, course) if a.is_live],
        preferences=Preferences.from_json(course.preferences),
        pauses=course_pauses(session, course),
    )


def live_wanted(state: CourseState) -> Wanted:
    """The sessions and pairs the course's live appointments stand for, and the days the
    course stood paused before each."""
    sessions: dict[str, list[int]] = {}
    pairs: dict[str, set[int]] = {}
    paused: dict[str, int] = {}
    pair_steps = {s.pairing.key: s.key for s in state.definition.steps if s.pairing is not None}
    step_keys = {s.key for s in state.definition.steps}
    for a in state.appointments:
        if a.step_key in step_keys and a.sequence is not None:
            sessions.setdefault(a.step_key, []).append(a.sequence)
            days = paused_days_before(state.pauses, a.starts_at)
            if days:
                paused[f"{a.step_key}-{a.sequence}"] = days
    for a in state.appointments:
        step_key = pair_steps.get(a.step_key or "")
        if step_key is not None and a.sequence in sessions.get(step_key, []):
            pairs.setdefault(step_key, set()).add(a.sequence)  # type: ignore[arg-type]
    return Wanted(sessions, pairs, paused)


def placement_of(appointment: Appointment) -> Placement:
    return Placement(
        start=to_epoch(appointment.starts_at),
        end=to_epoch(appointment.ends_at),
        room_id=appointment.room_id,
        staff=tuple(sorted((p.staff_id, p.part) for p in appointment.participants)),
        buffer=appointment.buffer_minutes * 60,
    )


def shape_of(
    definition: ProtocolDefinition,
    wanted: Wanted,
    relaxed: Iterable[tuple[str, int]] = (),
    *,
    across_pauses: bool = False,
) -> Shape:
    return build_shape(definition, wanted, frozenset(relaxed), across_pauses=across_pauses)


def element_appointments(shape: Shape, state: CourseState) -> dict[int, Appointment]:
    """Element index -> the live appointment that stands for it."""
    by_key = state.by_key
    return {e.index: by_key[e.key] for e in shape.elements if e.key in by_key}


def with_preferences(state: CourseState, **changes: object) -> Preferences:
    return replace(state.preferences, **changes)  # type: ignore[arg-type]


def live(appointments: Iterable[Appointment]) -> list[Appointment]:
    return [a for a in appointments if a.status in LIVE_STATUSES]
