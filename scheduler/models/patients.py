"""Patients: identity, contact, time zone, reminder and feed-privacy preferences."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, Date, String, Text, Time
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UTCDateTime, utcnow
from .enums import FeedPrivacy, enum_column


class Patient(Base):
    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(primary_key=True)
    first_name: Mapped[str] = mapped_column(String(80))
    last_name: Mapped[str] = mapped_column(String(80), index=True)
    date_of_birth: Mapped[dt.date] = mapped_column(Date)
    email: Mapped[str | None] = mapped_column(String(254), default=None)
    phone: Mapped[str | None] = mapped_column(String(40), default=None)
    timezone: Mapped[str] = mapped_column(String(64))
    remind_by_email: Mapped[bool] = mapped_column(Boolean, default=True)
    remind_by_sms: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Reminder offsets overriding the protocol's, e.g. {"dosing": [48, 2]} (hours before).
    reminder_overrides: Mapped[dict[str, list[float]]] = mapped_column(JSON, default=dict)
    quiet_hours_start: Mapped[dt.time] = mapped_column(Time, default=dt.time(21, 0))
    quiet_hours_end: Mapped[dt.time] = mapped_column(Time, default=dt.time(8, 0))
    feed_privacy: Mapped[FeedPrivacy] = mapped_column(
        enum_column(FeedPrivacy, "feed_privacy"), default=FeedPrivacy.MINIMAL
    )
    #: Esketamine (Spravato) REMS enrollment: required on record before a first session.
    rems_enrolled_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    rems_number: Mapped[str | None] = mapped_column(String(40), default=None)
    #: Clinical free text. Never leaves the staff pages: not in feeds, reminders or logs.
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def initials(self) -> str:
        return f"{self.first_name[:1]}.{self.last_name[:1]}.".upper()
