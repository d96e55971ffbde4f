"""Every answer carries the security headers; answers with patient data are not stored; the
session cookie is Secure when the clinic is served over https; a trusted proxy's address is
the client's."""

from __future__ import annotations

from scheduler.models import Role
from tests.factories import PASSWORD


def test_pages_send_the_security_headers(client):
    page = client.get("/sign-in")
    headers = page.headers
    csp = headers["Content-Security-Policy"]
    assert (
        "script-src 'self'" in csp
        and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    )
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Cache-Control"] == "no-store"


def test_api_answers_are_not_stored(api):
    answer = api.get("/api/patients", "front_desk")
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"


def test_static_files_stay_cacheable(client):
    asset = client.get("/static/css/app.css")
    assert asset.status_code == 200
    assert "no-store" not in asset.headers.get("Cache-Control", "")


def test_the_session_cookie_is_secure_over_https(app, make):
    # The suite's BASE_URL is https://clinic.example.org.
    member = make.staff([Role.FRONT_DESK])
    answer = app.test_client().post("/sign-in", data={"email": member.email, "password": PASSWORD})
    cookie = answer.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_the_cookie_is_not_secure_on_a_plain_http_clinic(fresh_app):
    app = fresh_app(BASE_URL="http://127.0.0.1:5000")
    assert app.config["SESSION_COOKIE_SECURE"] is False
    forced = fresh_app(BASE_URL="http://127.0.0.1:5000", SESSION_COOKIE_SECURE=True)
    assert forced.config["SESSION_COOKIE_SECURE"] is True


def test_behind_a_trusted_proxy_each_client_has_its_own_sign_in_limit(fresh_app, make):
    app = fresh_app(TRUSTED_PROXIES=1, SIGN_IN_RATE_LIMIT="2 per minute")
    client = app.test_client()
    wrong = {"email": "nobody@example.org", "password": "not-the-password"}
    for _ in range(2):
        assert (
            client.post(
                "/sign-in", data=wrong, headers={"X-Forwarded-For": "203.0.113.7"}
            ).status_code
            == 401
        )
    assert (
        client.post("/sign-in", data=wrong, headers={"X-Forwarded-For": "203.0.113.7"}).status_code
        == 429
    )
    other = client.post("/sign-in", data=wrong, headers={"X-Forwarded-For": "198.51.100.9"})
    assert other.status_code == 401
