"""Signing in and out: hashed passwords, CSRF on every form, idle expiry, rate-limited misses."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask import g

from scheduler.models import Role
from tests.conftest import NOW
from tests.factories import PASSWORD
from tests.web.conftest import sign_in


def test_sign_in_page_renders_with_labels(client):
    page = client.get("/sign-in").get_data(as_text=True)
    assert '<label for="email">' in page and '<label for="password">' in page
    assert 'id="main"' in page and "Skip to content" in page


def test_wrong_password_is_refused_without_saying_which_part(app, make):
    member = make.staff([Role.FRONT_DESK])
    client = app.test_client()
    response = client.post("/sign-in", data={"email": member.email, "password": "wrong-password"})
    assert response.status_code == 401
    assert b"do not match an active account" in response.data
    unknown = client.post("/sign-in", data={"email": "nobody@example.org", "password": "x" * 10})
    assert unknown.status_code == 401
    assert client.get("/my/week").status_code == 302


def test_inactive_staff_cannot_sign_in(app, make, session):
    member = make.staff([Role.FRONT_DESK])
    member.active = False
    session.commit()
    response = app.test_client().post(
        "/sign-in", data={"email": member.email, "password": PASSWORD}
    )
    assert response.status_code == 401


def test_sign_in_goes_to_next_page_on_this_site_only(app, make):
    member = make.staff([Role.FRONT_DESK])
    client = app.test_client()
    data = {"email": member.email, "password": PASSWORD, "next": "/patients"}
    assert client.post("/sign-in", data=data).headers["Location"] == "/patients"
    client.post("/sign-out")
    for evil in ("https://evil.example/x", "//evil.example/x", "/\\evil.example"):
        response = client.post("/sign-in", data={**data, "next": evil})
        assert response.headers["Location"] == "/", evil
        client.post("/sign-out")


def test_sign_out_ends_the_session(app, make):
    member = make.staff([Role.THERAPIST])
    client = app.test_client()
    sign_in(client, member)
    assert client.get("/my/week").status_code == 200
    assert client.post("/sign-out").headers["Location"] == "/sign-in"
    assert client.get("/my/week").status_code == 302


def test_a_copy_of_the_cookie_dies_with_the_sign_out(app, make):
    member = make.staff([Role.THERAPIST])
    client = app.test_client()
    sign_in(client, member)
    copied = client.get_cookie("session")
    assert copied is not None
    other = app.test_client()  # the same cookie on another PC, or replayed by someone
    other.set_cookie("session", copied.value)
    g.pop("_login_user", None)
    assert other.get("/my/week").status_code == 200
    client.post("/sign-out")
    g.pop("_login_user", None)
    assert other.get("/my/week").status_code == 302


def test_a_session_ends_after_its_absolute_lifetime_however_busy(configure, make):
    moment = {"now": NOW}
    app = configure(
        CLOCK=lambda: moment["now"], SESSION_LIFETIME_MINUTES=60, SESSION_ABSOLUTE_HOURS=12
    )
    member = make.staff([Role.THERAPIST])
    client = app.test_client()
    sign_in(client, member)
    for half_hours in range(1, 24):
        moment["now"] = NOW + dt.timedelta(minutes=30 * half_hours)
        assert client.get("/my/week").status_code == 200
    moment["now"] = NOW + dt.timedelta(hours=12, minutes=1)
    response = client.get("/my/week")
    assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in")


def test_session_expires_after_idle_minutes(configure, make):
    moment = {"now": NOW}
    app = configure(CLOCK=lambda: moment["now"], SESSION_LIFETIME_MINUTES=30)
    member = make.staff([Role.THERAPIST])
    client = app.test_client()
    sign_in(client, member)
    moment["now"] = NOW + dt.timedelta(minutes=29)
    assert client.get("/my/week").status_code == 200  # activity renews the session
    moment["now"] = NOW + dt.timedelta(minutes=58)
    assert client.get("/my/week").status_code == 200
    moment["now"] = NOW + dt.timedelta(minutes=89)
    response = client.get("/my/week")
    assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in")
    assert client.get("/my/week").status_code == 302


def test_changing_the_password_signs_out_other_browsers(app, make, session):
    from scheduler.auth.passwords import set_password

    member = make.staff([Role.THERAPIST])
    client = app.test_client()
    sign_in(client, member)
    set_password(member, "a-brand-new-password")
    session.commit()
    # The test's app context outlives requests; a real request starts without a cached user.
    g.pop("_login_user", None)
    assert client.get("/my/week").status_code == 302


def test_failed_sign_ins_are_rate_limited(configure, make):
    app = configure(SIGN_IN_RATE_LIMIT="3 per minute")
    member = make.staff([Role.FRONT_DESK])
    client = app.test_client()
    for _ in range(3):
        bad = client.post("/sign-in", data={"email": member.email, "password": "wrong-one"})
        assert bad.status_code == 401
    blocked = client.post("/sign-in", data={"email": member.email, "password": PASSWORD})
    assert blocked.status_code == 429
    assert b"Too Many Requests" in blocked.data


def test_successful_sign_ins_do_not_count_against_the_limit(configure, make):
    app = configure(SIGN_IN_RATE_LIMIT="2 per minute")
    member = make.staff([Role.FRONT_DESK])
    client = app.test_client()
    for _ in range(4):
        sign_in(client, member)
        client.post("/sign-out")


@pytest.fixture
def csrf_app(configure):
    return configure(WTF_CSRF_ENABLED=True)


def token_from(page: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf_token" value="([^"]+)"', page
    )
    assert match, "no CSRF token in the page"
    return match.group(1)


def test_forms_need_a_csrf_token(csrf_app, make):
    member = make.staff([Role.FRONT_DESK])
    client = csrf_app.test_client()
    missing = client.post("/sign-in", data={"email": member.email, "password": PASSWORD})
    assert missing.status_code == 400 and b"CSRF" in missing.data
    token = token_from(client.get("/sign-in").get_data(as_text=True))
    data = {"email": member.email, "password": PASSWORD, "csrf_token": token}
    assert client.post("/sign-in", data=data).status_code == 302
    # Signed in, a change without the token is refused too.
    assert client.post("/sign-out").status_code == 400
    assert client.get("/patients").status_code == 200  # still signed in


def test_the_api_needs_no_csrf_token(csrf_app, make):
    member = make.staff([Role.FRONT_DESK])
    response = csrf_app.test_client().post(
        "/api/auth/token", json={"email": member.email, "password": PASSWORD}
    )
    assert response.status_code == 201, response.get_data(as_text=True)
