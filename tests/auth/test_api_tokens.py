"""Signing in for a bearer token, using it, its expiry and revocation, the sign-in limit."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from scheduler.models import ApiToken
from tests.factories import PASSWORD


def sign_in(api, email: str, password: str = PASSWORD):
    return api.post("/api/auth/token", role=None, json={"email": email, "password": password})


def test_sign_in_returns_a_working_bearer_token(api, clinic, now):
    response = sign_in(api, clinic.front_desk.email.upper())
    assert response.status_code == 201
    body = response.json
    assert body["token_type"] == "bearer"
    assert dt.datetime.fromisoformat(body["expires_at"]) == now + dt.timedelta(hours=12)
    me = api.client.get("/api/auth/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200
    assert me.json["email"] == clinic.front_desk.email
    assert me.json["roles"] == ["front_desk"]
    assert "password" not in me.json and "password_hash" not in me.json


def test_token_lifetime_comes_from_config(app, api, clinic, now):
    app.config["API_TOKEN_TTL_HOURS"] = 2
    body = sign_in(api, clinic.admin.email).json
    assert dt.datetime.fromisoformat(body["expires_at"]) == now + dt.timedelta(hours=2)


def test_only_the_token_hash_is_stored(api, clinic, session):
    token = sign_in(api, clinic.admin.email).json["token"]
    hashes = session.scalars(select(ApiToken.token_hash)).all()
    assert token not in hashes and len(hashes) == 5  # four fixture tokens and this one


def test_wrong_password_and_unknown_email_are_the_same_401(api, clinic):
    wrong = sign_in(api, clinic.admin.email, "not-the-password")
    unknown = sign_in(api, "nobody@example.org")
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert response.json["message"] == "Unknown e-mail address or wrong password"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_inactive_staff_cannot_sign_in(api, clinic, session):
    clinic.therapist.active = False
    session.commit()
    assert sign_in(api, clinic.therapist.email).status_code == 401


def test_sign_in_body_is_validated(api):
    response = api.post("/api/auth/token", role=None, json={"email": "a@b.org"})
    assert response.status_code == 422
    assert response.json["errors"]["json"]["password"] == ["Missing data for required field."]


def test_failed_sign_ins_are_rate_limited_per_client(app, api, clinic):
    app.config["SIGN_IN_RATE_LIMIT"] = "3 per minute"
    assert sign_in(api, clinic.admin.email).status_code == 201  # successes do not count
    for _ in range(3):
        assert sign_in(api, clinic.admin.email, "wrong-password").status_code == 401
    limited = sign_in(api, clinic.admin.email)
    assert limited.status_code == 429
    assert limited.json["code"] == 429
    assert limited.is_json


def test_expired_token_is_refused(app, api, clinic, now):
    app.config["CLOCK"] = lambda: now + dt.timedelta(hours=24, seconds=1)
    response = api.get("/api/auth/me")
    assert response.status_code == 401
    assert "WWW-Authenticate" in response.headers


def test_sign_out_revokes_the_presented_token_only(api):
    assert api.delete("/api/auth/token", role="clinician").status_code == 204
    assert api.get("/api/auth/me", role="clinician").status_code == 401
    assert api.get("/api/auth/me", role="therapist").status_code == 200


def test_missing_or_malformed_authorization_is_401(api):
    assert api.get("/api/auth/me", role=None).status_code == 401
    for header in ("Token abc", "Bearer", "Bearer not-a-token", "Basic dXNlcjpwYXNz"):
        response = api.get("/api/auth/me", role=None, headers={"Authorization": header})
        assert response.status_code == 401, header
        assert response.json["code"] == 401


def _works(api, token: str) -> bool:
    me = api.client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    return me.status_code == 200


def test_a_password_change_revokes_every_token(api, clinic):
    member = clinic.therapist
    token = sign_in(api, member.email).json["token"]
    assert _works(api, token)
    changed = api.patch(
        f"/api/staff/{member.id}", "admin", json={"password": "another-long-password-2026"}
    )
    assert changed.status_code == 200, changed.json
    assert not _works(api, token)
    fresh = sign_in(api, member.email, "another-long-password-2026").json["token"]
    assert _works(api, fresh)


def test_deactivation_revokes_tokens_for_good(api, clinic):
    member = clinic.therapist
    token = sign_in(api, member.email).json["token"]
    assert api.patch(f"/api/staff/{member.id}", "admin", json={"active": False}).status_code == 200
    assert not _works(api, token)
    assert api.patch(f"/api/staff/{member.id}", "admin", json={"active": True}).status_code == 200
    assert not _works(api, token)  # reactivating the account does not revive its old tokens


def test_a_role_change_revokes_tokens(api, clinic):
    member = clinic.therapist
    token = sign_in(api, member.email).json["token"]
    changed = api.patch(
        f"/api/staff/{member.id}", "admin", json={"roles": ["therapist", "clinician"]}
    )
    assert changed.status_code == 200, changed.json
    assert not _works(api, token)


def test_other_changes_keep_tokens(api, clinic):
    member = clinic.therapist
    token = sign_in(api, member.email).json["token"]
    assert (
        api.patch(f"/api/staff/{member.id}", "admin", json={"name": "New Name"}).status_code == 200
    )
    assert _works(api, token)
