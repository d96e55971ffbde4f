"""``GET /feeds/<token>.ics``: the subscribed calendar, served from memory while unchanged.

Per request: one indexed lookup (token hash to owner and change counters); if this process
holds the owner's body for those counters and today's window, it is sent as is (or answered
with 304), else rebuilt from cached event pieces. Unknown and revoked tokens get a bare 404
that says nothing about why; clients that keep missing are slowed down (only misses count).

Not under /api: calendar apps cannot send bearer tokens, the token in the URL is the credential.
"""

from __future__ import annotations

import weakref
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request
from sqlalchemy import Engine, create_engine
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException
from werkzeug.http import http_date

from ..clock import now
from ..db import db
from ..extensions import csrf, limiter
from .cache import BuiltFeed, FeedCache
from .render import FeedSettings, FeedState, cached_feed
from .tokens import resolve_feed

bp = Blueprint("feeds", __name__, url_prefix="/feeds")

#: Misses allowed per client address before it gets 429s. Generous: a stale subscription
#: polls a few times a day, and calendar services fetch for many users from few addresses.
DEFAULT_MISS_LIMIT = "30 per minute; 500 per hour"
EXTENSION = "scheduler.feeds"
CALENDAR_TYPE = "text/calendar; charset=utf-8"


class FeedRuntime:
    """Per-app state: settings, caches and the connection pool for token lookups."""

    def __init__(self, app: Flask) -> None:
        self.settings = FeedSettings.from_config(app.config)
        self.cache = FeedCache(
            max_feeds=int(app.config.get("FEED_CACHE_FEEDS", 2000)),
            max_events=int(app.config.get("FEED_CACHE_EVENTS", 200_000)),
        )
        self._url = str(app.config["SQLALCHEMY_DATABASE_URI"])
        self._lookup_engine: Engine | None = None
        self._dedicated = bool(app.config.get("FEED_LOOKUP_POOL", True))

    def lookup_engine(self) -> Engine:
        """On PostgreSQL, a pool of autocommit connections without the pre-ping the app's
        pool does: the lookup is one statement, so a dead connection is simply retried."""
        if not self._dedicated or not self._url.startswith("postgresql"):
            return db.engine
        if self._lookup_engine is None:
            engine = create_engine(self._url, isolation_level="AUTOCOMMIT", pool_size=4)
            self._lookup_engine = engine
            weakref.finalize(self, engine.dispose)
        return self._lookup_engine

    def lookup(self, token: str) -> FeedState | None:
        engine = self.lookup_engine()
        for attempt in (1, 2):
            try:
                with engine.connect() as connection:
                    return resolve_feed(connection, token)
            except DBAPIError as error:
                if attempt == 2 or not error.connection_invalidated:
                    raise
        return None


def runtime() -> FeedRuntime:
    return current_app.extensions[EXTENSION]  # type: ignore[no-any-return]


def _miss_limit() -> str:
    return str(current_app.config.get("FEED_MISS_LIMIT", DEFAULT_MISS_LIMIT))


def _is_miss(response: Response) -> bool:
    return response.status_code == 404


# Tested before each request, charged only for misses: a client over its miss budget is
# refused until the window passes, however many feeds it fetches successfully.
_miss_budget = limiter.shared_limit(_miss_limit, scope="feed-misses", deduct_when=_is_miss)


@bp.get("/<token>.ics")
@_miss_budget
def feed(token: str) -> Response:
    state = runtime().lookup(token)
    if state is None:
        return not_found()
    settings = runtime().settings
    built = cached_feed(db.session, state, settings.window(now()), settings, runtime().cache)
    if built is None:
        return not_found()
    return calendar_response(built)


@bp.route("/<path:anything>")
@_miss_budget
def unknown(anything: str) -> Response:
    return not_found()


def calendar_response(built: BuiltFeed) -> Response:
    encoded = request.accept_encodings["gzip"] > 0
    etag = built.gzip_etag if encoded else built.etag
    headers: dict[str, Any] = {
        "ETag": f'"{etag}"',
        "Last-Modified": _http_date(built),
        "Cache-Control": "private",
        "Vary": "Accept-Encoding",
        "X-Content-Type-Options": "nosniff",
    }
    if _not_modified(built):
        return Response(status=304, headers=headers)
    headers["Content-Type"] = CALENDAR_TYPE
    if encoded:
        headers["Content-Encoding"] = "gzip"
        return Response(built.gzip_body(), status=200, headers=headers)
    return Response(built.body, status=200, headers=headers)


def _not_modified(built: BuiltFeed) -> bool:
    if "If-None-Match" in request.headers:
        # Weak comparison (RFC 9110 13.1.2); either encoding's tag names the same content.
        tags = request.if_none_match
        return bool(
            tags.star_tag or tags.contains_weak(built.etag) or tags.contains_weak(built.gzip_etag)
        )
    since = request.if_modified_since
    return since is not None and built.last_modified <= since


def _http_date(built: BuiltFeed) -> str:
    return http_date(built.last_modified)


def not_found() -> Response:
    return Response(
        "Not found\n",
        status=404,
        mimetype="text/plain",
        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
    )


def _plain_error(error: HTTPException) -> Response:
    code = error.code or 500
    headers = {"Cache-Control": "no-store"}
    if code == 429:
        headers["Retry-After"] = "60"
    return Response(f"{code}\n", status=code, mimetype="text/plain", headers=headers)


def _database_error(_error: DBAPIError) -> Response:
    db.session.rollback()
    return Response("503\n", status=503, mimetype="text/plain", headers={"Retry-After": "30"})


bp.register_error_handler(HTTPException, _plain_error)
bp.register_error_handler(DBAPIError, _database_error)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    csrf.exempt(bp)
    app.extensions[EXTENSION] = FeedRuntime(app)
