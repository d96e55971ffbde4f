"""Course fixtures: a clinic in the database with the seeded protocols."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from scheduler.audit import Action
from scheduler.db import write_transaction
from scheduler.models import Protocol, Role, RoomKind
from scheduler.protocols import seed_protocols

from ..factories import Clinic, Factory


@dataclass
class CourseClinic:
    clinic: Clinic
    protocols: dict[str, Protocol]

    def protocol(self, prefix: str) -> Protocol:
        return next(p for name, p in self.protocols.items() if name.startswith(prefix))


@pytest.fixture
def course_clinic(make: Factory, session, now: dt.datetime) -> CourseClinic:
    clinic = make.clinic()
    make.room(clinic.location, RoomKind.INFUSION_CHAIR, "Chair 2")
    make.room(clinic.location, RoomKind.PROCEDURE_ROOM, "Procedure 1")
    make.room(clinic.location, RoomKind.MONITORED_TREATMENT_ROOM, "Monitored 1")
    make.staff([Role.THERAPIST], clinic.location, name="Drew Therapist")
    make.staff([Role.CLINICIAN], clinic.location, name="Cory Clinician")
    with write_transaction(session):
        seed_protocols(session, Action("seed", None, now))
    protocols = {p.name: p for p in session.scalars(select(Protocol))}
    return CourseClinic(clinic, protocols)


@pytest.fixture
def api(app, client, session, course_clinic: CourseClinic, now: dt.datetime):  # type: ignore[no-untyped-def]
    from tests.clients import Api, token_for

    c = course_clinic.clinic
    members = {
        "admin": c.admin,
        "front_desk": c.front_desk,
        "clinician": c.clinician,
        "therapist": c.therapist,
    }
    return Api(client, {role: token_for(session, m, now, 24) for role, m in members.items()})
