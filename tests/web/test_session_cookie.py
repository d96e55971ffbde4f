"""The session cookie: not sent with cross-site posts, out of reach of scripts."""

from __future__ import annotations

from flask.testing import FlaskClient


def test_the_session_cookie_stays_on_this_site(client: FlaskClient) -> None:
    client.get("/sign-in")  # the form's CSRF token starts a session
    cookie = client.get_cookie("session")
    assert cookie is not None
    assert cookie.same_site == "Lax" and cookie.http_only
