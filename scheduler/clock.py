"""The current time, replaceable per app so tests and demos control it."""

from __future__ import annotations

import datetime as dt

from flask import current_app, has_app_context

from .db import utcnow


def now() -> dt.datetime:
    """Aware UTC now; ``app.config["CLOCK"]`` (a callable) overrides the system clock."""
    if has_app_context():
        clock = current_app.config.get("CLOCK")
        if clock is not None:
            return clock()
    return utcnow()
