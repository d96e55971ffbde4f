"""In-memory clinics for the pure planner: transient model objects, no database."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from scheduler.models import (
    Closure,
    Location,
    OpeningHours,
    Role,
    Room,
    RoomKind,
    StaffMember,
    TimeOff,
    WorkingHours,
)
from scheduler.planning import Availability, to_epoch

PATIENT_ID = 1


@dataclass
class ClinicBuilder:
    """A clinic with one location; ``availability(start, end)`` makes the planner's snapshot."""

    timezone: str = "America/New_York"
    hours: tuple[dt.time, dt.time] = (dt.time(8), dt.time(18))
    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)
    rooms: list[Room] = field(default_factory=list)
    staff: list[StaffMember] = field(default_factory=list)
    closures: list[Closure] = field(default_factory=list)
    time_off: dict[int, list[TimeOff]] = field(default_factory=dict)
    busy: dict[tuple[str, int], list[tuple[int, int]]] = field(default_factory=dict)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))  # type: ignore[type-arg]

    def __post_init__(self) -> None:
        self.location = Location(id=1, name="Midtown", timezone=self.timezone, active=True)
        self.location.opening_hours = [
            OpeningHours(weekday=d, opens=self.hours[0], closes=self.hours[1])
            for d in self.weekdays
        ]

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def room(self, kind: RoomKind, name: str | None = None) -> Room:
        room_id = next(self._ids)
        room = Room(
            id=room_id,
            location_id=1,
            name=name or f"{kind.value} {room_id}",
            kind=kind,
            active=True,
        )
        self.rooms.append(room)
        return room

    def member(
        self,
        *roles: Role,
        hours: tuple[dt.time, dt.time] | None = None,
        weekdays: tuple[int, ...] | None = None,
        name: str | None = None,
    ) -> StaffMember:
        staff_id = next(self._ids) + 100
        member = StaffMember(
            id=staff_id, name=name or f"Staff {staff_id}", email=f"s{staff_id}@x.org", active=True
        )
        member.set_roles(list(roles))
        start, end = hours or self.hours
        member.working_hours = [
            WorkingHours(location_id=1, weekday=d, starts=start, ends=end)
            for d in (weekdays if weekdays is not None else self.weekdays)
        ]
        self.staff.append(member)
        return member

    def close(self, day: dt.date, until: dt.date | None = None, reason: str = "Holiday") -> None:
        self.closures.append(
            Closure(location_id=1, starts_on=day, ends_on=until or day, reason=reason)
        )

    def off(self, member: StaffMember, start: dt.datetime, end: dt.datetime) -> None:
        self.time_off.setdefault(member.id, []).append(
            TimeOff(staff_id=member.id, starts_at=start, ends_at=end, reason="Leave")
        )

    def book(self, resource: str, resource_id: int, start: dt.datetime, end: dt.datetime) -> None:
        self.busy.setdefault((resource, resource_id), []).append((to_epoch(start), to_epoch(end)))

    def at(self, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(hour, minute), self.tz).astimezone(dt.UTC)

    def availability(self, start: dt.datetime, end: dt.datetime) -> Availability:
        return Availability(
            location=self.location,
            tz=self.tz,
            rooms=list(self.rooms),
            staff=list(self.staff),
            closures=list(self.closures),
            time_off={k: list(v) for k, v in self.time_off.items()},
            busy={k: list(v) for k, v in self.busy.items()},
            patient_id=PATIENT_ID,
            start=to_epoch(start),
            end=to_epoch(end),
        )


def standard_clinic(timezone: str = "America/New_York") -> ClinicBuilder:
    clinic = ClinicBuilder(timezone=timezone)
    clinic.room(RoomKind.INFUSION_CHAIR, "Chair 1")
    clinic.room(RoomKind.INFUSION_CHAIR, "Chair 2")
    clinic.room(RoomKind.PROCEDURE_ROOM, "Procedure 1")
    clinic.room(RoomKind.MONITORED_TREATMENT_ROOM, "Monitored 1")
    clinic.room(RoomKind.THERAPY_ROOM, "Therapy 1")
    clinic.room(RoomKind.TELEHEALTH, "Video 1")
    clinic.member(Role.CLINICIAN, name="Casey Clinician")
    clinic.member(Role.CLINICIAN, name="Cory Clinician")
    clinic.member(Role.THERAPIST, name="Dana Therapist")
    clinic.member(Role.THERAPIST, name="Drew Therapist")
    return clinic
