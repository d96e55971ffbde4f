"""The booking rules, judged again for sessions already booked: room, roles, opening hours,
closures, working hours, time off, and no double booking."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from sqlalchemy import and_, select
from sqlalchemy.orm import Session, aliased

from ..booking import rules
from ..models import (
    Appointment,
    Closure,
    ResourceClaim,
    TimeOff,
)
from .data import CourseData, Violation


def booking_violations(
    session: Session, targets: list[Appointment], courses: CourseData
) -> Iterable[Violation]:
    start = min(a.starts_at for a in targets)
    end = max(a.ends_at for a in targets)
    locations = {a.location_id for a in targets}
    closures: dict[int, list[Closure]] = defaultdict(list)
    for closure in session.scalars(
        select(Closure).where(
            Closure.location_id.in_(locations),
            Closure.ends_on >= (start - dt.timedelta(days=1)).date(),
            Closure.starts_on <= (end + dt.timedelta(days=1)).date(),
        )
    ):
        closures[closure.location_id].append(closure)
    staff_ids = {p.staff_id for a in targets for p in a.participants}
    time_off: dict[int, list[TimeOff]] = defaultdict(list)
    if staff_ids:
        for off in session.scalars(
            select(TimeOff).where(
                TimeOff.staff_id.in_(staff_ids), TimeOff.starts_at < end, TimeOff.ends_at > start
            )
        ):
            time_off[off.staff_id].append(off)
    kinds = _protocol_room_kinds(targets, courses)
    for a in targets:
        location = a.location
        tz = ZoneInfo(location.timezone)
        participants = [(p.staff, p.part) for p in a.participants]
        checks = (
            ("room", rules.check_room(a.room, a.kind, location, kinds.get(a.id))),
            ("staff_role", rules.check_parts(a.kind, participants)),
            ("opening_hours", rules.check_opening_hours(location, a.starts_at, a.ends_at)),
            (
                "closure",
                rules.check_closures(location, closures[a.location_id], a.starts_at, a.ends_at),
            ),
        )
        for rule, problem in checks:
            if problem:
                yield Violation(a.id, rule, problem)
        for member, _part in participants:
            problem = rules.check_working_hours(member, location, a.starts_at, a.ends_at)
            if problem:
                yield Violation(a.id, "working_hours", problem)
            problem = rules.check_time_off(member, time_off[member.id], a.starts_at, a.ends_at, tz)
            if problem:
                yield Violation(a.id, "time_off", problem)


def _protocol_room_kinds(
    targets: list[Appointment], courses: CourseData
) -> dict[int, frozenset[str]]:
    """A course appointment's room kinds come from its protocol step (narrower than the
    appointment kind's defaults)."""
    found: dict[int, frozenset[str]] = {}
    for a in targets:
        state = courses.states.get(a.course_id) if a.course_id is not None else None
        if state is None or a.step_key is None:
            continue
        for step in state.definition.steps:
            if step.key == a.step_key:
                found[a.id] = frozenset(step.room_kinds)
            elif step.pairing is not None and step.pairing.key == a.step_key:
                found[a.id] = frozenset(step.pairing.room_kinds)
    return found


def overlaps(session: Session, targets: list[Appointment]) -> Iterable[Violation]:
    """Claims of two live appointments that overlap: the database forbids them on
    PostgreSQL, so this finds only what SQLite let through or data imported around booking."""
    ids = [a.id for a in targets]
    mine, other = aliased(ResourceClaim), aliased(ResourceClaim)
    rows = session.execute(
        select(mine.appointment_id, mine.resource, other.appointment_id)
        .join(
            other,
            and_(
                other.resource == mine.resource,
                other.resource_id == mine.resource_id,
                other.appointment_id != mine.appointment_id,
                other.active,
                other.starts_at < mine.ends_at,
                other.ends_at > mine.starts_at,
            ),
        )
        .where(mine.appointment_id.in_(ids), mine.active)
    ).all()
    seen: set[tuple[int, int]] = set()
    for appointment_id, resource, other_id in rows:
        if (appointment_id, other_id) in seen:
            continue
        seen.add((appointment_id, other_id))
        if resource == "dose":
            continue  # reported with the course that brought it (``_dosing_violations``)
        yield Violation(
            appointment_id,
            "overlap",
            f"Double booking: the {resource} is also booked in appointment {other_id}",
        )
