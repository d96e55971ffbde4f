"""Marking feeds stale, in the transaction of the change.

Each feed owner (a patient, staff member, room or location) has a row in ``feed_versions``
whose counter rises with every change to what its feed shows. Web workers keep built feed
bodies in memory and serve one only while its owner's counter (and the clinic-wide counter)
still match, so no worker of any process serves a stale body once the change is committed.

Counters are raised from three places:

- ``on_appointment_change`` (in ``scheduler.booking.changes.LISTENERS``): the patient, the
  location, the room and every staff member before and after the change; staff and rooms taken
  off an appointment get a departure row so the event stays in their feed as cancelled.
- A ``before_flush`` hook that sees every flushed change of the rows feeds are built from
  (appointments, patients, staff, locations, rooms, courses, protocol versions), so a write
  path that forgets to call anything still invalidates the feeds it affects.
- ``touch_owner(session, kind, id)`` for anyone who changes feed content in another way.

Each owner is raised at most once per transaction: other processes only ever see committed
counters.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import case, delete, event, inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..clock import now as clock_now
from ..models import (
    Appointment,
    AppointmentStaff,
    Course,
    FeedDeparture,
    FeedVersion,
    Location,
    Patient,
    ProtocolVersion,
    Room,
    StaffMember,
)

if TYPE_CHECKING:
    from ..booking.changes import AppointmentChange

Owner = tuple[str, int]

#: The clinic-wide counter: changes that reach feeds of many owners at once (a staff member's
#: name shows in their patients' feeds, an address in everyone's).
CLINIC: Owner = ("clinic", 0)

_INFO_KEY = "scheduler.feeds.touched"

#: Attributes whose change alters feeds, and whose feeds: the row's own, or every feed.
_OWN_FIELDS = {
    Patient: ("patient", {"feed_privacy", "reminder_overrides", "timezone"}),
    StaffMember: ("staff", {"feed_full_names"}),
}
_SHARED_FIELDS: dict[type, set[str]] = {
    Patient: {"first_name", "last_name", "quiet_hours_start", "quiet_hours_end"},
    StaffMember: {"name"},
    Location: {"name", "address", "phone", "timezone"},
    Room: {"name", "kind", "video_url", "location_id"},
    Course: {"protocol_version_id", "patient_id"},
    ProtocolVersion: {"definition"},
}


def touch_owner(
    session: Session, kind: str, owner_id: int, *, now: dt.datetime | None = None
) -> None:
    """Mark one owner's feed changed (``kind``: patient, staff, room, location or clinic)."""
    touch_owners(session, [(str(kind), int(owner_id))], now=now)


def touch_clinic(session: Session, *, now: dt.datetime | None = None) -> None:
    """Mark every feed changed (for edits that show in many feeds)."""
    touch_owners(session, [CLINIC], now=now)


def touch_owners(
    session: Session, owners: Iterable[Owner], *, now: dt.datetime | None = None
) -> None:
    touched: set[Owner] = session.info.setdefault(_INFO_KEY, set())
    todo = sorted({(str(k), int(i)) for k, i in owners if i is not None} - touched)
    if not todo:
        return
    second = int((now or clock_now()).timestamp())
    table = FeedVersion.__table__
    insert = _insert_for(session)
    stmt = insert(table).values(
        [{"owner_kind": k, "owner_id": i, "version": 1, "changed_second": second} for k, i in todo]
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.owner_kind, table.c.owner_id],
        set_={
            "version": table.c.version + 1,
            # Strictly rising, so Last-Modified moves on even within one second.
            "changed_second": case(
                (
                    stmt.excluded.changed_second > table.c.changed_second,
                    stmt.excluded.changed_second,
                ),
                else_=table.c.changed_second + 1,
            ),
        },
    )
    # Rows are locked in sorted order (owners sorted above), so two transactions touching
    # the same owners cannot deadlock on them. Core execution: no autoflush inside a flush.
    session.connection().execute(stmt)
    touched.update(todo)


