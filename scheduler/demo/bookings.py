"""A few weeks of appointments for the demo clinic: induction series, past and upcoming."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from ..audit import Action
from ..booking import AppointmentRequest, book_appointment
from ..errors import Conflict
from ..models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    Location,
    Patient,
    Role,
    RoomKind,
    StaffMember,
    StaffPart,
)

SERIES_PATIENTS = 18
HOURS = (8, 9, 10, 11, 13, 14, 15, 16)


def book_demo_appointments(
    session: Session,
    action: Action,
    locations: dict[str, Location],
    staff: list[StaffMember],
    patients: list[Patient],
    rng: random.Random,
) -> tuple[int, int]:
    """Book induction series (evaluation, 6 infusions, each with integration) for some patients,
    starting from three weeks ago to two weeks ahead. Returns (appointments, courses)."""
    count = 0
    for i, patient in enumerate(patients[:SERIES_PATIENTS]):
        location = locations["ny"] if i % 3 else locations["berlin"]
        offset = rng.randrange(-24, 15)
        start_day = action.now.date() + dt.timedelta(days=offset)
        count += _book_series(session, action, location, staff, patient, start_day, rng)
    return count, 0


def _book_series(
    session: Session,
    action: Action,
    location: Location,
    staff: list[StaffMember],
    patient: Patient,
    first_day: dt.date,
    rng: random.Random,
) -> int:
    clinicians = _working_at(staff, location, Role.CLINICIAN)
    therapists = _working_at(staff, location, Role.THERAPIST)
    chairs = [r for r in location.rooms if r.kind == RoomKind.INFUSION_CHAIR]
    talk_rooms = [
        r for r in location.rooms if r.kind in {RoomKind.THERAPY_ROOM, RoomKind.TELEHEALTH}
    ]
    therapist = rng.choice(therapists)
    booked = 0
    evaluation_day = _weekday_on_or_before(first_day - dt.timedelta(days=2))
    if _book_first_fit(
        session,
        action,
        location,
        patient,
        AppointmentKind.EVALUATION,
        evaluation_day,
        60,
        0,
        talk_rooms[:1] + chairs[:0] + talk_rooms[1:],
        [(c, StaffPart.EVALUATING_CLINICIAN) for c in clinicians],
    ):
        booked += 1
    day = _weekday_on_or_after(first_day)
    for _n in range(6):
        dose = _book_first_fit(
            session,
            action,
            location,
            patient,
            AppointmentKind.DOSING,
            day,
            100,
            15,
            chairs,
            [(c, StaffPart.ADMINISTERING_CLINICIAN) for c in clinicians],
        )
        if dose is None:
            day = _weekday_on_or_after(day + dt.timedelta(days=1))
            continue
        booked += 1
        follow = _weekday_on_or_after(day + dt.timedelta(days=1))
        pair = _book_first_fit(
            session,
            action,
            location,
            patient,
            AppointmentKind.INTEGRATION,
            follow,
            50,
            0,
            talk_rooms,
            [(therapist, StaffPart.THERAPIST)]
            + [(t, StaffPart.THERAPIST) for t in therapists if t is not therapist],
            paired_with=dose,
        )
        booked += pair is not None
        day = _weekday_on_or_after(day + dt.timedelta(days=2))
    return booked


def _book_first_fit(
    session: Session,
    action: Action,
    location: Location,
    patient: Patient,
    kind: AppointmentKind,
    day: dt.date,
    minutes: int,
    buffer: int,
    rooms: list,  # type: ignore[type-arg]
    people: list[tuple[StaffMember, StaffPart]],
    paired_with: Appointment | None = None,
) -> Appointment | None:
    tz = ZoneInfo(location.timezone)
    for start in _candidate_starts(day, tz):
        end = start + dt.timedelta(minutes=minutes)
        for room in rooms:
            for member, part in people:
                request = AppointmentRequest(
                    kind=kind,
                    patient_id=patient.id,
                    location_id=location.id,
                    room_id=room.id,
                    starts_at=start,
                    ends_at=end,
                    staff=[(member.id, part)],
                    buffer_minutes=buffer,
                    status=(
                        AppointmentStatus.COMPLETED
                        if end < action.now
                        else AppointmentStatus.SCHEDULED
                    ),
                    paired_with_id=paired_with.id if paired_with else None,
                )
                try:
                    return book_appointment(session, request, action, allow_past=True)
                except Conflict:
                    continue
    return None


def _candidate_starts(day: dt.date, tz: ZoneInfo) -> Iterator[dt.datetime]:
    for hour in HOURS:
        yield dt.datetime.combine(day, dt.time(hour), tz).astimezone(dt.UTC)


def _working_at(staff: list[StaffMember], location: Location, role: Role) -> list[StaffMember]:
    return [
        m
        for m in staff
        if role in m.roles and any(h.location_id == location.id for h in m.working_hours)
    ]


def _weekday_on_or_after(day: dt.date) -> dt.date:
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def _weekday_on_or_before(day: dt.date) -> dt.date:
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    return day
