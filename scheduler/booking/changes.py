"""What other parts of the clinic learn when an appointment changes.

Booking calls ``publish`` inside the transaction of the change, so that reminders are re-timed
and feeds marked stale in the same commit as the appointment itself: a crash can never leave a
moved appointment with reminders for its old time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy.orm import Session

from ..audit import Action
from ..feeds.invalidation import on_appointment_change as feeds_follow_change
from ..models import Appointment
from ..reminders.scheduling import on_appointment_change as reminders_follow_change

ChangeKind = Literal["created", "rescheduled", "cancelled", "status"]


@dataclass(frozen=True)
class Snapshot:
    """The parts of an appointment a listener compares before and after a change."""

    starts_at: dt.datetime
    ends_at: dt.datetime
    room_id: int
    location_id: int
    patient_id: int
    staff_ids: tuple[int, ...]
    status: str

    @classmethod
    def of(cls, appointment: Appointment) -> Snapshot:
        return cls(
            starts_at=appointment.starts_at,
            ends_at=appointment.ends_at,
            room_id=appointment.room_id,
            location_id=appointment.location_id,
            patient_id=appointment.patient_id,
            staff_ids=tuple(sorted(appointment.staff_ids)),
            status=str(appointment.status),
        )


@dataclass
class AppointmentChange:
    kind: ChangeKind
    appointment: Appointment
    action: Action
    before: Snapshot | None = None
    #: Set when the change is part of a course booking, so per-appointment messages can be
    #: folded into one welcome message.
    within_course_booking: bool = False
    extra: dict[str, object] = field(default_factory=dict)


Listener = Callable[[Session, AppointmentChange], None]

#: Domain modules that react to appointment changes, called in order. Each is a plain function
#: of (session, change) and must not commit.
LISTENERS: list[Listener] = [reminders_follow_change, feeds_follow_change]


def publish(session: Session, change: AppointmentChange) -> None:
    for listener in LISTENERS:
        listener(session, change)
