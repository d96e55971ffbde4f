"""Building the demo clinic through the same domain functions the app uses."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..audit import Action
from ..auth.passwords import set_password
from ..models import (
    Closure,
    Location,
    OpeningHours,
    Patient,
    Room,
    StaffMember,
    TimeOff,
    WorkingHours,
)
from . import people


@dataclass
class DemoSummary:
    created: bool
    locations: int = 0
    rooms: int = 0
    staff: int = 0
    patients: int = 0
    appointments: int = 0
    courses: int = 0
    sign_ins: list[tuple[str, str, str]] = field(default_factory=list)


def demo_present(session: Session) -> bool:
    names = [loc["name"] for loc in people.LOCATIONS]
    return bool(session.scalar(select(func.count(Location.id)).where(Location.name.in_(names))))


def database_empty(session: Session) -> bool:
    return not session.scalar(select(func.count(Location.id))) and not session.scalar(
        select(func.count(StaffMember.id))
    )


def sign_ins() -> list[tuple[str, str, str]]:
    return [
        (email, people.PASSWORD, ", ".join(r.value for r in roles))
        for _name, email, roles, _hours in people.STAFF
    ]


def load_demo(session: Session, action: Action) -> DemoSummary:
    """Create the demo clinic unless it is there. The caller owns the transaction."""
    if demo_present(session):
        return DemoSummary(created=False, sign_ins=sign_ins())
    rng = random.Random(20260302)
    locations = _locations(session)
    staff = _staff(session, locations, action.now)
    patients = _patients(session, rng)
    session.flush()

    from .bookings import book_demo_appointments

    appointments, courses = book_demo_appointments(session, action, locations, staff, patients, rng)
    return DemoSummary(
        created=True,
        locations=len(locations),
        rooms=sum(len(loc.rooms) for loc in locations.values()),
        staff=len(staff),
        patients=len(patients),
        appointments=appointments,
        courses=courses,
        sign_ins=sign_ins(),
    )


def _locations(session: Session) -> dict[str, Location]:
    result: dict[str, Location] = {}
    for data in people.LOCATIONS:
        loc = Location(
            name=data["name"],
            timezone=data["timezone"],
            address=data["address"],
            phone=data["phone"],
        )
        loc.opening_hours = [
            OpeningHours(weekday=day, opens=opens, closes=closes)
            for day, (opens, closes) in sorted(data["hours"].items())
        ]
        loc.closures = [
            Closure(starts_on=start, ends_on=end, reason=reason)
            for start, end, reason in data["closures"]
        ]
        loc.rooms = [
            Room(name=name, kind=kind, video_url=url, active=True)
            for name, kind, url in data["rooms"]
        ]
        session.add(loc)
        result[data["key"]] = loc
    session.flush()
    return result


def _staff(session: Session, locations: dict[str, Location], now: dt.datetime) -> list[StaffMember]:
    members: list[StaffMember] = []
    for name, email, roles, hours in people.STAFF:
        member = StaffMember(name=name, email=email, active=True)
        member.set_roles(roles)
        set_password(member, people.PASSWORD)
        member.working_hours = [
            WorkingHours(location_id=locations[key].id, weekday=day, starts=starts, ends=ends)
            for key, (starts, ends, days) in hours.items()
            for day in days
        ]
        session.add(member)
        members.append(member)
    session.flush()
    # One therapist is away for a few days in three weeks' time, so plans route around it.
    away = next(m for m in members if m.email == "s.ortiz@demo.clinic")
    start = dt.datetime.combine(now.date() + dt.timedelta(days=21), dt.time(0), dt.UTC)
    session.add(
        TimeOff(
            staff_id=away.id,
            starts_at=start,
            ends_at=start + dt.timedelta(days=3),
            reason="Conference",
        )
    )
    return members


def _patients(session: Session, rng: random.Random) -> list[Patient]:
    patients: list[Patient] = []
    for i, (first, last) in enumerate(zip(people.FIRST_NAMES, people.LAST_NAMES, strict=True)):
        home = "ny" if i % 3 else "berlin"
        zone = rng.choice(people.PATIENT_ZONES[home])
        ascii_last = last.lower().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")
        patient = Patient(
            first_name=first,
            last_name=last,
            date_of_birth=dt.date(
                1960 + rng.randrange(40), rng.randrange(1, 13), rng.randrange(1, 28)
            ),
            email=f"{first.lower()}.{ascii_last}@patients.example",
            phone=f"+1 555 01{i:02d}" if home == "ny" else f"+49 151 5550 {i:04d}",
            timezone=zone,
            remind_by_email=True,
            remind_by_sms=i % 4 == 0,
            notes="Demo patient. Treatment-resistant depression; see intake form.",
        )
        session.add(patient)
        patients.append(patient)
    session.flush()
    return patients
