"""The token lookup every feed request makes, made as cheap as a round trip can be.

On PostgreSQL each serving thread keeps one autocommit libpq connection with the lookup
prepared on it, and runs it with libpq directly: no pool checkout, no pre-ping, no BEGIN or
ROLLBACK, no cursor or ORM layers; one round trip that releases the GIL while it waits. (With
psycopg's cursor API the client side of the lookup costs about three times the CPU, paid on
every request, 304s included.) Elsewhere (SQLite, and tests unless ``FEED_LOOKUP_CONNECTIONS``
is set) the same statement runs on the request's own database connection.
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.dialects.postgresql import psycopg as postgresql_psycopg
from sqlalchemy.engine import URL

from .render import FeedState
from .tokens import TOKEN_PATTERN, digest, feed_state, lookup_statement, resolve_feed

try:  # PostgreSQL support is an extra; SQLite installs run without the driver.
    import psycopg
    from psycopg import pq
except ImportError:  # pragma: no cover
    psycopg = None

_STATEMENT = b"scheduler_feed_lookup"


class LookupUnavailable(Exception):
    """The database did not answer the token lookup."""


class TokenLookup:
    def __init__(self, url: URL, connection: Callable[[], Connection], dedicated: bool) -> None:
        self._shared = connection  # the request's connection, when no dedicated one is kept
        self._conninfo: str | None = None
        if dedicated and psycopg is not None and url.get_backend_name() == "postgresql":
            self._conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
            sql, constants = lookup_statement(postgresql_psycopg.dialect())
            self._sql = sql.encode()
            self._constants = [str(c).encode() for c in constants]
        self._local = threading.local()
        self._connections: list[Any] = []
        self._finalizer = weakref.finalize(self, _close_all, self._connections)

    def __call__(self, token: str) -> FeedState | None:
        """The feed a token opens with its counters, or None (unknown or revoked)."""
        if self._conninfo is None:
            return resolve_feed(self._shared(), token)
        if not TOKEN_PATTERN.fullmatch(token):
            return None
        params = [digest(token).encode(), *self._constants]
        for attempt in (1, 2):
            connection = self._connection()
            result = connection.pgconn.exec_prepared(_STATEMENT, params)
            if result.status == pq.ExecStatus.TUPLES_OK:
                if not result.ntuples:
                    return None
                values = [result.get_value(0, i) for i in range(6)]
                kind = values[0].decode()
                return feed_state([kind, *(int(v) if v is not None else None for v in values[1:])])
            # A dropped connection (server restart, idle timeout): reconnect once.
            self._drop(connection)
            if attempt == 2:
                raise LookupUnavailable(result.error_message.decode(errors="replace"))
        return None

    def close(self) -> None:
        """Close the lookup connections (tests; serving processes simply exit)."""
        self._finalizer()

    def _connection(self) -> Any:
        connection = getattr(self._local, "connection", None)
        if connection is None or connection.closed:
            try:
                connection = psycopg.connect(self._conninfo, autocommit=True)
                prepared = connection.pgconn.prepare(_STATEMENT, self._sql)
            except psycopg.Error as error:
                raise LookupUnavailable(str(error)) from None
            if prepared.status != pq.ExecStatus.COMMAND_OK:
                connection.close()
                raise LookupUnavailable(prepared.error_message.decode(errors="replace"))
            self._local.connection = connection
            self._connections.append(connection)
        return connection

    def _drop(self, connection: Any) -> None:
        self._local.connection = None
        with contextlib.suppress(Exception):
            connection.close()
        with contextlib.suppress(ValueError):
            self._connections.remove(connection)


def _close_all(connections: list[Any]) -> None:
    for connection in connections:
        with contextlib.suppress(Exception):
            connection.close()
    connections.clear()
