"""A course as the planner sees it: its protocol definition, its live appointments as placed
elements, and running the planner against the database for the window it needs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..booking.dosing import dosing_interval
from ..errors import NotFound
from ..models import LIVE_STATUSES, Appointment, Course, Location, ProtocolVersion
from ..planning import (
    Pin,
    Placement,
    Plan,
    Preferences,
    Problem,
    Shape,
    Wanted,
    build_shape,
    load_availability,
    needed_roles,
    plan_elements,
    to_epoch,
)
from ..planning.shape import min_separations, tails
from ..protocols import ProtocolDefinition, definition_of
from .pauses import Pause, course_pauses, paused_days_before

#: How far past the course's shortest length the planner looks for a start, growing when a
#: plan runs into the end of the loaded window.
SLACK_DAYS = (4, 30, 120, 400)


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


@dataclass
class Request:
    """What to plan: a shape, what stays, what must go where, and the planner's settings."""

    shape: Shape
    preferences: Preferences
    earliest: dt.datetime
    fixed: dict[int, Placement] = field(default_factory=dict)
    pinned: dict[int, Pin] = field(default_factory=dict)
    current: dict[int, Placement] = field(default_factory=dict)
    targets: dict[int, int] = field(default_factory=dict)
    order: str = "earliest"
    quality: bool = True
    #: Appointments standing for elements: their claims are the plan's own, not obstacles.
    own_appointments: set[int] = field(default_factory=set)
    #: A time the plan must reach (a move's new time), so the window covers it.
    reach: dt.datetime | None = None


def run_planner(session: Session, *, location_id: int, patient_id: int, request: Request) -> Plan:
    """Load availability for the window the plan needs and plan; when a plan runs into the end
    of the window, load a longer one and plan again."""
    shape = request.shape
    separations = min_separations(shape)
    span = max(tails(shape, separations), default=0)
    kinds = {k for e in shape.elements for k in e.room_kinds}
    roles = needed_roles(p for e in shape.elements for p in e.parts)
    start = request.earliest.replace(second=0, microsecond=0)
    if start < request.earliest:
        start += dt.timedelta(minutes=1)
    anchor = max(start, request.reach or start)
    plan: Plan | None = None
    for number, slack in enumerate(SLACK_DAYS):
        horizon = anchor + dt.timedelta(seconds=span, days=slack)
        availability = load_availability(
            session,
            location_id=location_id,
            patient_id=patient_id,
            start=start,
            end=horizon + dt.timedelta(days=1),
            room_kinds=kinds,
            roles=roles,
            exclude_appointments=request.own_appointments,
            dose_margin=dosing_interval() / 2,
        )
        problem = Problem(
            shape=shape,
            earliest=to_epoch(start),
            horizon=to_epoch(horizon),
            preferences=request.preferences,
            fixed=request.fixed,
            pinned=request.pinned,
            current=request.current,
            targets=request.targets,
            order=request.order,
            stop_at_horizon=number < len(SLACK_DAYS) - 1,
        )
        plan = plan_elements(problem, availability, quality=request.quality)
        if plan.complete:
            return plan
        retry = plan.truncated or (plan.failure is not None and plan.failure.exhausted)
        if not retry:
            break
    assert plan is not None
    return plan


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
