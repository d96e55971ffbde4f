"""The admin overview: the clinic at a glance, with links into each admin page."""

from __future__ import annotations

import datetime as dt

from flask import render_template
from sqlalchemy import func, select

from ...auth import permissions
from ...auth.web import allowed
from ...clock import now
from ...db import db
from ...models import (
    Appointment,
    AppointmentStatus,
    AuditEntry,
    Course,
    CourseStatus,
    Location,
    Patient,
    Protocol,
    Reminder,
    ReminderStatus,
    Room,
    StaffMember,
)
from .blueprint import bp


def count(query: object) -> int:
    return db.session.scalar(query) or 0  # type: ignore[arg-type]


@bp.get("")
@allowed(permissions.can_manage_clinic, "open the admin pages")
def dashboard() -> str:
    moment = now()
    week = moment + dt.timedelta(days=7)
    stats = {
        "locations": count(select(func.count(Location.id)).where(Location.active)),
        "rooms": count(select(func.count(Room.id)).where(Room.active)),
        "staff": count(select(func.count(StaffMember.id)).where(StaffMember.active)),
        "patients": count(select(func.count(Patient.id))),
        "protocols": count(select(func.count(Protocol.id)).where(Protocol.active)),
        "courses": count(select(func.count(Course.id)).where(Course.status == CourseStatus.ACTIVE)),
        "week": count(
            select(func.count(Appointment.id)).where(
                Appointment.starts_at >= moment,
                Appointment.starts_at < week,
                Appointment.status != AppointmentStatus.CANCELLED,
            )
        ),
    }
    recent = db.session.scalars(
        select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(12)
    ).all()
    return render_template(
        "admin/dashboard.html", stats=stats, recent=recent, health=outbox_health()
    )


def outbox_health() -> dict[str, int]:
    """Reminder delivery counts by status, for the overview."""
    counts = dict(
        db.session.execute(
            select(Reminder.status, func.count(Reminder.id)).group_by(Reminder.status)
        ).all()
    )
    return {status.value: counts.get(status, 0) for status in ReminderStatus}
