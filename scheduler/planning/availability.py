"""Everything the planner may look at, loaded for exactly the window it plans in.

The planner itself never queries: it gets this snapshot. Loading reads only the rooms and staff
that could take part, and only the claims that overlap the window, through the
``(resource, resource_id, starts_at)`` index, with instants as epoch seconds computed by the
database so that no row becomes a Python datetime.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    Connection,
    Engine,
    String,
    bindparam,
    cast,
    func,
    select,
    type_coerce,
)
from sqlalchemy.orm import Session, selectinload

from ..db import end_reading
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
from .timeline import HOUR, from_epoch, to_epoch

#: A claim lasts at most an appointment's 12 hours plus a 4-hour turnover, so claims that start
#: this long before the window cannot reach into it: a lower bound the index can use.
LONGEST_CLAIM = 16 * HOUR
#: A ``dose`` claim also carries the patient's dosing interval (at most 14 days).
LONGEST_DOSE_CLAIM = LONGEST_CLAIM + 14 * 24 * HOUR

Interval = tuple[int, int]


@dataclass
class Availability:
    location: Location
    tz: ZoneInfo
    rooms: list[Room]
    staff: list[StaffMember]
    closures: list[Closure]
    time_off: dict[int, list[TimeOff]]
    #: Busy spans per resource ("patient" | "room" | "staff", id), epoch seconds, unsorted:
    #: a dict, or ``Claims`` read from the database for each resource the planner looks at.
    busy: Mapping[tuple[str, int], list[Interval]]
    patient_id: int
    start: int
    end: int
    #: Half the clinic's minimum dosing interval, seconds: a dose planned at [s, e) must not
    #: meet the patient's ``dose`` claims within [s - margin, e + margin).
    dose_margin: int = 0


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
    dose_margin: dt.timedelta = dt.timedelta(0),
    release: bool = False,
) -> Availability:
    """``release``: end the session's transaction once the rows are read (when it has only
    read), and read claims during the search each on a pooled connection of their own, so
    that no transaction stays open while the planner thinks."""
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
    released = release and end_reading(session)
    busy = Claims(session, start, end, set(exclude_appointments), own_connections=released)
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
        dose_margin=int(dose_margin.total_seconds()),
    )


def within(
    availability: Availability,
    session: Session,
    end: dt.datetime,
    exclude_appointments: Iterable[int] = (),
    release: bool = False,
) -> Availability:
    """The same location, rooms, staff, closures and time off for a window ending at ``end``
    (inside the loaded one): only the claims are read anew, for that window."""
    start = from_epoch(availability.start)
    own = release and end_reading(session)
    busy = Claims(session, start, end, set(exclude_appointments), own_connections=own)
    return replace(availability, busy=busy, end=to_epoch(end))


def _epoch(column, dialect: str, up: bool = False):  # type: ignore[no-untyped-def]
    """Epoch seconds of a UTC column, as the database stores it: PostgreSQL computes them
    (rounded down, or up for ends, so a busy span never shrinks); SQLite's naive text is
    returned as it is (parsing it in SQL is slower than in Python)."""
    if dialect == "postgresql":
        seconds = func.extract("epoch", column)
        return cast(func.ceil(seconds) if up else func.floor(seconds), BigInteger)
    return type_coerce(column, String)


_MIDNIGHTS: dict[str, int] = {}


def _sqlite_epoch(text: str) -> int:
    """'2026-03-02 07:00:00.000000' (naive UTC) as epoch seconds, with days cached."""
    day = text[:10]
    base = _MIDNIGHTS.get(day)
    if base is None:
        midnight = dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC)
        base = _MIDNIGHTS[day] = int(midnight.timestamp())
    return base + int(text[11:13]) * 3600 + int(text[14:16]) * 60 + int(text[17:19])


def _sqlite_epoch_up(text: str) -> int:
    fraction = text[20:]
    return _sqlite_epoch(text) + (1 if fraction and fraction != "000000" else 0)


#: Claim times as SQLite stores them, parsed: the same grid times recur across resources and
#: plans, and a lookup is a twentieth of a parse. Bounded; cleared when full.
_STARTS: dict[str, int] = {}
_ENDS: dict[str, int] = {}
MAX_PARSED = 200_000


def _sqlite_spans(rows: Sequence[Any], exclude: set[int]) -> list[Interval]:
    if len(_STARTS) > MAX_PARSED or len(_ENDS) > MAX_PARSED:
        _STARTS.clear()
        _ENDS.clear()
    starts, ends = _STARTS, _ENDS
    found: list[Interval] = []
    for s, e, appointment in rows:
        if appointment in exclude:
            continue
        a = starts.get(s)
        if a is None:
            a = starts[s] = _sqlite_epoch(s)
        b = ends.get(e)
        if b is None:
            b = ends[e] = _sqlite_epoch_up(e)
        found.append((a, b))
    return found


class Claims(Mapping[tuple[str, int], list[Interval]]):
    """The claims of one resource within the window, read when the planner first asks about
    that resource: of the many chairs, lines and staff a clinic has, a plan looks at few (the
    first free one at each time), so most are never read. One indexed range query each."""

    def __init__(
        self,
        session: Session,
        start: dt.datetime,
        end: dt.datetime,
        exclude: set[int],
        *,
        own_connections: bool = False,
    ) -> None:
        # Core, one statement for every resource: a few hundred microseconds less per resource
        # than an ORM query. On the session's connection (inside its transaction, seeing its
        # writes), or, once that transaction has ended, a pooled connection per query.
        bind = session.get_bind()
        self._engine = bind if own_connections and isinstance(bind, Engine) else None
        self._connection: Connection | None = (
            bind if own_connections and self._engine is None else None  # type: ignore[assignment]
        )
        if not own_connections:
            self._connection = session.connection()
        self._dialect = bind.dialect.name
        self._exclude = exclude
        self._loaded: dict[tuple[str, int], list[Interval]] = {}
        self._since = {
            resource: start - dt.timedelta(seconds=longest)
            for resource, longest in (("dose", LONGEST_DOSE_CLAIM), ("", LONGEST_CLAIM))
        }
        self._statement = select(
            _epoch(ResourceClaim.starts_at, self._dialect),
            _epoch(ResourceClaim.ends_at, self._dialect, up=True),
            ResourceClaim.appointment_id,
        ).where(
            ResourceClaim.resource == bindparam("resource"),
            ResourceClaim.resource_id == bindparam("resource_id"),
            ResourceClaim.starts_at >= bindparam("since"),
            ResourceClaim.starts_at < end,
            ResourceClaim.ends_at > start,
            ResourceClaim.active,
        )

    def __getitem__(self, key: tuple[str, int]) -> list[Interval]:
        found = self._loaded.get(key)
        if found is None:
            found = self._loaded[key] = self._load(*key)
        return found

    def __iter__(self) -> Iterator[tuple[str, int]]:
        return iter(self._loaded)

    def __len__(self) -> int:
        return len(self._loaded)

    def _load(self, resource: str, resource_id: int) -> list[Interval]:
        since = self._since.get(resource, self._since[""])
        values = {"resource": resource, "resource_id": resource_id, "since": since}
        if self._engine is not None:
            with self._engine.connect() as connection:
                rows = connection.execute(self._statement, values).all()
        else:
            assert self._connection is not None
            rows = self._connection.execute(self._statement, values).all()
        exclude = self._exclude
        if self._dialect == "postgresql":
            return [(int(s), int(e)) for s, e, a in rows if a not in exclude]
        return _sqlite_spans(rows, exclude)
