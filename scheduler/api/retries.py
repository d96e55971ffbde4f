"""Writes that lost a deadlock or a serialization conflict on PostgreSQL run again.

The database aborts one of two transactions that wait on each other; the loser's changes are
rolled back whole, so running the request again from the start is safe and usually succeeds
at once. After ``ATTEMPTS`` tries the error reaches the handlers as a 503 with Retry-After.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, request
from sqlalchemy.exc import OperationalError

from ..http_errors import rollback

#: PostgreSQL's deadlock_detected and serialization_failure.
RETRYABLE = frozenset({"40P01", "40001"})
ATTEMPTS = 3
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def retryable(error: OperationalError) -> bool:
    return getattr(error.orig, "sqlstate", None) in RETRYABLE


def retrying(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if request.method not in WRITES:
            return view(*args, **kwargs)
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return view(*args, **kwargs)
            except OperationalError as error:
                if attempt == ATTEMPTS or not retryable(error):
                    raise
                rollback()
                # Apart a little, so that the two that met do not meet again.
                time.sleep(random.uniform(0, 0.05 * attempt))
        raise AssertionError("unreachable")

    return wrapper


def retry_writes(app: Flask, blueprint_names: set[str]) -> None:
    """Wrap every view of these blueprints in this app."""
    for endpoint, view in list(app.view_functions.items()):
        if endpoint.partition(".")[0] in blueprint_names:
            app.view_functions[endpoint] = retrying(view)
