"""Everything the patient page shows, loaded in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..auth import permissions
from ..auth.web import current_staff
from ..clock import now
from ..db import db
from ..models import (
    Appointment,
    AppointmentStatus,
    Course,
    FeedOwnerKind,
    Patient,
    Protocol,
    ProtocolVersion,
    Reminder,
)
from .appointment_lists import Entry, load_entries
from .feed_links import FeedPanel, feed_panel
from .forms.patients import PreferencesForm


@dataclass
class CourseSummary:
    course: Course
    entries: list[Entry] = field(default_factory=list)

    @property
    def live(self) -> list[Entry]:
        return [e for e in self.entries if e.appointment.status != AppointmentStatus.CANCELLED]

    @property
    def done(self) -> int:
        return sum(1 for e in self.live if e.appointment.status == AppointmentStatus.COMPLETED)

    @property
    def total(self) -> int:
        return len(self.live)

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0

    @property
    def next(self) -> Entry | None:
        moment = now()
        upcoming = [e for e in self.live if e.appointment.ends_at > moment]
        return upcoming[0] if upcoming else None


def patient_page_context(
    patient: Patient, *, preferences: PreferencesForm, feed: FeedPanel | None = None
) -> dict[str, Any]:
    actor = current_staff()
    entries = load_entries(
        db.session,
        permissions.visible_appointments(
            actor,
            select(Appointment)
            .where(Appointment.patient_id == patient.id)
            .order_by(Appointment.starts_at, Appointment.id),
        ),
    )
    courses = db.session.scalars(
        select(Course)
        .where(Course.patient_id == patient.id)
        .options(
            joinedload(Course.location),
            joinedload(Course.protocol_version)
            .joinedload(ProtocolVersion.protocol)
            .load_only(Protocol.name, Protocol.route),
        )
        .order_by(Course.created_at.desc(), Course.id.desc())
    ).all()
    summaries = {c.id: CourseSummary(c) for c in courses}
    for e in entries:
        summary = summaries.get(e.appointment.course_id or 0)
        if summary is not None:
            summary.entries.append(e)
    moment = now()
    upcoming = [e for e in entries if e.appointment.ends_at > moment]
    past = [e for e in reversed(entries) if e.appointment.ends_at <= moment]
    ids = [e.appointment.id for e in entries]
    return {
        "patient": patient,
        "age": age(patient.date_of_birth, moment.date()),
        "courses": list(summaries.values()),
        "upcoming": upcoming,
        "past": past,
        "reminders": reminders_by_appointment(ids),
        "feed": feed or patient_feed(patient),
        "may_manage_feed": permissions.can_manage_feed(actor, "patient", patient.id),
        "preferences": preferences,
        "may_change": permissions.can_manage_patients(actor),
        "may_book": permissions.can_book(actor),
        "now": moment,
    }


def age(born: dt.date, today: dt.date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def reminders_by_appointment(appointment_ids: list[int]) -> dict[int, list[Reminder]]:
    """Each appointment's reminders with their delivery status, in one query."""
    found: dict[int, list[Reminder]] = {}
    for reminder in db.session.scalars(
        select(Reminder)
        .where(Reminder.appointment_id.in_(appointment_ids))
        .order_by(Reminder.due_at, Reminder.id)
    ):
        found.setdefault(reminder.appointment_id or 0, []).append(reminder)
    return found


def patient_feed(patient: Patient) -> FeedPanel:
    """Whether the patient's calendar-feed link is live (the link itself shows once, when
    issued)."""
    return feed_panel(FeedOwnerKind.PATIENT, patient.id)
