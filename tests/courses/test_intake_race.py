"""A busy intake morning: eight front desks plan and book IV inductions for eight new patients
at the same instant, each on its own connection. Every plan picks the same earliest times, so
all but one lose some slot to another; the server plans those again from what is booked now
(in turns at the location after a few tries), and every course that fits is booked."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import func, select

from scheduler.audit import Action
from scheduler.db import db, write_transaction
from scheduler.models import Appointment, Course, Protocol, Role, RoomKind
from scheduler.protocols import seed_protocols
from tests.clients import token_for
from tests.conftest import NOW
from tests.factories import Factory

CLIENTS = 8


@pytest.fixture
def intake_app(fresh_app: Callable[..., Flask]) -> Flask:
    return fresh_app(
        SQLALCHEMY_ENGINE_OPTIONS={"pool_size": CLIENTS, "max_overflow": 5, "pool_timeout": 120}
    )


@pytest.mark.slow
@pytest.mark.committing
def test_concurrent_plan_and_book_for_one_intake_day_books_every_course(
    intake_app: Flask,
) -> None:
    with intake_app.app_context():
        make = Factory(db.session, NOW)
        clinic = make.clinic()
        make.room(clinic.location, RoomKind.INFUSION_CHAIR, "Chair 2")
        make.room(clinic.location, RoomKind.PROCEDURE_ROOM, "Procedure 1")
        make.staff([Role.THERAPIST], clinic.location, name="Drew Therapist")
        make.staff([Role.CLINICIAN], clinic.location, name="Cory Clinician")
        patients = [make.patient(first_name=f"Intake{n}") for n in range(CLIENTS)]
        db.session.commit()
        with write_transaction(db.session):
            seed_protocols(db.session, Action("seed", None, NOW))
        iv = db.session.scalars(select(Protocol.id).where(Protocol.name.like("IV%"))).one()
        token = token_for(db.session, clinic.front_desk, NOW)
        bodies = [
            {"patient_id": p.id, "location_id": clinic.location.id, "protocol_id": iv}
            for p in patients
        ]
        db.session.commit()
        db.session.remove()

    barrier = threading.Barrier(CLIENTS)
    answers: list[tuple[int, object]] = []
    lock = threading.Lock()

    def book(body: dict[str, int]) -> None:
        client = intake_app.test_client()
        barrier.wait()
        response = client.post(
            "/api/courses", json=body, headers={"Authorization": f"Bearer {token}"}
        )
        with lock:
            answers.append((response.status_code, response.json))

    threads = [threading.Thread(target=book, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)

    assert Counter(status for status, _ in answers) == {201: CLIENTS}, answers
    with intake_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Course)) == CLIENTS
        booked = db.session.scalar(select(func.count()).select_from(Appointment))
        assert booked == CLIENTS * 13
        db.session.remove()
