"""Finding 1 under concurrency: ten front-desk clients book a dosing course for one patient at
the same instant (five IV inductions, five esketamine courses), each on its own connection.
Exactly one course is booked; the others are refused naming it.

Every request plans before it writes, so all ten see no other course. The guarantee is the
per-patient row lock every dosing write takes (``courses/others.py``) before it looks again,
and on PostgreSQL also the exclusion constraint over the patients' ``dose`` claims; on SQLite
the ``BEGIN IMMEDIATE`` write lock serializes them.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import func, select

from scheduler.audit import Action
from scheduler.db import db, write_transaction
from scheduler.models import Course, Protocol, Role, RoomKind
from scheduler.protocols import seed_protocols
from tests.clients import token_for
from tests.conftest import NOW
from tests.factories import Factory

CLIENTS = 10


@pytest.fixture
def race_app(fresh_app: Callable[..., Flask]) -> Flask:
    return fresh_app(
        SQLALCHEMY_ENGINE_OPTIONS={"pool_size": CLIENTS, "max_overflow": 5, "pool_timeout": 120}
    )


@pytest.mark.slow
@pytest.mark.committing
def test_two_dosing_courses_at_once_ten_concurrent_requests_book_one(race_app: Flask) -> None:
    with race_app.app_context():
        make = Factory(db.session, NOW)
        clinic = make.clinic()
        make.room(clinic.location, RoomKind.INFUSION_CHAIR, "Chair 2")
        make.room(clinic.location, RoomKind.MONITORED_TREATMENT_ROOM, "Monitored 1")
        make.staff([Role.THERAPIST], clinic.location, name="Drew Therapist")
        patient = clinic.patient
        patient.rems_enrolled_on = NOW.date() - dt.timedelta(days=30)
        patient.rems_number = "REMS-RACE-1"
        db.session.commit()
        with write_transaction(db.session):
            seed_protocols(db.session, Action("seed", None, NOW))
        protocols = {p.name.split()[0]: p.id for p in db.session.scalars(select(Protocol))}
        token = token_for(db.session, clinic.front_desk, NOW)
        bodies = [
            {
                "patient_id": patient.id,
                "location_id": clinic.location.id,
                "protocol_id": protocols["IV" if n % 2 else "Esketamine"],
            }
            for n in range(CLIENTS)
        ]
        db.session.remove()

    barrier = threading.Barrier(CLIENTS)
    statuses: list[int] = []
    rules: list[str] = []
    lock = threading.Lock()

    def book(body: dict[str, int]) -> None:
        client = race_app.test_client()
        barrier.wait()
        response = client.post(
            "/api/courses", json=body, headers={"Authorization": f"Bearer {token}"}
        )
        with lock:
            statuses.append(response.status_code)
            if response.status_code == 409:
                rules.append(response.json["rule"])

    threads = [threading.Thread(target=book, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)

    assert Counter(statuses) == {201: 1, 409: CLIENTS - 1}, statuses
    assert set(rules) <= {"other_course", "dosing_interval", "overlap"}
    assert "other_course" in rules
    with race_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Course)) == 1
        db.session.remove()
