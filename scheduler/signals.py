"""What the clinic announces when its schedule or its data changes.

Booking sends ``appointment_changed`` and the clinic's record keeping sends
``clinic_data_changed``; reminders and feeds connect to them in their own ``init_app``, so a
sender never imports its listeners. Both are sent with the caller's ``Session`` as sender,
inside the caller's transaction: a listener writes in the same commit as the change (a crash
cannot leave a moved appointment with reminders for its old time) and must never commit.

Listeners run in the order they first connected (``create_app`` connects reminders before
feeds), not in the arbitrary order of blinker's default sets.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from blinker import NamedSignal, Namespace
from sqlalchemy.orm import Session

from .audit import Action
from .models import Appointment

ChangeKind = Literal["created", "rescheduled", "cancelled", "status"]
RecordChangeKind = Literal["created", "updated", "deleted"]
ClinicData = Literal[
    "location",
    "opening_hours",
    "closure",
    "room",
    "staff",
    "working_hours",
    "time_off",
    "patient",
]


class _ConnectionOrder(dict[Hashable, None]):
    """The ordered set blinker's ``set_class`` allows: receivers are called in the order they
    connected, and connecting one again keeps its place."""

    def add(self, item: Hashable) -> None:
        self[item] = None

    def discard(self, item: Hashable) -> None:
        self.pop(item, None)


class _OrderedSignal(NamedSignal):
    set_class = _ConnectionOrder  # type: ignore[assignment]


class _Namespace(Namespace):
    def signal(self, name: str, doc: str | None = None) -> NamedSignal:
        return self.setdefault(name, _OrderedSignal(name, doc))


changes = _Namespace()

appointment_changed = changes.signal(
    "appointment-changed",
    doc="An appointment was booked, moved, cancelled or changed status. "
    "Sender: the Session; keyword ``change``: an AppointmentChange.",
)
clinic_data_changed = changes.signal(
    "clinic-data-changed",
    doc="A location, its hours or closures, a room, a staff member, their working hours or "
    "time off, or a patient was created, changed or removed. "
    "Sender: the Session; keyword ``change``: a ClinicDataChange.",
)


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


@dataclass(frozen=True)
class ClinicDataChange:
    """One flushed change of clinic data. ``fields`` names the record's attributes that
    changed, so a listener can ignore edits that do not concern it (a patient's phone number
    is nothing to a calendar feed)."""

    what: ClinicData
    action: Action
    kind: RecordChangeKind = "updated"
    location_id: int | None = None
    staff_id: int | None = None
    room_id: int | None = None
    patient_id: int | None = None
    fields: frozenset[str] = frozenset()


#: Parts of a record's audit snapshot that are schedules of their own, announced separately so
#: a listener (needs-attention checks) can tell a closure from a renamed location.
_SCHEDULES: dict[str, ClinicData] = {
    "opening_hours": "opening_hours",
    "closures": "closure",
    "working_hours": "working_hours",
    "time_off": "time_off",
}


def record_changed(
    session: Session,
    action: Action,
    what: ClinicData,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    **ids: int | None,
) -> None:
    """Announce a flushed change of one record from its audit snapshots (``None`` before a
    creation, after a deletion): one signal for the record's own fields, one per schedule.

    ``ids``: ``location_id``, ``staff_id``, ``room_id``, ``patient_id`` as they apply.
    """
    if before is None or after is None:
        kind: RecordChangeKind = "created" if before is None else "deleted"
        names = frozenset(after or before or ())
        _send(session, ClinicDataChange(what, action, kind, fields=names, **ids))
        return
    changed = {name for name in after.keys() | before.keys() if before.get(name) != after.get(name)}
    own = frozenset(name for name in changed if name not in _SCHEDULES)
    if own:
        _send(session, ClinicDataChange(what, action, fields=own, **ids))
    for name in sorted(changed - own):
        schedule = _SCHEDULES[name]
        _send(session, ClinicDataChange(schedule, action, fields=frozenset({name}), **ids))


def _send(session: Session, change: ClinicDataChange) -> None:
    clinic_data_changed.send(session, change=change)
