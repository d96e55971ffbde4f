"""``GET /feeds/<token>.ics``: the subscribed calendar, served from memory while unchanged.

Per request: one indexed lookup (token hash to owner and change counters); if this process
holds the owner's body for those counters and today's window, it is sent as is (or answered
with 304), else rebuilt from cached event pieces. Unknown and revoked tokens get a bare 404
that says nothing about why; clients that keep missing are slowed down (only misses count).

Not under /api: calendar apps cannot send bearer tokens, the token in the URL is the credential.
"""

from __future__ import annotations

import datetime as dt
import time

from flask import Blueprint, Flask, Response, current_app, request
from flask_limiter.util import get_remote_address
from limits import parse_many
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from ..clock import now
from ..db import db
from ..extensions import csrf, limiter, skip_rate_limits
from .cache import BuiltFeed, FeedCache
from .conditional import accepts_gzip, modified_since, none_match
from .feed_queries import Window
from .lookup import LookupUnavailable, TokenLookup
from .render import FeedSettings, cached_feed

bp = Blueprint("feeds", __name__, url_prefix="/feeds")

#: Misses allowed per client address before it gets 429s. Generous: a stale subscription
#: polls a few times a day, and calendar services fetch for many users from few addresses.
DEFAULT_MISS_LIMIT = "30 per minute; 500 per hour"
EXTENSION = "scheduler.feeds"
_DAY = dt.timedelta(days=1)


class FeedRuntime:
    """Per-app state: settings, caches, today's window, the miss budget and the token lookup."""

    def __init__(self, app: Flask) -> None:
        self.settings = FeedSettings.from_config(app.config)
        self.cache = FeedCache(
            max_feeds=int(app.config.get("FEED_CACHE_FEEDS", 1000)),
            max_events=int(app.config.get("FEED_CACHE_EVENTS", 50_000)),
        )
        self.misses = MissBudget(str(app.config.get("FEED_MISS_LIMIT", DEFAULT_MISS_LIMIT)))
        self.lookup = TokenLookup(
            make_url(str(app.config["SQLALCHEMY_DATABASE_URI"])),
            lambda: db.session.connection(),
            dedicated=bool(app.config.get("FEED_LOOKUP_CONNECTIONS", not app.testing)),
        )
        self._window: Window | None = None

    def window(self, now: dt.datetime) -> Window:
        """Today's window (UTC day), computed once a day."""
        window = self._window
        if window is None or not (window.day <= now < window.day + _DAY):
            window = self._window = self.settings.window(now)
        return window

    def close(self) -> None:
        self.lookup.close()


def runtime() -> FeedRuntime:
    return current_app.extensions[EXTENSION]  # type: ignore[no-any-return]


class MissBudget:
    """Misses allowed per client, kept in Flask-Limiter's storage with its strategy.

    Checked before every request, charged only for misses (the ``deduct_when`` idea): a client
    over budget gets 429 for every feed URL, valid or not, so guessing cannot go on by telling
    404s from 200s. Done here rather than with ``@limiter.limit(deduct_when=...)``, whose
    per-request bookkeeping costs more than the rest of a cached feed request.
    """

    scope = "feed-misses"

    def __init__(self, limits: str) -> None:
        self.items = parse_many(limits)

    def exhausted(self, client: str) -> int | None:
        """Seconds until the client may try again, or None when within budget."""
        if not limiter.enabled:
            return None
        strategy = limiter.limiter
        for item in self.items:
            if not strategy.test(item, client, self.scope):
                reset = strategy.get_window_stats(item, client, self.scope).reset_time
                return max(1, int(reset - time.time()) + 1)
        return None

    def charge(self, client: str) -> None:
        if limiter.enabled:
            for item in self.items:
                limiter.limiter.hit(item, client, self.scope)


@bp.get("/<token>.ics")
def feed(token: str) -> Response:
    feeds = runtime()
    client = get_remote_address()
    wait = feeds.misses.exhausted(client)
    if wait is not None:
        return too_many(wait)
    try:
        state = feeds.lookup(token)
    except LookupUnavailable:
        return _unavailable()
    built = None
    if state is not None:
        built = cached_feed(db.session, state, feeds.window(now()), feeds.settings, feeds.cache)
    if built is None:
        feeds.misses.charge(client)
        return not_found()
    return calendar_response(built)


@bp.route("/<path:anything>")
def unknown(anything: str) -> Response:
    feeds = runtime()
    client = get_remote_address()
    wait = feeds.misses.exhausted(client)
    if wait is not None:
        return too_many(wait)
    feeds.misses.charge(client)
    return not_found()


def calendar_response(built: BuiltFeed) -> Response:
    environ = request.environ
    encoded = accepts_gzip(environ)
    # Either encoding's tag names the same content.
    matched = none_match(environ, built.etag, built.gzip_etag)
    if matched is None:
        since = modified_since(environ)
        matched = since is not None and built.last_modified <= since
    if matched:
        return Response(status=304, headers=built.not_modified_headers[encoded])
    body = built.gzip_body() if encoded else built.body
    return Response(body, status=200, headers=built.headers[encoded])


def not_found() -> Response:
    return Response(
        "Not found\n",
        status=404,
        mimetype="text/plain",
        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
    )


def too_many(wait: int) -> Response:
    return Response(
        "429\n",
        status=429,
        mimetype="text/plain",
        headers={"Retry-After": str(wait), "Cache-Control": "no-store"},
    )


def _plain_error(error: HTTPException) -> Response:
    code = error.code or 500
    headers = {"Cache-Control": "no-store"}
    if code == 429:
        headers["Retry-After"] = "60"
    return Response(f"{code}\n", status=code, mimetype="text/plain", headers=headers)


def _database_error(_error: DBAPIError) -> Response:
    db.session.rollback()
    return _unavailable()


def _unavailable() -> Response:
    return Response("503\n", status=503, mimetype="text/plain", headers={"Retry-After": "30"})


bp.register_error_handler(HTTPException, _plain_error)
bp.register_error_handler(DBAPIError, _database_error)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    csrf.exempt(bp)
    # MissBudget counts the misses; Flask-Limiter's bookkeeping would cost a cached feed
    # more than everything else the route does.
    skip_rate_limits(app, bp.name)
    app.extensions[EXTENSION] = FeedRuntime(app)
