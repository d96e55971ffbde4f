"""Reminders and notices as rows: the database, not the scheduler, is the source of truth.

A worker claims due rows, sends them, and marks them sent; the unique ``dedupe_key`` means the
same message is never created twice, and the row's status means it is never sent twice.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, UTCDateTime, utcnow
from .appointments import Appointment
from .enums import enum_column
from .patients import Patient


class ReminderStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"


class ReminderChannel(enum.StrEnum):
    EMAIL = "email"
    SMS = "sms"


class MessageKind(enum.StrEnum):
    """Why a message goes out: ahead of an appointment, or because something changed."""

    REMINDER = "reminder"
    BOOKED = "booked"
    MOVED = "moved"
    CANCELLED = "cancelled"
    WELCOME = "welcome"


class Reminder(Base):
    __tablename__ = "reminders"
    __table_args__ = (
        Index("ix_reminders_due", "status", "next_attempt_at"),
        Index("ix_reminders_appointment", "appointment_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: None for course-level messages (the welcome).
    appointment_id: Mapped[int | None] = mapped_column(
        ForeignKey("appointments.id", ondelete="CASCADE"), default=None
    )
    course_id: Mapped[int | None] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), index=True, default=None
    )
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[MessageKind] = mapped_column(enum_column(MessageKind, "message_kind"))
    #: The template rendered at send time (``dosing_preparation``, ``appointment_moved``...).
    template: Mapped[str] = mapped_column(String(40))
    channel: Mapped[ReminderChannel] = mapped_column(
        enum_column(ReminderChannel, "reminder_channel")
    )
    #: For reminders: how long before the start the policy asked for (before quiet hours).
    offset_minutes: Mapped[int | None] = mapped_column(Integer, default=None)
    #: Never two rows for the same message: appointment, rule, channel and appointment time.
    dedupe_key: Mapped[str] = mapped_column(String(160), unique=True)
    #: What the message must remember from the change (a moved message's old time).
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: When it should go out (after quiet hours were applied).
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    #: When a worker may next pick it up: ``due_at``, later after a transient failure.
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    #: How long before the appointment's start the message stops being worth sending.
    stale_minutes: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[ReminderStatus] = mapped_column(
        enum_column(ReminderStatus, "reminder_status"), default=ReminderStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500), default=None)
    skip_reason: Mapped[str | None] = mapped_column(String(300), default=None)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    claimed_by: Mapped[str | None] = mapped_column(String(80), default=None)
    #: Rises when an admin resends a sent message, so the copy gets a Message-ID of its own.
    resend_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    appointment: Mapped[Appointment | None] = relationship()
    patient: Mapped[Patient] = relationship()


class OutboxMessage(Base):
    """A message kept in the app instead of delivered: no SMTP server, or the SMS log backend.

    ``message_id`` is unique, so a message written twice (a worker crashed after writing it)
    is stored once.
    """

    __tablename__ = "reminder_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    reminder_id: Mapped[int | None] = mapped_column(
        ForeignKey("reminders.id", ondelete="SET NULL"), index=True, default=None
    )
    channel: Mapped[ReminderChannel] = mapped_column(
        enum_column(ReminderChannel, "reminder_channel")
    )
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300), default="")
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text, default=None)
    attachment_name: Mapped[str | None] = mapped_column(String(120), default=None)
    attachment: Mapped[str | None] = mapped_column(Text, default=None)
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class ReminderTemplate(Base):
    """An admin's version of a packaged template; an empty part falls back to the package's."""

    __tablename__ = "reminder_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    subject: Mapped[str] = mapped_column(String(300), default="")
    body_text: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    sms_text: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", ondelete="SET NULL"), default=None
    )
