"""Marking feeds stale, in the transaction of the change.

Each feed owner (a patient, staff member, room or location) has a row in ``feed_versions``
whose counter rises with every change to what its feed shows. Web workers keep built feed
bodies in memory and serve one only while its owner's counter (and the clinic-wide counter)
still match, so no worker of any process serves a stale body once the change is committed.

Counters are raised from three places:

- ``on_appointment_change`` (connected to ``appointment_changed``): the patient, the location,
  the room and every staff member before and after the change; staff and rooms taken off an
  appointment get a departure row so the event stays in their feed as cancelled.
- ``on_clinic_data_change`` (connected to ``clinic_data_changed``): a patient's or staff
  member's feed settings raise their own feed; names, addresses, room details raise every feed.
- ``touch_owner(session, kind, id)`` for anyone who changes feed content in another way.

Each owner is raised at most once per transaction: other processes only ever see committed
counters.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import case, delete, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..clock import now as clock_now
from ..models import Appointment, FeedDeparture, FeedVersion
from ..signals import AppointmentChange, ClinicDataChange, appointment_changed, clinic_data_changed

Owner = tuple[str, int]

#: The clinic-wide counter: changes that reach feeds of many owners at once (a staff member's
#: name shows in their patients' feeds, an address in everyone's).
CLINIC: Owner = ("clinic", 0)

_INFO_KEY = "scheduler.feeds.touched"

#: Fields of clinic records that feeds show, and whose feeds show them: the record's own feed,
#: or every feed.
_OWN_FIELDS: dict[str, tuple[str, frozenset[str]]] = {
    "patient": ("patient", frozenset({"feed_privacy", "reminder_overrides", "timezone"})),
    "staff": ("staff", frozenset({"feed_full_names"})),
}
_SHARED_FIELDS: dict[str, frozenset[str]] = {
    "patient": frozenset({"first_name", "last_name", "quiet_hours_start", "quiet_hours_end"}),
    "staff": frozenset({"name"}),
    "location": frozenset({"name", "address", "phone", "timezone"}),
    "room": frozenset({"name", "kind", "video_url", "location_id"}),
}


def connect_listeners() -> None:
    """Follow appointment and clinic-data changes. Connecting again changes nothing: blinker
    keys receivers by identity. Strong references: these must outlive any app."""
    appointment_changed.connect(on_appointment_change, weak=False)
    clinic_data_changed.connect(on_clinic_data_change, weak=False)


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
    """Every feed the appointment was or is in."""
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
    # Stamped by the clock, not the action's time (an import may book in the past): feeds
    # tell calendar apps when they changed.
    touch_owners(session, after | before)
    if before and before != after:
        _record_departures(
            session, appointment.id, before - after, after - before, change.action.now
        )


def on_clinic_data_change(session: Session, change: ClinicDataChange) -> None:
    """Feed settings raise their owner's feed; names, addresses and room details every feed.
    New records are in no feed yet, and records an appointment points at cannot be deleted."""
    if change.kind != "updated":
        return
    owners: set[Owner] = set()
    own = _OWN_FIELDS.get(change.what)
    owner_id = change.patient_id if change.what == "patient" else change.staff_id
    if own is not None and owner_id is not None and change.fields & own[1]:
        owners.add((own[0], owner_id))
    if change.fields & _SHARED_FIELDS.get(change.what, frozenset()):
        owners.add(CLINIC)
    touch_owners(session, owners)


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


# Clears ``touch_owners``' memory of what this transaction raised: it goes with every session,
# app or not, like the function it serves.
@event.listens_for(Session, "after_transaction_end")
def _forget_touched(session: Session, transaction: Any) -> None:
    # Forget at the end of the real transaction, and of a savepoint (a rolled-back savepoint
    # may have undone a raise); not at the end of the inner scopes every flush opens.
    if transaction.parent is None or transaction.nested:
        session.info.pop(_INFO_KEY, None)


def _insert_for(session: Session) -> Any:
    name = session.get_bind().dialect.name
    return postgresql.insert if name == "postgresql" else sqlite.insert
