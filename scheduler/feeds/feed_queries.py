"""What a feed needs to know about each appointment, read in two plain queries.

Feeds are rebuilt on every change to an owner's appointments, and a therapist's feed can hold a
thousand events: loading ORM objects with their relationships would take longer than the
rebuild itself, so rows are read as tuples. Nothing read here is clinical free text: no
``internal_note``, no patient ``notes``, no cancellation reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from ..models import (
    Appointment,
    AppointmentKind,
    AppointmentStaff,
    AppointmentStatus,
    Course,
    FeedDeparture,
    FeedOwnerKind,
    Location,
    Patient,
    ProtocolVersion,
    Room,
    RoomKind,
    StaffMember,
    StaffPart,
)
from ..protocols import ProtocolDefinition, stored_definition


@dataclass(frozen=True)
class Window:
    """The span a feed covers, bucketed to whole UTC days so that a feed's bytes stay the same
    all day long; cancelled events (and departures) stay while newer than ``cancelled_since``."""

    start: dt.datetime
    end: dt.datetime
    cancelled_since: dt.datetime
    #: The UTC day the window was cut on (its midnight).
    day: dt.datetime

    @classmethod
    def around(cls, now: dt.datetime, days_back: int, days_ahead: int, grace_days: int) -> Window:
        today = dt.datetime.combine(now.astimezone(dt.UTC).date(), dt.time(0), dt.UTC)
        return cls(
            start=today - dt.timedelta(days=days_back),
            end=today + dt.timedelta(days=days_ahead + 1),
            cancelled_since=today - dt.timedelta(days=grace_days),
            day=today,
        )

    @cached_property
    def label(self) -> str:
        return f"{self.start:%Y%m%d}-{self.end:%Y%m%d}-{self.cancelled_since:%Y%m%d}"


@dataclass(frozen=True)
class StaffFact:
    id: int
    name: str
    part: StaffPart


@dataclass(frozen=True)
class AppointmentFacts:
    id: int
    uid: str
    kind: AppointmentKind
    status: AppointmentStatus
    starts_at: dt.datetime
    ends_at: dt.datetime
    revision: int
    updated_at: dt.datetime
    step_key: str | None
    sequence: int | None
    protocol_version_id: int | None
    patient_id: int
    patient_first_name: str
    patient_last_name: str
    room_id: int
    room_name: str
    room_kind: RoomKind
    video_url: str | None
    location_id: int
    location_name: str
    address: str
    phone: str
    timezone: str
    staff: tuple[StaffFact, ...] = ()
    #: The owner was taken off this appointment: show it to them as cancelled.
    departed: bool = False

    @property
    def cancelled(self) -> bool:
        return self.departed or self.status == AppointmentStatus.CANCELLED

    def staff_in(self, part: StaffPart) -> StaffFact | None:
        return next((s for s in self.staff if s.part == part), None)


#: A replacement for a missed session shows the missed session's number (``courses/rebook.py``).
_Replaced = aliased(Appointment)

_COLUMNS = (
    Appointment.id,
    Appointment.uid,
    Appointment.kind,
    Appointment.status,
    Appointment.starts_at,
    Appointment.ends_at,
    Appointment.revision,
    Appointment.updated_at,
    Appointment.step_key,
    func.coalesce(_Replaced.sequence, Appointment.sequence).label("sequence"),
    Course.protocol_version_id,
    Appointment.patient_id,
    Patient.first_name,
    Patient.last_name,
    Appointment.room_id,
    Room.name,
    Room.kind,
    Room.video_url,
    Appointment.location_id,
    Location.name,
    Location.address,
    Location.phone,
    Location.timezone,
)


def _select(*where: ColumnElement[bool]) -> Select[Any]:
    return (
        select(*_COLUMNS)
        .join(Patient, Patient.id == Appointment.patient_id)
        .join(Room, Room.id == Appointment.room_id)
        .join(Location, Location.id == Appointment.location_id)
        .outerjoin(Course, Course.id == Appointment.course_id)
        .outerjoin(_Replaced, _Replaced.id == Appointment.replaces_id)
        .where(*where)
        .order_by(Appointment.starts_at, Appointment.id)
    )


def owner_condition(kind: FeedOwnerKind, owner_id: int) -> ColumnElement[bool]:
    if kind == FeedOwnerKind.PATIENT:
        return Appointment.patient_id == owner_id
    if kind == FeedOwnerKind.ROOM:
        return Appointment.room_id == owner_id
    if kind == FeedOwnerKind.LOCATION:
        return Appointment.location_id == owner_id
    return exists().where(
        AppointmentStaff.appointment_id == Appointment.id, AppointmentStaff.staff_id == owner_id
    )


def window_condition(window: Window) -> ColumnElement[bool]:
    return and_(
        Appointment.starts_at < window.end,
        Appointment.ends_at > window.start,
        or_(
            Appointment.status != AppointmentStatus.CANCELLED,
            Appointment.cancelled_at >= window.cancelled_since,
        ),
    )


def feed_facts(
    session: Session,
    kind: FeedOwnerKind,
    owner_id: int,
    window: Window,
    only: Sequence[int] | None = None,
) -> list[AppointmentFacts]:
    """The owner's appointments in the window, with recent departures, in start order
    (``only``: just these appointments, for a rebuild that reuses the rest)."""
    where = [owner_condition(kind, owner_id), window_condition(window)]
    if only is not None:
        where.append(Appointment.id.in_(list(only)))
    rows = session.execute(_select(*where)).all()
    departed: list[Any] = []
    if kind in (FeedOwnerKind.STAFF, FeedOwnerKind.ROOM):
        departed = _departures(session, kind, owner_id, window, only)
    if not rows and not departed:
        return []
    ids = [r[0] for r in rows] if only is not None else select(Appointment.id).where(*where)
    condition = AppointmentStaff.appointment_id.in_(ids)
    if departed:
        condition = or_(condition, AppointmentStaff.appointment_id.in_([r[0] for r in departed]))
    staff = _staff(session, condition)
    facts = [AppointmentFacts(*row, staff=staff.get(row[0], ())) for row in rows]
    if departed:
        facts.extend(
            AppointmentFacts(*row, staff=staff.get(row[0], ()), departed=True) for row in departed
        )
        facts.sort(key=lambda f: (f.starts_at, f.id))
    return facts


def feed_marks(
    session: Session, kind: FeedOwnerKind, owner_id: int, window: Window
) -> dict[int, tuple[int, bool]]:
    """What is in the owner's feed, as appointment id -> (revision, departed): enough to tell
    which events changed since the last build. Booking raises an appointment's revision with
    every change a calendar must see (it is the iCalendar SEQUENCE), so an unchanged revision
    means unchanged appointment facts; everything else an event shows raises the clinic-wide
    counter, which forces a full rebuild."""
    rows = session.execute(
        select(Appointment.id, Appointment.revision).where(
            owner_condition(kind, owner_id), window_condition(window)
        )
    )
    marks = {row[0]: (row[1], False) for row in rows}
    if kind in (FeedOwnerKind.STAFF, FeedOwnerKind.ROOM):
        departed = session.execute(
            select(Appointment.id, Appointment.revision).where(
                *_departure_conditions(kind, owner_id, window)
            )
        )
        marks.update({row[0]: (row[1], True) for row in departed})
    return marks


def appointment_facts(session: Session, appointment_ids: Sequence[int]) -> list[AppointmentFacts]:
    """Facts of the given appointments, whatever their status or time."""
    wanted = list(appointment_ids)
    return _facts_with_staff(
        session, Appointment.id.in_(wanted), AppointmentStaff.appointment_id.in_(wanted)
    )


def course_facts(session: Session, course_id: int) -> list[AppointmentFacts]:
    condition = Appointment.course_id == course_id
    ids = select(Appointment.id).where(condition).scalar_subquery()
    return _facts_with_staff(session, condition, AppointmentStaff.appointment_id.in_(ids))


def _facts_with_staff(
    session: Session, condition: ColumnElement[bool], staff_condition: ColumnElement[bool]
) -> list[AppointmentFacts]:
    rows = session.execute(_select(condition)).all()
    staff = _staff(session, staff_condition) if rows else {}
    return [AppointmentFacts(*row, staff=staff.get(row[0], ())) for row in rows]


def protocol_definitions(
    session: Session, facts: Sequence[AppointmentFacts]
) -> dict[int, ProtocolDefinition]:
    """The protocol versions the appointments were planned with, parsed (and remembered by
    ``scheduler.protocols``: a feed renders on every request)."""
    wanted = {f.protocol_version_id for f in facts if f.protocol_version_id is not None}
    if not wanted:
        return {}
    rows = session.execute(
        select(ProtocolVersion.id, ProtocolVersion.definition).where(
            ProtocolVersion.id.in_(sorted(wanted))
        )
    )
    return {row[0]: stored_definition(row[1]) for row in rows}


def _departure_conditions(
    kind: FeedOwnerKind, owner_id: int, window: Window
) -> tuple[ColumnElement[bool], ...]:
    departed = exists().where(
        FeedDeparture.appointment_id == Appointment.id,
        FeedDeparture.owner_kind == str(kind),
        FeedDeparture.owner_id == owner_id,
        FeedDeparture.departed_at >= window.cancelled_since,
    )
    return (
        departed,
        ~owner_condition(kind, owner_id),
        Appointment.starts_at < window.end,
        Appointment.ends_at > window.start,
    )


def _departures(
    session: Session,
    kind: FeedOwnerKind,
    owner_id: int,
    window: Window,
    only: Sequence[int] | None = None,
) -> list[Any]:
    where = list(_departure_conditions(kind, owner_id, window))
    if only is not None:
        where.append(Appointment.id.in_(list(only)))
    return list(session.execute(_select(*where)).all())


def _staff(session: Session, condition: ColumnElement[bool]) -> dict[int, tuple[StaffFact, ...]]:
    found: dict[int, list[StaffFact]] = {}
    rows = session.execute(
        select(
            AppointmentStaff.appointment_id,
            AppointmentStaff.staff_id,
            StaffMember.name,
            AppointmentStaff.part,
        )
        .join(StaffMember, StaffMember.id == AppointmentStaff.staff_id)
        .where(condition)
        .order_by(AppointmentStaff.appointment_id, AppointmentStaff.staff_id)
    )
    for appointment_id, staff_id, name, part in rows:
        found.setdefault(appointment_id, []).append(StaffFact(staff_id, name, part))
    return {key: tuple(value) for key, value in found.items()}
