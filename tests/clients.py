"""The API as a client sees it: a small clinic, a bearer token per role and a JSON client;
the fixtures are available to every test (registered in the root conftest)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from scheduler.auth.bearer_tokens import issue_token
from scheduler.models import StaffMember
from tests.factories import Clinic, Factory

TOMORROW = dt.date(2026, 3, 3)  # a Tuesday; the test clock says Mon 2 Mar 2026 07:00 UTC
ROLES = ("admin", "front_desk", "clinician", "therapist")


@dataclass
class Api:
    """A test client that signs every request with one role's token."""

    client: FlaskClient
    tokens: dict[str, str]

    def call(
        self, method: str, path: str, role: str | None = "admin", **kwargs: Any
    ) -> TestResponse:
        headers = dict(kwargs.pop("headers", {}))
        if role is not None:
            headers["Authorization"] = f"Bearer {self.tokens[role]}"
        return self.client.open(path, method=method, headers=headers, **kwargs)

    def get(self, path: str, role: str | None = "admin", **kw: Any) -> TestResponse:
        return self.call("GET", path, role, **kw)

    def post(self, path: str, role: str | None = "admin", **kw: Any) -> TestResponse:
        return self.call("POST", path, role, **kw)

    def patch(self, path: str, role: str | None = "admin", **kw: Any) -> TestResponse:
        return self.call("PATCH", path, role, **kw)

    def delete(self, path: str, role: str | None = "admin", **kw: Any) -> TestResponse:
        return self.call("DELETE", path, role, **kw)


def token_for(session: Any, member: StaffMember, now: dt.datetime, hours: float = 12) -> str:
    token, _row = issue_token(session, member, now, dt.timedelta(hours=hours))
    session.commit()
    return token


@pytest.fixture
def clinic(make: Factory) -> Clinic:
    return make.clinic()


@pytest.fixture
def tokens(clinic: Clinic, session: Any, now: dt.datetime) -> dict[str, str]:
    members = {
        "admin": clinic.admin,
        "front_desk": clinic.front_desk,
        "clinician": clinic.clinician,
        "therapist": clinic.therapist,
    }
    return {role: token_for(session, member, now, hours=24) for role, member in members.items()}


@pytest.fixture
def api(app: Flask, tokens: dict[str, str]) -> Api:
    return Api(app.test_client(), tokens)


@pytest.fixture
def at(clinic: Clinic, make: Factory) -> Callable[..., str]:
    """ISO instant of a local wall-clock time at the clinic's location (default: tomorrow)."""

    def local(hour: int, minute: int = 0, day: dt.date = TOMORROW) -> str:
        return make.local(clinic.location, day, hour, minute).isoformat()

    return local


def booking(clinic: Clinic, starts_at: str, **overrides: Any) -> dict[str, Any]:
    """A valid booking body for ``clinic``: an evaluation, since a dose is only ever booked
    through a course (``POST /api/courses``)."""
    body: dict[str, Any] = {
        "kind": "evaluation",
        "patient_id": clinic.patient.id,
        "room_id": clinic.therapy_room.id,
        "starts_at": starts_at,
        "duration_minutes": 100,
        "buffer_minutes": 15,
        "staff": [{"staff_id": clinic.clinician.id, "part": "evaluating_clinician"}],
    }
    body.update(overrides)
    return body
