"""Busy blocks (claims) of an appointment and the overlaps between them.

The Python check here runs inside the write transaction and produces a message naming what is
in the way. It is not the guarantee: on PostgreSQL the ``no_overlapping_claims`` exclusion
constraint is, and on SQLite the ``BEGIN IMMEDIATE`` write lock held around check and insert.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..errors import Conflict
from ..models import Appointment, AppointmentKind, Course, ResourceClaim, Room, StaffMember
from .dosing import dose_span, dosing_interval
from .rules import describe_span

PG_EXCLUSION_VIOLATION = "23P01"


@dataclass(frozen=True)
class Claim:
    resource: str
    resource_id: int
    starts_at: dt.datetime
    ends_at: dt.datetime


def claims_of(appointment: Appointment) -> list[Claim]:
    """The patient and staff are held for the appointment; the room also for its turnover; a
    dose also holds its patient's dosing interval (``dosing.py``)."""
    start, end = appointment.starts_at, appointment.ends_at
    claims = [
        Claim("patient", appointment.patient_id, start, end),
        Claim("room", appointment.room_id, start, appointment.busy_until),
    ]
    claims.extend(Claim("staff", p.staff_id, start, end) for p in appointment.participants)
    if appointment.kind == AppointmentKind.DOSING:
        claims.append(Claim("dose", appointment.patient_id, *dose_span(start, end)))
    return claims


def sync_claims(session: Session, appointment: Appointment) -> None:
    """Make the claim rows match the appointment: none when cancelled."""
    appointment.claims.clear()
    session.flush()
    if appointment.is_live:
        for claim in claims_of(appointment):
            appointment.claims.append(
                ResourceClaim(
                    resource=claim.resource,
                    resource_id=claim.resource_id,
                    starts_at=claim.starts_at,
                    ends_at=claim.ends_at,
                    active=True,
                )
            )


def overlapping(
    session: Session, claims: Iterable[Claim], exclude: Iterable[int] = ()
) -> list[tuple[ResourceClaim, Appointment]]:
    conditions = [
        and_(
            ResourceClaim.resource == c.resource,
            ResourceClaim.resource_id == c.resource_id,
            ResourceClaim.starts_at < c.ends_at,
            ResourceClaim.ends_at > c.starts_at,
        )
        for c in claims
    ]
    if not conditions:
        return []
    query = (
        select(ResourceClaim, Appointment)
        .join(Appointment, Appointment.id == ResourceClaim.appointment_id)
        .where(ResourceClaim.active, or_(*conditions))
        .order_by(Appointment.starts_at, Appointment.id)
    )
    excluded = list(exclude)
    if excluded:
        query = query.where(ResourceClaim.appointment_id.not_in(excluded))
    return [(claim, appt) for claim, appt in session.execute(query)]


def raise_if_overlapping(
    session: Session, appointment: Appointment, tz: ZoneInfo, exclude: Iterable[int] = ()
) -> None:
    found = overlapping(session, claims_of(appointment), exclude)
    if found:
        raise overlap_conflict(session, found, tz)


def overlap_conflict(
    session: Session, found: Sequence[tuple[ResourceClaim, Appointment]], tz: ZoneInfo
) -> Conflict:
    doses = [(claim, other) for claim, other in found if claim.resource == "dose"]
    if len(doses) == len(found):
        return dose_conflict(session, doses, tz)
    found = [(claim, other) for claim, other in found if claim.resource != "dose"]
    conflicts: list[dict[str, Any]] = []
    phrases: list[str] = []
    for claim, other in found:
        name = resource_name(session, claim)
        span = describe_span(tz, claim.starts_at, claim.ends_at)
        conflicts.append(
            {
                "appointment_id": other.id,
                "resource": claim.resource,
                "resource_id": claim.resource_id,
                "resource_name": name,
                "starts_at": claim.starts_at.isoformat(),
                "ends_at": claim.ends_at.isoformat(),
            }
        )
        phrases.append(f"{name} is booked in appointment {other.id} ({span})")
    unique = list(dict.fromkeys(phrases))
    return Conflict("Double booking: " + "; ".join(unique), rule="overlap", conflicts=conflicts)


def dose_conflict(
    session: Session, found: Sequence[tuple[ResourceClaim, Appointment]], tz: ZoneInfo
) -> Conflict:
    """Too close to another dose of the same patient: name that dose and its course."""
    hours = dosing_interval().total_seconds() / 3600
    phrases: list[str] = []
    conflicts: list[dict[str, Any]] = []
    for _claim, other in found:
        course = session.get(Course, other.course_id) if other.course_id else None
        where = f"course {course.id}" if course else "no course"
        number = f" {other.sequence}" if other.sequence else ""
        phrases.append(
            f"dosing session{number} of {where} "
            f"({describe_span(tz, other.starts_at, other.ends_at)})"
        )
        conflicts.append(
            {
                "appointment_id": other.id,
                "course_id": other.course_id,
                "resource": "dose",
                "starts_at": other.starts_at.isoformat(),
                "ends_at": other.ends_at.isoformat(),
            }
        )
    return Conflict(
        f"Doses of one patient must be at least {hours:g} h apart; the patient has "
        + "; ".join(dict.fromkeys(phrases)),
        rule="dosing_interval",
        conflicts=conflicts,
    )


def resource_name(session: Session, claim: ResourceClaim) -> str:
    # The patient is named by role only: conflict messages reach logs and other staff.
    if claim.resource == "patient":
        return "the patient"
    if claim.resource == "room":
        room = session.get(Room, claim.resource_id)
        return room.name if room else f"room {claim.resource_id}"
    staff = session.get(StaffMember, claim.resource_id)
    return staff.name if staff else f"staff member {claim.resource_id}"


def is_exclusion_violation(error: IntegrityError) -> bool:
    return getattr(error.orig, "sqlstate", None) == PG_EXCLUSION_VIOLATION


def flush_claims(session: Session, appointments: Sequence[Appointment], tz: ZoneInfo) -> None:
    """Flush, turning a lost race on PostgreSQL's exclusion constraint into a named 409.

    The transaction is aborted by then, so it is rolled back and the winner looked up afresh.
    """
    try:
        session.flush()
    except IntegrityError as error:
        if not is_exclusion_violation(error):
            raise
        wanted = [c for a in appointments if a.is_live for c in claims_of(a)]
        ids = [a.id for a in appointments if a.id is not None]
        session.rollback()
        found = overlapping(session, wanted, exclude=ids)
        if found:
            raise overlap_conflict(session, found, tz) from None
        raise Conflict(
            "Another booking took this time meanwhile; try again", rule="overlap"
        ) from None
