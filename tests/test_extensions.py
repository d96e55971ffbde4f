"""Shared extensions, per-app choices: what one app asks of the limiter stays in that app."""

from __future__ import annotations

from flask import Blueprint, Flask

from scheduler.extensions import skips_rate_limits


def test_feeds_skip_the_limiter_only_in_apps_that_asked(app: Flask) -> None:
    with app.test_request_context("/feeds/" + "x" * 43 + ".ics"):
        assert skips_rate_limits()
    with app.test_request_context("/sign-in", method="POST"):
        assert not skips_rate_limits()

    other = Flask("other")
    feeds = Blueprint("feeds", __name__, url_prefix="/feeds")
    feeds.add_url_rule("/<token>.ics", "feed", lambda token: token)
    other.register_blueprint(feeds)
    with other.test_request_context("/feeds/" + "x" * 43 + ".ics"):
        assert not skips_rate_limits()
