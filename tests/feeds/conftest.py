"""A small clinic with a course across a daylight-saving change, in two time zones, with
secrets planted where no feed may look (notes, a dose, a diagnosis)."""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from scheduler.audit import Action
from scheduler.booking import cancel_appointment
from scheduler.db import write_transaction
from scheduler.feeds import issue_feed_token
from scheduler.models import (
    Appointment,
    AppointmentKind,
    Course,
    FeedOwnerKind,
    FeedPrivacy,
    Location,
    Patient,
    Role,
    Room,
    RoomKind,
    StaffMember,
    StaffPart,
)
from scheduler.protocols.seed import IV_INDUCTION
from scheduler.protocols.versions import create_protocol
from tests.conftest import NOW
from tests.factories import Clinic, Factory

#: Planted in every place a feed must never read; none may appear in any feed.
SECRETS = ("SECRET-NOTE", "DIAGNOSIS-F33", "0.5 mg/kg", "DOSE-REASON")


@dataclass
class FeedClinic:
    ny: Clinic
    berlin: Location
    berlin_chair: Room
    berlin_therapy: Room
    berlin_clinician: StaffMember
    berlin_therapist: StaffMember
    avery: Patient  # New York, standard privacy, IV course across the US DST change
    blake: Patient  # lives in Los Angeles, detailed privacy, treated in New York
    emile: Patient  # Berlin, minimal privacy, series across the EU DST change
    course: Course
    appointments: list[Appointment] = field(default_factory=list)
    cancelled: Appointment | None = None

    @property
    def patients(self) -> list[Patient]:
        return [self.avery, self.blake, self.emile]

    @property
    def staff(self) -> list[StaffMember]:
        return [
            self.ny.clinician,
            self.ny.therapist,
            self.berlin_clinician,
            self.berlin_therapist,
        ]


def book(
    session: Session,
    *,
    patient: Patient,
    location: Location,
    room: Room,
    kind: AppointmentKind,
    start: dt.datetime,
    minutes: int,
    staff: list[tuple[StaffMember, StaffPart]],
    course: Course | None = None,
    step_key: str | None = None,
    sequence: int | None = None,
    now: dt.datetime = NOW,
) -> Appointment:
    return Factory(session, now).appointment(
        patient=patient,
        location=location,
        room=room,
        kind=kind,
        start=start,
        minutes=minutes,
        staff=staff,
        buffer_minutes=15 if kind == AppointmentKind.DOSING else 0,
        course=course,
        step_key=step_key,
        sequence=sequence,
        internal_note="SECRET-NOTE: patient disclosed DIAGNOSIS-F33, 0.5 mg/kg",
        allow_past=True,
    )


