"""Loading appointments for a page in a fixed number of queries, whatever their number.

A page lists appointments with their patient, room, location and staff, the session each is
paired with (a dosing session's integration session and back), and where it stands in its
course ("dosing 3 of 6"). Each of those is one query for the whole list, never one per row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session, joinedload, lazyload, selectinload
from sqlalchemy.orm.interfaces import LoaderOption

from ..courses import MovePreview
from ..courses.numbering import SessionNumber, session_numbers
from ..db import db
from ..models import Appointment, AppointmentKind, AppointmentStaff, Room, StaffMember


def appointment_options() -> list[LoaderOption]:
    """Everything a listed appointment shows, loaded with it."""
    return [
        joinedload(Appointment.patient),
        joinedload(Appointment.room),
        joinedload(Appointment.location),
        selectinload(Appointment.participants).joinedload(AppointmentStaff.staff),
    ]


@dataclass
class Entry:
    """One appointment as a page lists it."""

    appointment: Appointment
    #: The session it is paired with: a dosing session's integration session, or the dosing
    #: session an integration session follows.
    pair: Appointment | None = None
    #: Its number in its course step ("5 of 6 (cancelled)"), by the one rule of
    #: ``scheduler.courses.numbering``.
    progress: SessionNumber | None = None

    @property
    def kind(self) -> AppointmentKind:
        return self.appointment.kind


def load_entries(session: Session, query: Select[tuple[Appointment]]) -> list[Entry]:
    """Run ``query`` (over ``Appointment``) and attach pairs and course progress: 4-5 queries."""
    appointments = list(session.scalars(query.options(*appointment_options())).unique())
    return describe(session, appointments)


def describe(session: Session, appointments: Sequence[Appointment]) -> list[Entry]:
    pairs = load_pairs(session, appointments)
    progress = load_progress(session, appointments)
    return [
        Entry(
            appointment=a,
            pair=pairs.get(a.id),
            progress=progress.get(a.id),
        )
        for a in appointments
    ]


def load_pairs(session: Session, appointments: Sequence[Appointment]) -> dict[int, Appointment]:
    """Each appointment's partner, both directions, in one query. A live partner wins over a
    cancelled one (a moved-then-rebooked integration session)."""
    ids = [a.id for a in appointments]
    forward = [a.paired_with_id for a in appointments if a.paired_with_id is not None]
    partners = session.scalars(
        select(Appointment)
        .where(or_(Appointment.id.in_(forward), Appointment.paired_with_id.in_(ids)))
        # Lists show a partner's kind, time, status and room; its staff only on its own page.
        .options(joinedload(Appointment.room), lazyload(Appointment.participants))
        .order_by(Appointment.starts_at)
    ).all()
    by_id = {p.id: p for p in partners}
    found: dict[int, Appointment] = {}
    for a in appointments:
        if a.paired_with_id is not None and a.paired_with_id in by_id:
            found[a.id] = by_id[a.paired_with_id]
    for p in partners:
        if p.paired_with_id is None:
            continue
        current = found.get(p.paired_with_id)
        if current is None or (not current.is_live and p.is_live):
            found[p.paired_with_id] = p
    return found


def load_progress(
    session: Session, appointments: Sequence[Appointment]
) -> dict[int, SessionNumber]:
    """Each course session's number in its step ("3 of 6"): two queries for the whole list."""
    return session_numbers(session, appointments)


def preview_changes(preview: MovePreview) -> list[dict[str, Any]]:
    """Each previewed move as the preview pages show it (also the needs-attention re-plan)."""
    ids = [m.appointment_id for m in preview.moves]
    entries = {
        e.appointment.id: e
        for e in load_entries(db.session, select(Appointment).where(Appointment.id.in_(ids)))
    }
    rooms = {
        r.id: r.name
        for r in db.session.scalars(
            select(Room).where(
                Room.id.in_(
                    {m.room_id for m in preview.moves} | {m.old_room_id for m in preview.moves}
                )
            )
        )
    }
    staff_ids = {s for m in preview.moves for s, _ in m.staff}
    names = dict(
        db.session.execute(
            select(StaffMember.id, StaffMember.name).where(StaffMember.id.in_(staff_ids))
        ).all()
    )
    reasons = {"pair": "its integration session follows", "spacing": "keeps the protocol's spacing"}
    return [
        {
            "appointment": entries[m.appointment_id].appointment,
            "progress": entries[m.appointment_id].progress,
            "reason": reasons.get(m.reason, ""),
            "before_start": m.old_start,
            "before_room": rooms.get(m.old_room_id, ""),
            "after_start": m.starts_at,
            "after_room": rooms.get(m.room_id, ""),
            "after_staff": ", ".join(names.get(s, "") for s, _ in m.staff)
            if m.staff != m.old_staff
            else "",
        }
        for m in preview.moves
    ]
