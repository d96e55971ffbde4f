"""Appointments, the staff taking part, and the busy blocks the database keeps apart."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
    literal_column,
)
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, UTCDateTime, utcnow
from .clinic import Location, Room
from .enums import (
    LIVE_STATUSES,
    AppointmentKind,
    AppointmentStatus,
    StaffPart,
    enum_column,
)
from .patients import Patient
from .staff import StaffMember


def new_uid() -> str:
    # Neutral on purpose: a UID is visible in every feed, whatever its privacy level.
    return f"{uuid.uuid4()}@clinic-scheduler"


class Appointment(Base):
    __tablename__ = "appointments"
    __table_args__ = (
        CheckConstraint("starts_at < ends_at", name="order"),
        CheckConstraint("buffer_minutes >= 0", name="buffer"),
        CheckConstraint("revision >= 1", name="revision"),
        Index("ix_appointments_location_starts", "location_id", "starts_at"),
        Index("ix_appointments_patient_starts", "patient_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The iCalendar UID: fixed at creation, never changed by a move or cancellation.
    uid: Mapped[str] = mapped_column(String(80), unique=True, default=new_uid)
    kind: Mapped[AppointmentKind] = mapped_column(enum_column(AppointmentKind, "appointment_kind"))
    status: Mapped[AppointmentStatus] = mapped_column(
        enum_column(AppointmentStatus, "appointment_status"), default=AppointmentStatus.SCHEDULED
    )
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    #: Turnover after the patient leaves (cleaning, set-up): the room stays busy this long.
    buffer_minutes: Mapped[int] = mapped_column(Integer, default=0)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    course_id: Mapped[int | None] = mapped_column(
        ForeignKey("courses.id", ondelete="SET NULL"), index=True, default=None
    )
    #: Which protocol step this appointment fills, and its number within the step (1-based).
    step_key: Mapped[str | None] = mapped_column(String(40), default=None)
    sequence: Mapped[int | None] = mapped_column(Integer, default=None)
    #: On an integration session: the dosing session it belongs to.
    paired_with_id: Mapped[int | None] = mapped_column(
        ForeignKey("appointments.id", ondelete="SET NULL"), index=True, default=None
    )
    #: On a replacement for a missed session (``courses/rebook.py``): the session it stands in
    #: for. It is planned after the course's last session but shown under the missed number.
    #: No foreign key: adding one to SQLite means copying the table (appointments are never
    #: deleted, so it cannot dangle).
    replaces_id: Mapped[int | None] = mapped_column(Integer, default=None)
    cancel_reason: Mapped[str | None] = mapped_column(String(300), default=None)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    #: Rises on every change; published as the iCalendar SEQUENCE.
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Time of the last change; the feed's DTSTAMP and LAST-MODIFIED.
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Staff-only note. Never shown in feeds, reminders or logs.
    internal_note: Mapped[str] = mapped_column(Text, default="")
    #: Set while the appointment breaks a rule it was booked under (a closure declared over
    #: it, its pair cancelled, ...): the rule's id, a front-desk message, and since when.
    #: Kept by ``scheduler.integrity``; cleared as soon as the appointment is valid again.
    attention_rule: Mapped[str | None] = mapped_column(String(40), default=None, index=True)
    attention_message: Mapped[str | None] = mapped_column(String(500), default=None)
    attention_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)

    location: Mapped[Location] = relationship()
    room: Mapped[Room] = relationship()
    patient: Mapped[Patient] = relationship()
    participants: Mapped[list[AppointmentStaff]] = relationship(
        back_populates="appointment", cascade="all, delete-orphan", lazy="selectin"
    )
    claims: Mapped[list[ResourceClaim]] = relationship(
        back_populates="appointment", cascade="all, delete-orphan"
    )
    paired_with: Mapped[Appointment | None] = relationship(
        remote_side="Appointment.id", foreign_keys=[paired_with_id]
    )

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_STATUSES

    @property
    def busy_until(self) -> dt.datetime:
        return self.ends_at + dt.timedelta(minutes=self.buffer_minutes)

    def staff_in(self, part: StaffPart) -> StaffMember | None:
        for p in self.participants:
            if p.part == part:
                return p.staff
        return None

    @property
    def staff_ids(self) -> list[int]:
        return [p.staff_id for p in self.participants]


class AppointmentStaff(Base):
    __tablename__ = "appointment_staff"

    appointment_id: Mapped[int] = mapped_column(
        ForeignKey("appointments.id", ondelete="CASCADE"), primary_key=True
    )
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), primary_key=True, index=True)
    part: Mapped[StaffPart] = mapped_column(enum_column(StaffPart, "staff_part"))

    appointment: Mapped[Appointment] = relationship(back_populates="participants")
    staff: Mapped[StaffMember] = relationship(lazy="joined")


class ResourceClaim(Base):
    """The time a staff member, room or patient is held by one appointment.

    Rows are written by ``scheduler.booking`` only, in the same transaction as the appointment.
    A dosing session also holds a ``dose`` claim on its patient: its block widened by half the
    clinic's minimum dosing interval on each side, so two doses of one patient, from any
    courses, are never closer than that interval. On PostgreSQL an exclusion constraint forbids
    two active claims on one resource that overlap, so two concurrent bookings cannot both
    commit.
    """

    __tablename__ = "resource_claims"
    __table_args__ = (
        CheckConstraint("starts_at < ends_at", name="order"),
        CheckConstraint("resource IN ('staff', 'room', 'patient', 'dose')", name="resource"),
        Index("ix_resource_claims_lookup", "resource", "resource_id", "starts_at"),
        ExcludeConstraint(
            (literal_column("resource"), "="),
            (literal_column("resource_id"), "="),
            (func.tstzrange(literal_column("starts_at"), literal_column("ends_at"), "[)"), "&&"),
            name="no_overlapping_claims",
            using="gist",
            where=literal_column("active"),
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(
        ForeignKey("appointments.id", ondelete="CASCADE"), index=True
    )
    resource: Mapped[str] = mapped_column(String(16))
    resource_id: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    appointment: Mapped[Appointment] = relationship(back_populates="claims")