def local(location: Location, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    from zoneinfo import ZoneInfo

    return dt.datetime.combine(day, dt.time(hour, minute), ZoneInfo(location.timezone)).astimezone(
        dt.UTC
    )


def build_clinic(session: Session, make: Factory) -> FeedClinic:
    ny = make.clinic()
    ny.location.address = "350 5th Ave, New York, NY 10118"
    ny.location.phone = "+1 212 555 0100"
    berlin = make.location("Berlin Mitte", timezone="Europe/Berlin")
    berlin.address = "Friedrichstraße 43, 10117 Berlin"
    session.commit()
    berlin_chair = make.room(berlin, RoomKind.INFUSION_CHAIR, "Stuhl 1")
    berlin_therapy = make.room(berlin, RoomKind.THERAPY_ROOM, "Raum Ü")
    berlin_clinician = make.staff([Role.CLINICIAN], berlin, name="Jonas Krüger")
    berlin_therapist = make.staff([Role.THERAPIST], berlin, name="Zoë Ångström-Müller")

    avery = ny.patient
    avery.feed_privacy = FeedPrivacy.STANDARD
    avery.notes = "DIAGNOSIS-F33 recurrent depression; started at 0.5 mg/kg"
    blake = make.patient("Blake", "Okafor", timezone="America/Los_Angeles")
    blake.feed_privacy = FeedPrivacy.DETAILED
    blake.notes = "SECRET-NOTE DIAGNOSIS-F33"
    emile = make.patient("Émile", "Dubois", timezone="Europe/Berlin")
    emile.notes = "SECRET-NOTE"
    session.commit()

    document = copy.deepcopy(IV_INDUCTION)
    document["name"] = "IV induction (test)"
    document["description"] = "Racemic ketamine 0.5 mg/kg over 40 min for DIAGNOSIS-F33."
    document["preconditions"] = ["DIAGNOSIS-F33 confirmed"]
    with write_transaction(session):
        protocol = create_protocol(session, Action("test", None, NOW), document)
    version = protocol.versions[-1]
    course = Course(patient_id=avery.id, location_id=ny.location.id, protocol_version_id=version.id)
    session.add(course)
    session.commit()

    fc = FeedClinic(
        ny=ny,
        berlin=berlin,
        berlin_chair=berlin_chair,
        berlin_therapy=berlin_therapy,
        berlin_clinician=berlin_clinician,
        berlin_therapist=berlin_therapist,
        avery=avery,
        blake=blake,
        emile=emile,
        course=course,
    )
    loc = ny.location
    dosing = [(ny.clinician, StaffPart.ADMINISTERING_CLINICIAN)]
    therapy = [(ny.therapist, StaffPart.THERAPIST)]
    # A past visit, inside the 90-day window.
    fc.appointments.append(
        book(
            session,
            patient=avery,
            location=loc,
            room=ny.therapy_room,
            kind=AppointmentKind.EVALUATION,
            start=local(loc, dt.date(2026, 2, 16), 10),
            minutes=60,
            staff=[(ny.clinician, StaffPart.EVALUATING_CLINICIAN)],
            course=course,
            step_key="evaluation",
            sequence=1,
        )
    )
    # Six infusions Mon/Wed/Fri at 09:00 New York time, across Sunday 8 March (EST -> EDT),
    # each with an integration session the next day at 14:00.
    days = [dt.date(2026, 3, d) for d in (4, 6, 9, 11, 13, 16)]
    for number, day in enumerate(days, start=1):
        fc.appointments.append(
            book(
                session,
                patient=avery,
                location=loc,
                room=ny.chair,
                kind=AppointmentKind.DOSING,
                start=local(loc, day, 9),
                minutes=100,
                staff=dosing,
                course=course,
                step_key="dosing",
                sequence=number,
            )
        )
        after = day + dt.timedelta(days=1 if day.weekday() != 4 else 3)
        fc.appointments.append(
            book(
                session,
                patient=avery,
                location=loc,
                room=ny.telehealth if number % 2 else ny.therapy_room,
                kind=AppointmentKind.INTEGRATION,
                start=local(loc, after, 14),
                minutes=50,
                staff=therapy,
                course=course,
                step_key="integration",
                sequence=number,
            )
        )
    # Blake lives in Los Angeles and comes to New York.
    fc.appointments.append(
        book(
            session,
            patient=blake,
            location=loc,
            room=ny.chair,
            kind=AppointmentKind.DOSING,
            start=local(loc, dt.date(2026, 3, 10), 11),
            minutes=100,
            staff=dosing,
        )
    )
    fc.appointments.append(
        book(
            session,
            patient=blake,
            location=loc,
            room=ny.telehealth,
            kind=AppointmentKind.INTEGRATION,
            start=local(loc, dt.date(2026, 3, 12), 16),
            minutes=50,
            staff=therapy,
        )
    )
    # Émile in Berlin, weekly on Thursdays across Sunday 29 March (CET -> CEST).
    for day in (dt.date(2026, 3, 19), dt.date(2026, 3, 26), dt.date(2026, 4, 2)):
        fc.appointments.append(
            book(
                session,
                patient=emile,
                location=berlin,
                room=berlin_chair,
                kind=AppointmentKind.DOSING,
                start=local(berlin, day, 10),
                minutes=100,
                staff=[(berlin_clinician, StaffPart.ADMINISTERING_CLINICIAN)],
            )
        )
        fc.appointments.append(
            book(
                session,
                patient=emile,
                location=berlin,
                room=berlin_therapy,
                kind=AppointmentKind.INTEGRATION,
                start=local(berlin, day + dt.timedelta(days=1), 11),
                minutes=50,
                staff=[(berlin_therapist, StaffPart.THERAPIST)],
            )
        )
    cancelled = fc.appointments[-1]
    with write_transaction(session):
        cancel_appointment(session, cancelled, Action("test", None, NOW), "DOSE-REASON: travelling")
    fc.cancelled = cancelled
    return fc


@pytest.fixture
def clinic(session: Session, make: Factory) -> FeedClinic:
    return build_clinic(session, make)


@pytest.fixture
def feed_token(session: Session) -> Callable[[FeedOwnerKind, int], str]:
    def issue(kind: FeedOwnerKind, owner_id: int) -> str:
        with write_transaction(session):
            return issue_feed_token(session, kind, owner_id, Action("test", None, NOW))

    return issue


@pytest.fixture
def fetch(client: FlaskClient) -> Callable[..., TestResponse]:
    def get(token: str, **headers: str) -> TestResponse:
        return client.get(f"/feeds/{token}.ics", headers=headers)

    return get


def unfold(text: str) -> str:
    return re.sub(r"\r\n[ \t]", "", text)


def expected_appointments(
    session: Session, where: Callable[[Appointment], bool], now: dt.datetime = NOW
) -> list[Appointment]:
    """What a feed must hold, computed from the database without the feeds module."""
    from sqlalchemy import select

    today = dt.datetime.combine(now.date(), dt.time(0), dt.UTC)
    start, end = today - dt.timedelta(days=90), today + dt.timedelta(days=366)
    since = today - dt.timedelta(days=30)
    found = []
    for appointment in session.scalars(select(Appointment)):
        if not where(appointment):
            continue
        if not (appointment.starts_at < end and appointment.ends_at > start):
            continue
        if appointment.cancelled_at is not None and appointment.cancelled_at < since:
            continue
        found.append(appointment)
    return found


def feed_events(body: bytes) -> dict[str, Any]:
    from icalendar import Calendar

    calendar = Calendar.from_ical(body)
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}