def on_appointment_change(session: Session, change: AppointmentChange) -> None:
    """Listener for ``scheduler.booking.changes``: every feed the appointment was or is in."""
    appointment = change.appointment
    after = appointment_owners(appointment)
    before: set[Owner] = set()
    if change.before is not None:
        before = {
            ("patient", change.before.patient_id),
            ("location", change.before.location_id),
            ("room", change.before.room_id),
            *(("staff", staff_id) for staff_id in change.before.staff_ids),
        }
    touch_owners(session, after | before, now=change.action.now)
    if before and before != after:
        _record_departures(
            session, appointment.id, before - after, after - before, change.action.now
        )


def appointment_owners(appointment: Appointment) -> set[Owner]:
    owners: set[Owner] = {
        ("patient", appointment.patient_id),
        ("location", appointment.location_id),
        ("room", appointment.room_id),
    }
    owners.update(("staff", p.staff_id) for p in appointment.participants)
    return {o for o in owners if o[1] is not None}


def _record_departures(
    session: Session,
    appointment_id: int,
    left: set[Owner],
    joined: set[Owner],
    now: dt.datetime,
) -> None:
    """Staff and rooms that left the appointment keep it (as cancelled) for a while; those
    that came back to it lose their departure."""
    connection = session.connection()
    table = FeedDeparture.__table__
    for kind, owner_id in sorted(joined):
        if kind in ("staff", "room"):
            connection.execute(
                delete(table).where(
                    table.c.owner_kind == kind,
                    table.c.owner_id == owner_id,
                    table.c.appointment_id == appointment_id,
                )
            )
    rows = [
        {"owner_kind": k, "owner_id": i, "appointment_id": appointment_id, "departed_at": now}
        for k, i in sorted(left)
        if k in ("staff", "room")
    ]
    if rows:
        insert = _insert_for(session)
        stmt = insert(table).values(rows)
        stmt = stmt.on_conflict_do_update(
            index_elements=[table.c.owner_kind, table.c.owner_id, table.c.appointment_id],
            set_={"departed_at": stmt.excluded.departed_at},
        )
        connection.execute(stmt)


# --- the safety net: every flushed change of a row that feeds are built from ---------------


@event.listens_for(Session, "before_flush")
def _touch_flushed(session: Session, _context: Any, _instances: Any) -> None:
    owners: set[Owner] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        owners.update(_owners_of(obj, is_new=obj in session.new))
    if owners:
        touch_owners(session, owners)


@event.listens_for(Session, "after_transaction_end")
def _forget_touched(session: Session, transaction: Any) -> None:
    # Forget at the end of the real transaction, and of a savepoint (a rolled-back savepoint
    # may have undone a raise); not at the end of the inner scopes every flush opens.
    if transaction.parent is None or transaction.nested:
        session.info.pop(_INFO_KEY, None)


def _owners_of(obj: object, *, is_new: bool) -> set[Owner]:
    if isinstance(obj, Appointment):
        owners = appointment_owners(obj)
        state = inspect(obj)
        for name, kind in (("room_id", "room"), ("location_id", "location")):
            owners.update((kind, v) for v in state.attrs[name].history.deleted if v is not None)
        for removed in state.attrs["participants"].history.deleted:
            owners.add(("staff", removed.staff_id))
        return owners
    if isinstance(obj, AppointmentStaff):
        owners = {("staff", obj.staff_id)}
        owners.update(("staff", v) for v in inspect(obj).attrs["staff_id"].history.deleted)
        return {o for o in owners if o[1] is not None}
    if is_new:
        return set()
    kind_fields = _OWN_FIELDS.get(type(obj))
    owners = set()
    if kind_fields and _changed(obj, kind_fields[1]):
        owners.add((kind_fields[0], obj.id))  # type: ignore[attr-defined]
    shared = _SHARED_FIELDS.get(type(obj))
    if shared and _changed(obj, shared):
        owners.add(CLINIC)
    return owners


def _changed(obj: object, names: set[str]) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in names)


def _insert_for(session: Session) -> Any:
    name = session.get_bind().dialect.name
    return postgresql.insert if name == "postgresql" else sqlite.insert
