"""Subscribe links: random, hashed, rotated and revoked at once; managed through the API."""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import select

from scheduler.audit import Action
from scheduler.auth.bearer_tokens import issue_token
from scheduler.db import write_transaction
from scheduler.feeds import feed_links, issue_feed_token, revoke_feed_tokens
from scheduler.feeds.tokens import digest
from scheduler.models import AuditEntry, FeedOwnerKind, FeedToken, Role
from tests.conftest import NOW


@pytest.fixture
def small(make):
    clinic = make.clinic()
    make.appointment(clinic)
    return clinic


@pytest.fixture
def bearer(session, small):
    import datetime as dt

    def token(member) -> dict[str, str]:
        with write_transaction(session):
            plain, _row = issue_token(session, member, NOW, dt.timedelta(hours=1))
        return {"Authorization": f"Bearer {plain}"}

    return token


def test_tokens_are_long_random_and_stored_only_as_a_hash(session, small, feed_token):
    tokens = {feed_token(FeedOwnerKind.PATIENT, small.patient.id) for _ in range(5)}
    assert len(tokens) == 5
    for token in tokens:
        assert len(base64.urlsafe_b64decode(token + "=")) == 32  # 256 random bits
        assert small.patient.first_name.lower() not in token.lower()
    rows = session.scalars(select(FeedToken)).all()
    stored = {r.token_hash for r in rows}
    assert all(digest(t) in stored for t in tokens)
    assert not any(t in stored for t in tokens)
    # Only the last one is live: issuing rotates.
    assert sum(r.revoked_at is None for r in rows) == 1
    audit = " ".join(str(e.after) + str(e.before) for e in session.scalars(select(AuditEntry)))
    assert not any(t in audit for t in tokens)


def test_rotation_and_revocation_end_the_old_url_at_once(session, small, feed_token, fetch):
    old = feed_token(FeedOwnerKind.PATIENT, small.patient.id)
    assert fetch(old).status_code == 200
    new = feed_token(FeedOwnerKind.PATIENT, small.patient.id)
    assert fetch(old).status_code == 404
    assert fetch(new).status_code == 200
    with write_transaction(session):
        assert revoke_feed_tokens(
            session, FeedOwnerKind.PATIENT, small.patient.id, Action("t", None, NOW)
        )
    assert fetch(new).status_code == 404


def test_links_in_both_forms():
    links = feed_links("https://clinic.example.org/", "abc")
    assert links.url == "https://clinic.example.org/feeds/abc.ics"
    assert links.webcal_url == "webcal://clinic.example.org/feeds/abc.ics"


def test_api_issues_links_once_with_a_qr_code(client, small, bearer, fetch):
    headers = bearer(small.front_desk)
    path = f"/api/feeds/patients/{small.patient.id}"
    assert client.get(path, headers=headers).json["active"] is False
    issued = client.post(f"{path}/rotate", headers=headers)
    assert issued.status_code == 201
    assert issued.headers["Cache-Control"] == "no-store"
    body = issued.json
    assert body["url"].startswith("https://clinic.example.org/feeds/")
    assert body["webcal_url"] == body["url"].replace("https://", "webcal://")
    svg = base64.b64decode(body["qr_svg"].split(",", 1)[1])
    assert svg.startswith(b"<svg")
    token = body["url"].rsplit("/", 1)[1].removesuffix(".ics")
    assert fetch(token).status_code == 200
    status = client.get(path, headers=headers).json
    assert status["active"] is True and "url" not in status
    again = client.post(f"{path}/rotate", headers=headers).json
    assert fetch(token).status_code == 404
    assert client.delete(path, headers=headers).status_code == 204
    assert fetch(again["url"].rsplit("/", 1)[1].removesuffix(".ics")).status_code == 404
    assert client.get(path, headers=headers).json["active"] is False


def test_who_manages_which_feed(client, small, bearer, make):
    other = make.staff([Role.THERAPIST], small.location, name="Other Therapist")
    cases = [
        (small.front_desk, f"patients/{small.patient.id}", 201),
        (small.admin, f"patients/{small.patient.id}", 201),
        (small.therapist, f"patients/{small.patient.id}", 403),
        (small.clinician, f"patients/{small.patient.id}", 403),
        (small.therapist, f"staff/{small.therapist.id}", 201),
        (small.therapist, f"staff/{other.id}", 403),
        (small.front_desk, f"staff/{small.therapist.id}", 403),
        (small.admin, f"staff/{other.id}", 201),
        (small.admin, f"rooms/{small.chair.id}", 201),
        (small.front_desk, f"rooms/{small.chair.id}", 403),
        (small.admin, f"locations/{small.location.id}", 201),
        (small.therapist, f"locations/{small.location.id}", 403),
        (small.admin, "patients/999999", 404),
    ]
    for member, path, status in cases:
        response = client.post(f"/api/feeds/{path}/rotate", headers=bearer(member))
        assert response.status_code == status, (member.name, path, response.json)
        if status == 201:
            assert (response.json["qr_svg"] is None) == (not path.startswith("patients"))
    assert client.post(f"/api/feeds/staff/{small.therapist.id}/rotate").status_code == 401


def test_ics_downloads_for_staff_who_may_see_them(client, small, bearer, make, session):
    from scheduler.models import Appointment

    appointment = session.scalars(select(Appointment)).first()
    path = f"/api/feeds/appointments/{appointment.id}.ics"
    response = client.get(path, headers=bearer(small.clinician))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert appointment.uid.encode() in response.data
    assert b"attachment" in response.headers["Content-Disposition"].encode()
    staff_view = client.get(f"{path}?view=staff", headers=bearer(small.clinician))
    assert b"A.P." in staff_view.data.replace(b"\r\n ", b"")
    stranger = make.staff([Role.THERAPIST], small.location, name="Not Involved")
    assert client.get(path, headers=bearer(stranger)).status_code == 404
    assert client.get(f"{path}?view=bogus", headers=bearer(small.admin)).status_code == 422
    assert (
        client.get("/api/feeds/courses/424242.ics", headers=bearer(small.admin)).status_code == 404
    )


def test_tokens_for_missing_owners_are_refused(session, small):
    from scheduler.errors import NotFound

    with pytest.raises(NotFound), write_transaction(session):
        issue_feed_token(session, FeedOwnerKind.ROOM, 987654, Action("t", None, NOW))
