"""Everything the planner may look at, loaded for exactly the window it plans in.

The planner itself never queries: it gets this snapshot. Loading reads only the rooms and staff
that could take part, and only the claims that overlap the window, through the
``(resource, resource_id, starts_at)`` index, with instants as epoch seconds computed by the
database so that no row becomes a Python datetime.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, Integer, and_, cast, func, or_, select
from sqlalchemy.orm import Session, selectinload

from ..models import (
    ROLE_FOR_PART,
    Closure,
    Location,
    ResourceClaim,
    Role,
    Room,
    RoomKind,
    StaffMember,
    StaffPart,
    TimeOff,
    WorkingHours,
)
from .timeline import HOUR, to_epoch

#: A claim lasts at most an appointment's 12 hours plus a 4-hour turnover, so claims that start
#: this long before the window cannot reach into it: a lower bound the index can use.
LONGEST_CLAIM = 16 * HOUR

Interval = tuple[int, int]


@dataclass
class Availability:
    location: Location
    tz: ZoneInfo
    rooms: list[Room]
    staff: list[StaffMember]
    closures: list[Closure]
    time_off: dict[int, list[TimeOff]]
    #: Busy spans per resource ("patient" | "room" | "staff", id), epoch seconds, unsorted.
    busy: dict[tuple[str, int], list[Interval]]
    patient_id: int
    start: int
    end: int
    #: Which appointment holds each busy span, for messages: (resource, id, start) -> id.
    holders: dict[tuple[str, int, int], int] = field(default_factory=dict)


def needed_roles(parts: Iterable[StaffPart]) -> set[Role]:
    return {ROLE_FOR_PART[p] for p in parts}


def load_availability(
    session: Session,
    *,
    location_id: int,
    patient_id: int,
    start: dt.datetime,
    end: dt.datetime,
    room_kinds: Iterable[RoomKind],
    roles: Iterable[Role],
    exclude_appointments: Iterable[int] = (),
) -> Availability:
    location = session.scalars(
        select(Location)
        .where(Location.id == location_id)
        .options(selectinload(Location.opening_hours))
    ).one()
    tz = ZoneInfo(location.timezone)
    kinds = sorted(set(room_kinds))
    rooms = list(
        session.scalars(
            select(Room)
            .where(Room.location_id == location_id, Room.active, Room.kind.in_(kinds))
            .order_by(Room.id)
        )
    )
    wanted_roles = set(roles)
    works_here = select(WorkingHours.staff_id).where(WorkingHours.location_id == location_id)
    staff = [
        member
        for member in session.scalars(
            select(StaffMember)
            .where(StaffMember.active, StaffMember.id.in_(works_here))
            .options(selectinload(StaffMember.working_hours), selectinload(StaffMember.role_rows))
            .order_by(StaffMember.id)
        )
        if member.roles & wanted_roles
    ]
    first_day = start.astimezone(tz).date() - dt.timedelta(days=1)
    last_day = end.astimezone(tz).date() + dt.timedelta(days=1)
    closures = list(
        session.scalars(
            select(Closure).where(
                Closure.location_id == location_id,
                Closure.starts_on <= last_day,
                Closure.ends_on >= first_day,
            )
        )
    )
    staff_ids = [m.id for m in staff]
    time_off: dict[int, list[TimeOff]] = {}
    if staff_ids:
        for off in session.scalars(
            select(TimeOff).where(
                TimeOff.staff_id.in_(staff_ids), TimeOff.starts_at < end, TimeOff.ends_at > start
            )
        ):
            time_off.setdefault(off.staff_id, []).append(off)
    busy, holders = _claims(
        session,
        patient_id=patient_id,
        room_ids=[r.id for r in rooms],
        staff_ids=staff_ids,
        start=start,
        end=end,
        exclude=set(exclude_appointments),
    )
    return Availability(
        location=location,
        tz=tz,
        rooms=rooms,
        staff=staff,
        closures=closures,
        time_off=time_off,
        busy=busy,
        patient_id=patient_id,
        start=to_epoch(start),
        end=to_epoch(end),
        holders=holders,
    )


def _epoch(column, dialect: str):  # type: ignore[no-untyped-def]
    if dialect == "postgresql":
        return cast(func.extract("epoch", column), BigInteger)
    return cast(func.strftime("%s", column), Integer)


def _claims(
    session: Session,
    *,
    patient_id: int,
    room_ids: list[int],
    staff_ids: list[int],
    start: dt.datetime,
    end: dt.datetime,
    exclude: set[int],
) -> tuple[dict[tuple[str, int], list[Interval]], dict[tuple[str, int, int], int]]:
    dialect = session.get_bind().dialect.name
    who = [and_(ResourceClaim.resource == "patient", ResourceClaim.resource_id == patient_id)]
    if room_ids:
        who.append(and_(ResourceClaim.resource == "room", ResourceClaim.resource_id.in_(room_ids)))
    if staff_ids:
        who.append(
            and_(ResourceClaim.resource == "staff", ResourceClaim.resource_id.in_(staff_ids))
        )
    query = select(
        ResourceClaim.resource,
        ResourceClaim.resource_id,
        _epoch(ResourceClaim.starts_at, dialect),
        _epoch(ResourceClaim.ends_at, dialect),
        ResourceClaim.appointment_id,
    ).where(
        ResourceClaim.active,
        or_(*who),
        ResourceClaim.starts_at >= start - dt.timedelta(seconds=LONGEST_CLAIM),
        ResourceClaim.starts_at < end,
        ResourceClaim.ends_at > start,
    )
    busy: dict[tuple[str, int], list[Interval]] = {}
    holders: dict[tuple[str, int, int], int] = {}
    for resource, resource_id, s, e, appointment_id in session.execute(query):
        if appointment_id in exclude:
            continue
        busy.setdefault((resource, resource_id), []).append((int(s), int(e)))
        holders[(resource, resource_id, int(s))] = appointment_id
    return busy, holders
