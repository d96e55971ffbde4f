"""Whose feed it is: the few owner columns a feed shows, read without loading ORM objects."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import FeedOwnerKind, FeedPrivacy, Location, Patient, Room, StaffMember, WorkingHours
from .feed_queries import AppointmentFacts
from .privacy import Audience

MINIMAL_CALENDAR_NAME = "Clinic appointments"


@dataclass(frozen=True)
class FeedOwner:
    audience: Audience
    name: str
    #: The zone the reader lives or works in (patients: their own; rooms: their location's).
    timezone: str | None

    def calendar_name(self, clinic_name: str) -> str:
        if self.audience.kind == FeedOwnerKind.PATIENT:
            if self.audience.privacy == FeedPrivacy.MINIMAL:
                return MINIMAL_CALENDAR_NAME
            return clinic_name
        return f"{clinic_name}: {self.name}"

    def calendar_zone(self, session: Session, facts: Sequence[AppointmentFacts]) -> str:
        """X-WR-TIMEZONE: the zone a client shows the calendar in by default. Events carry
        their own TZID; for staff, the zone most of their appointments are in."""
        if self.timezone:
            return self.timezone
        if facts:
            return Counter(f.timezone for f in facts).most_common(1)[0][0]
        zone = session.scalar(
            select(Location.timezone)
            .join(WorkingHours, WorkingHours.location_id == Location.id)
            .where(WorkingHours.staff_id == self.audience.owner_id)
            .order_by(WorkingHours.id)
            .limit(1)
        )
        return zone or "UTC"


def load_owner(session: Session, kind: FeedOwnerKind, owner_id: int) -> FeedOwner | None:
    """The owner, or None when it is gone (or is a deactivated staff member)."""
    if kind == FeedOwnerKind.PATIENT:
        row = session.execute(
            select(Patient.feed_privacy, Patient.timezone).where(Patient.id == owner_id)
        ).first()
        if row is None:
            return None
        audience = Audience(kind, owner_id, privacy=FeedPrivacy(row[0]))
        return FeedOwner(audience, "", row[1])
    if kind == FeedOwnerKind.STAFF:
        row = session.execute(
            select(StaffMember.name, StaffMember.feed_full_names, StaffMember.active).where(
                StaffMember.id == owner_id
            )
        ).first()
        if row is None or not row[2]:
            return None
        return FeedOwner(Audience(kind, owner_id, full_names=bool(row[1])), row[0], None)
    if kind == FeedOwnerKind.ROOM:
        row = session.execute(
            select(Room.name, Location.timezone)
            .join(Location, Location.id == Room.location_id)
            .where(Room.id == owner_id)
        ).first()
    else:
        row = session.execute(
            select(Location.name, Location.timezone).where(Location.id == owner_id)
        ).first()
    return FeedOwner(Audience(kind, owner_id), row[0], row[1]) if row else None
