"""What a feed needs to know about each appointment, read in two plain queries.

Feeds are rebuilt on every change to an owner's appointments, and a therapist's feed can hold a
thousand events: loading ORM objects with their relationships would take longer than the
rebuild itself, so rows are read as tuples. Nothing read here is clinical free text: no
``internal_note``, no patient ``notes``, no cancellation reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, or_, select
from sqlalchemy.orm import Session

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

    @property
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
    Appointment.sequence,
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
    session: Session, kind: FeedOwnerKind, owner_id: int, window: Window
) -> list[AppointmentFacts]:
    """The owner's appointments in the window, with recent departures, in start order."""
    where = (owner_condition(kind, owner_id), window_condition(window))
    rows = session.execute(_select(*where)).all()
    facts = [_facts(row) for row in rows]
    if kind in (FeedOwnerKind.STAFF, FeedOwnerKind.ROOM):
        facts.extend(_departures(session, kind, owner_id, window))
        facts.sort(key=lambda f: (f.starts_at, f.id))
    ids = select(Appointment.id).where(*where).scalar_subquery()
    condition = AppointmentStaff.appointment_id.in_(ids)
    departed = sorted(f.id for f in facts if f.departed)
    if departed:
        condition = or_(condition, AppointmentStaff.appointment_id.in_(departed))
    return _with_staff(session, facts, condition)


def appointment_facts(session: Session, appointment_ids: Sequence[int]) -> list[AppointmentFacts]:
    """Facts of the given appointments, whatever their status or time."""
    condition = Appointment.id.in_(list(appointment_ids))
    facts = [_facts(row) for row in session.execute(_select(condition)).all()]
    return _with_staff(session, facts, AppointmentStaff.appointment_id.in_(list(appointment_ids)))


def course_facts(session: Session, course_id: int) -> list[AppointmentFacts]:
    condition = Appointment.course_id == course_id
    facts = [_facts(row) for row in session.execute(_select(condition)).all()]
    ids = select(Appointment.id).where(condition).scalar_subquery()
    return _with_staff(session, facts, AppointmentStaff.appointment_id.in_(ids))


def protocol_definitions(
    session: Session, facts: Sequence[AppointmentFacts]
) -> dict[int, dict[str, Any]]:
    wanted = {f.protocol_version_id for f in facts if f.protocol_version_id is not None}
    if not wanted:
        return {}
    rows = session.execute(
        select(ProtocolVersion.id, ProtocolVersion.definition).where(
            ProtocolVersion.id.in_(sorted(wanted))
        )
    )
    return {row[0]: row[1] if isinstance(row[1], dict) else {} for row in rows}


def _departures(
    session: Session, kind: FeedOwnerKind, owner_id: int, window: Window
) -> list[AppointmentFacts]:
    departed = exists().where(
        FeedDeparture.appointment_id == Appointment.id,
        FeedDeparture.owner_kind == str(kind),
        FeedDeparture.owner_id == owner_id,
        FeedDeparture.departed_at >= window.cancelled_since,
    )
    where = (
        departed,
        ~owner_condition(kind, owner_id),
        Appointment.starts_at < window.end,
        Appointment.ends_at > window.start,
    )
    rows = session.execute(_select(*where)).all()
    return [_facts(row, departed=True) for row in rows]


def _facts(row: Any, departed: bool = False) -> AppointmentFacts:
    return AppointmentFacts(*row, departed=departed)


def _with_staff(
    session: Session, facts: list[AppointmentFacts], condition: ColumnElement[bool]
) -> list[AppointmentFacts]:
    if not facts:
        return facts
    by_appointment: dict[int, list[StaffFact]] = {}
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
        by_appointment.setdefault(appointment_id, []).append(StaffFact(staff_id, name, part))
    return [replace(f, staff=tuple(by_appointment.get(f.id, ()))) for f in facts]
