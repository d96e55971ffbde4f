"""What other parts of the clinic learn when an appointment changes.

Booking calls ``publish`` inside the transaction of the change; it sends
``scheduler.signals.appointment_changed``, so reminders are re-timed and feeds marked stale in
the same commit as the appointment itself. Booking does not know who listens: reminders and
feeds connect in their own ``init_app``.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ..signals import AppointmentChange, ChangeKind, Snapshot, appointment_changed


def publish(session: Session, change: AppointmentChange) -> None:
    """Tell every listener about ``change``, synchronously, in the caller's transaction."""
    appointment_changed.send(session, change=change)


__all__ = ["AppointmentChange", "ChangeKind", "Snapshot", "publish"]
