"""A therapist's busy week for the query-budget test: N integration sessions, each paired
with a dosing session the week before, all in courses."""

from __future__ import annotations

import copy
import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import select

from scheduler.audit import Action
from scheduler.booking import AppointmentRequest, book_appointment
from scheduler.db import write_transaction
from scheduler.models import (
    AppointmentKind,
    Course,
    Location,
    Patient,
    ProtocolVersion,
    Role,
    RoomKind,
    StaffMember,
    StaffPart,
)
from scheduler.protocols.seed import IV_INDUCTION
from scheduler.protocols.versions import create_protocol
from tests.factories import Factory

WEEK = dt.date(2026, 3, 9)  # a Monday, after the tests' NOW
PER_DAY = 12
CHAIRS = 6


@dataclass
class BusyWeek:
    location: Location
    therapist: StaffMember
    front_desk: StaffMember
    patients: list[Patient]
    courses: list[Course]


def protocol_version(make: Factory) -> ProtocolVersion:
    """A valid protocol (pages read its steps to number the sessions), with its own name."""
    document = {**copy.deepcopy(IV_INDUCTION), "name": f"Test protocol {uuid.uuid4().hex[:8]}"}
    with write_transaction(make.session):
        protocol = create_protocol(make.session, Action("test", None, make.now), document)
    return make.session.scalars(
        select(ProtocolVersion).where(ProtocolVersion.protocol_id == protocol.id)
    ).one()


def busy_week(make: Factory, n: int, *, one_patient: bool = False) -> BusyWeek:
    """``n`` (up to 60) integration sessions of 50 minutes for one therapist in ``WEEK``, 12 a
    day from 08:00, each paired with a dosing session on the same weekday of the week before.
    With ``one_patient``, one patient has them all (and only the first is paired)."""
    location = make.location(weekdays=range(7), hours=(dt.time(7), dt.time(19)))
    chairs = [make.room(location, RoomKind.INFUSION_CHAIR) for _ in range(CHAIRS)]
    therapy = make.room(location, RoomKind.THERAPY_ROOM)
    clinicians = [
        make.staff([Role.CLINICIAN], location, weekdays=range(7), hours=(dt.time(7), dt.time(19)))
        for _ in range(CHAIRS)
    ]
    therapist = make.staff([Role.THERAPIST], location, name="Busy Therapist")
    front_desk = make.staff([Role.FRONT_DESK], location)
    version = protocol_version(make)
    count = 1 if one_patient else n
    patients = [make.patient() for _ in range(count)]
    courses = [
        Course(patient_id=p.id, location_id=location.id, protocol_version_id=version.id)
        for p in patients
    ]
    make.session.add_all(courses)
    make.session.commit()
    action = Action("test", None, make.now)
    with write_transaction(make.session):
        for i in range(n):
            day = WEEK + dt.timedelta(days=i // PER_DAY)
            k = 0 if one_patient else i
            dosing_id = None
            if not one_patient or i == 0:
                slot = i % PER_DAY
                chair = slot % CHAIRS
                start = make.local(location, day - dt.timedelta(days=7), 7 + 2 * (slot // CHAIRS))
                dosing = book_appointment(
                    make.session,
                    AppointmentRequest(
                        kind=AppointmentKind.DOSING,
                        patient_id=patients[k].id,
                        location_id=location.id,
                        room_id=chairs[chair].id,
                        starts_at=start,
                        ends_at=start + dt.timedelta(minutes=100),
                        staff=[(clinicians[chair].id, StaffPart.ADMINISTERING_CLINICIAN)],
                        buffer_minutes=15,
                        course_id=courses[k].id,
                        step_key="dosing",
                        sequence=1,
                    ),
                    action,
                    allow_past=True,
                )
                dosing_id = dosing.id
            start = make.local(location, day, 8) + dt.timedelta(minutes=50 * (i % PER_DAY))
            book_appointment(
                make.session,
                AppointmentRequest(
                    kind=AppointmentKind.INTEGRATION,
                    patient_id=patients[k].id,
                    location_id=location.id,
                    room_id=therapy.id,
                    starts_at=start,
                    ends_at=start + dt.timedelta(minutes=50),
                    staff=[(therapist.id, StaffPart.THERAPIST)],
                    course_id=courses[k].id,
                    step_key="integration",
                    sequence=(i + 1) if one_patient else 1,
                    paired_with_id=dosing_id,
                ),
                action,
            )
    return BusyWeek(location, therapist, front_desk, patients, courses)
