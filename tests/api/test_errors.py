"""Every error class in smorest's shape, and no 500 for any malformed input."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from tests.clients import booking


def test_malformed_json_is_400(api):
    response = api.post("/api/appointments", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json["code"] == 400 and response.json["status"] == "Bad Request"
    assert response.json["errors"] == {"json": ["Invalid JSON body."]}


@pytest.mark.parametrize(
    "payload",
    ["[]", '"text"', "42", "null", '{"kind": {"$gt": ""}}', '{"patient_id": 1e400}'],
)
def test_json_of_the_wrong_shape_is_422(api, payload):
    response = api.post("/api/appointments", data=payload, content_type="application/json")
    assert response.status_code == 422
    assert set(response.json) >= {"code", "status", "message", "errors"}
    assert "json" in response.json["errors"]


def test_non_json_body_is_refused_without_a_500(api):
    response = api.post("/api/appointments", data="kind=dosing", content_type="text/plain")
    assert response.status_code == 422
    assert "json" in response.json["errors"]


def test_validation_errors_are_per_field(api, clinic, at):
    response = api.post(
        "/api/appointments",
        json={"kind": 3, "patient_id": "one", "room_id": True, "starts_at": at(9), "staff": "x"},
    )
    assert response.status_code == 422
    assert response.json["message"] == "Invalid input"
    fields = response.json["errors"]["json"]
    assert set(fields) == {"kind", "patient_id", "room_id", "staff"}
    assert all(isinstance(messages, list | dict) for messages in fields.values())


@pytest.mark.parametrize(
    ("text", "status", "error"),
    [
        ("nul\x00byte", 422, "must not contain NUL characters"),
        ("emoji 🧪 ok", 200, None),
        ("x" * 10_000, 422, "Length must be between 1 and 120."),
    ],
)
def test_odd_strings_never_500(api, clinic, text, status, error):
    response = api.patch(f"/api/rooms/{clinic.chair.id}", json={"name": text})
    assert response.status_code == status
    if error:
        assert response.json["errors"]["json"]["name"] == [error]
    else:
        assert response.json["name"] == text


def test_forbidden_is_403_with_a_message(api, clinic, at):
    response = api.post("/api/appointments", role="clinician", json=booking(clinic, at(9)))
    assert response.status_code == 403
    assert response.json == {
        "code": 403,
        "status": "Forbidden",
        "message": "Your role does not allow you to book appointments",
    }


def test_unknown_api_route_is_a_json_404(api):
    response = api.get("/api/nothing-here")
    assert response.status_code == 404 and response.is_json


def test_wrong_method_is_405_with_allow(api):
    response = api.call("PUT", "/api/appointments")
    assert response.status_code == 405 and response.is_json
    assert "GET" in response.headers["Allow"] and "POST" in response.headers["Allow"]


def test_unauthenticated_write_is_401_before_validation(api):
    response = api.post("/api/appointments", role=None, data="{bad", content_type="text/plain")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'


@pytest.mark.parametrize("path", ["/api/patients", "/api/courses/plan"])
def test_a_body_nested_too_deeply_is_400_not_500(api, path):
    response = api.post(path, data="[" * 100_000, content_type="application/json")
    assert response.status_code == 400
    assert response.json["message"] == "The request body is nested too deeply"


def test_a_body_over_a_mebibyte_is_413_before_it_is_read(api):
    body = '{"first_name": "' + "x" * (1024 * 1024) + '"}'
    response = api.post("/api/patients", data=body, content_type="application/json")
    assert response.status_code == 413
    assert response.json["code"] == 413


def test_a_page_form_over_a_mebibyte_is_413(app, clinic):
    from tests.web.conftest import sign_in

    client = app.test_client()
    sign_in(client, clinic.front_desk)
    response = client.post("/patients", data={"q": "x" * (1024 * 1024 + 10)})
    assert response.status_code == 413
    assert response.get_data(as_text=True).startswith("413 ")


def _lost_connection() -> OperationalError:
    return OperationalError(
        "SELECT 1", {}, Exception("terminating connection due to administrator command")
    )


def test_a_connection_lost_mid_request_is_a_json_503_with_retry_after(fresh_app, monkeypatch):
    from scheduler.db import db

    app = fresh_app(TESTING=False)

    @app.get("/api/_lost")
    def lost():  # type: ignore[no-untyped-def]
        raise _lost_connection()

    def dead_rollback() -> None:
        raise _lost_connection()  # the error handler's own rollback meets the dead connection

    with app.app_context():
        monkeypatch.setattr(db.session, "rollback", dead_rollback)
        response = app.test_client().get("/api/_lost")
    assert response.status_code == 503 and response.is_json
    assert response.headers["Retry-After"] == "2"
    assert response.json["message"] == "The clinic database is busy; please retry"


def test_an_unexpected_error_is_still_a_json_500(fresh_app):
    app = fresh_app(TESTING=False)

    @app.get("/api/_broken")
    def broken():  # type: ignore[no-untyped-def]
        raise RuntimeError("a bug")

    response = app.test_client().get("/api/_broken")
    assert response.status_code == 500 and response.is_json
    assert response.json == {
        "code": 500,
        "status": "Internal Server Error",
        "message": "Internal error",
    }


class _PgError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def test_a_write_that_lost_a_deadlock_runs_again(app):
    from scheduler.api.retries import retrying

    calls: list[int] = []

    def view() -> str:
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("INSERT …", {}, _PgError("40P01"))
        return "booked"

    with app.test_request_context("/api/courses", method="POST"):
        assert retrying(view)() == "booked"
    assert len(calls) == 2


def test_other_database_errors_and_reads_are_not_run_again(app):
    from scheduler.api.retries import retrying

    calls: list[int] = []

    def view() -> str:
        calls.append(1)
        raise OperationalError("SELECT …", {}, _PgError("57P01"))  # the server shut down

    with app.test_request_context("/api/courses", method="POST"), pytest.raises(OperationalError):
        retrying(view)()
    assert len(calls) == 1
    with app.test_request_context("/api/courses", method="GET"), pytest.raises(OperationalError):
        retrying(view)()
    assert len(calls) == 2
