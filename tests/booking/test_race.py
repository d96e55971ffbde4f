"""Fifty front-desk clients book the same slot at the same instant, each on its own database
connection: exactly one wins (201), forty-nine get 409, and one appointment exists.

On SQLite the writes serialize through BEGIN IMMEDIATE and busy_timeout; on PostgreSQL the
exclusion constraint on resource claims decides between transactions that all passed the
Python check.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import func, select

from scheduler.db import db
from scheduler.models import Appointment, ResourceClaim
from tests.clients import TOMORROW, booking, token_for
from tests.conftest import NOW
from tests.factories import Factory

CLIENTS = 50


@pytest.fixture
def race_app(fresh_app: Callable[..., Flask]) -> Flask:
    # One connection per client: the default pool (5 + 10 overflow) would queue them.
    return fresh_app(
        SQLALCHEMY_ENGINE_OPTIONS={"pool_size": CLIENTS, "max_overflow": 10, "pool_timeout": 60}
    )


@pytest.mark.slow
@pytest.mark.committing
def test_fifty_concurrent_bookings_of_one_slot_give_one_appointment(race_app: Flask) -> None:
    with race_app.app_context():
        make = Factory(db.session, NOW)
        clinic = make.clinic()
        token = token_for(db.session, clinic.front_desk, NOW)
        body = booking(clinic, make.local(clinic.location, TOMORROW, 9).isoformat())
        db.session.remove()

    barrier = threading.Barrier(CLIENTS)
    statuses: list[int] = []
    rules: list[str] = []
    lock = threading.Lock()

    def book() -> None:
        client = race_app.test_client()
        barrier.wait()
        response = client.post(
            "/api/appointments", json=body, headers={"Authorization": f"Bearer {token}"}
        )
        with lock:
            statuses.append(response.status_code)
            if response.status_code == 409:
                rules.append(response.json["rule"])

    threads = [threading.Thread(target=book) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert Counter(statuses) == {201: 1, 409: CLIENTS - 1}
    assert set(rules) == {"overlap"}
    with race_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Appointment)) == 1
        claims = db.session.scalar(select(func.count()).select_from(ResourceClaim))
        assert claims == 3  # the patient, the chair and the clinician
        db.session.remove()
