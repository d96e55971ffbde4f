"""The planner's proposal as the front desk sees it: a timeline where each dosing session sits
beside its integration session, with names for rooms and staff, and the offered alternatives.

The proposal travels between the pages as JSON in a hidden field (like the API's body), so
the confirm button books exactly what was shown; booking checks every rule again.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from ..db import db
from ..models import AppointmentKind, Room, StaffMember, StaffPart


@dataclass
class Slot:
    """A time, room and staff for one session: proposed, or offered instead."""

    starts_at: dt.datetime
    ends_at: dt.datetime
    room_id: int
    staff: tuple[tuple[int, StaffPart], ...]
    breaks: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "starts_at": self.starts_at.isoformat(),
            "ends_at": self.ends_at.isoformat(),
            "room_id": self.room_id,
            "staff": [[staff_id, part.value] for staff_id, part in self.staff],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Slot:
        return cls(
            starts_at=aware(data["starts_at"]),
            ends_at=aware(data["ends_at"]),
            room_id=int(data["room_id"]),
            staff=tuple((int(s), StaffPart(p)) for s, p in data["staff"]),
        )


def aware(text: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError("naive time in a proposal")
    return moment.astimezone(dt.UTC)


@dataclass
class ProposedSession:
    key: str
    kind: AppointmentKind
    title: str
    slot: Slot
    pair_key: str | None = None
    paired_with_key: str | None = None
    #: Booked already and staying where it is (a move's unaffected sessions).
    fixed: bool = False
    alternatives: list[Slot] = field(default_factory=list)
    #: Marked on the page: the slot the user swapped in, or one someone else took meanwhile.
    changed: bool = False
    taken: bool = False


@dataclass
class Row:
    session: ProposedSession
    pairs: list[ProposedSession] = field(default_factory=list)


@dataclass
class ProposalView:
    zone: str
    sessions: list[ProposedSession]
    complete: bool = True
    failure: str | None = None
    failure_key: str | None = None
    rooms: dict[int, Room] = field(default_factory=dict)
    staff: dict[int, StaffMember] = field(default_factory=dict)
    #: The patient's other active or paused dosing courses ("planned after ..."), in words.
    other_courses: list[str] = field(default_factory=list)

    @property
    def rows(self) -> list[Row]:
        """Sessions in time order; each paired session beside the one it follows."""
        by_key = {s.key: Row(s) for s in self.sessions if s.paired_with_key is None}
        loose: list[Row] = []
        for s in self.sessions:
            if s.paired_with_key is None:
                continue
            owner = by_key.get(s.paired_with_key)
            if owner is None:
                loose.append(Row(s))
            else:
                owner.pairs.append(s)
        rows = list(by_key.values()) + loose
        rows.sort(key=lambda r: (r.session.slot.starts_at, r.session.key))
        return rows

    @property
    def completes_at(self) -> dt.datetime | None:
        return max((s.slot.ends_at for s in self.sessions), default=None)

    def room_name(self, slot: Slot) -> str:
        room = self.rooms.get(slot.room_id)
        return room.name if room else f"room {slot.room_id}"

    def staff_names(self, slot: Slot) -> str:
        return ", ".join(
            self.staff[s].name if s in self.staff else f"staff {s}" for s, _part in slot.staff
        )

    def to_json(self) -> str:
        """The bookable part of the proposal: each session's key and slot."""
        return json.dumps(
            {s.key: s.slot.to_json() for s in self.sessions if not s.fixed}, sort_keys=True
        )


def name_things(view: ProposalView) -> ProposalView:
    """Load the rooms and staff a proposal mentions: two queries whatever its size."""
    slots = [s.slot for s in view.sessions] + [a for s in view.sessions for a in s.alternatives]
    room_ids = {slot.room_id for slot in slots}
    staff_ids = {staff_id for slot in slots for staff_id, _ in slot.staff}
    view.rooms = {r.id: r for r in db.session.scalars(select(Room).where(Room.id.in_(room_ids)))}
    view.staff = {
        m.id: m
        for m in db.session.scalars(select(StaffMember).where(StaffMember.id.in_(staff_ids)))
    }
    return view


def parse_slots(text: str) -> dict[str, Slot]:
    """The hidden field back; anything malformed is an empty proposal (planned afresh)."""
    try:
        data = json.loads(text or "{}")
        return {str(key): Slot.from_json(value) for key, value in dict(data).items()}
    except (ValueError, TypeError, KeyError, AttributeError):
        return {}


def mark(sessions: Iterable[ProposedSession], changed: Sequence[str], taken: Sequence[str]) -> None:
    for s in sessions:
        s.changed = s.key in changed
        s.taken = s.key in taken
