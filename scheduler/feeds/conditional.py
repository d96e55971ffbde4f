"""Reading the request headers a feed answer depends on, straight from the WSGI environ.

Werkzeug's parsers build objects for every header they read; these few lines read only what
a feed needs, on every request, and are tested against the same cases.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from werkzeug.http import parse_date


def accepts_gzip(environ: Mapping[str, Any]) -> bool:
    """Whether ``Accept-Encoding`` allows gzip (``gzip``, ``x-gzip`` or ``*``, q > 0)."""
    header = environ.get("HTTP_ACCEPT_ENCODING")
    if not header:
        return False
    header = header.lower()
    if "gzip" not in header and "*" not in header:
        return False
    wildcard: bool | None = None
    for item in header.split(","):
        name, _, params = item.partition(";")
        name = name.strip()
        if name not in ("gzip", "x-gzip", "*"):
            continue
        allowed = _quality(params) > 0
        if name != "*":
            return allowed
        wildcard = allowed
    return bool(wildcard)


def _quality(params: str) -> float:
    for param in params.split(";"):
        key, _, value = param.strip().partition("=")
        if key.strip().lower() == "q":
            try:
                return float(value)
            except ValueError:
                return 0.0
    return 1.0


def none_match(environ: Mapping[str, Any], *tags: str) -> bool | None:
    """None without ``If-None-Match``; else whether it names one of ``tags`` (unquoted), by
    weak comparison (RFC 9110 13.1.2), or is ``*``."""
    header = environ.get("HTTP_IF_NONE_MATCH")
    if header is None:
        return None
    for item in header.split(","):
        item = item.strip()
        if item == "*":
            return True
        if item.startswith("W/"):
            item = item[2:]
        if item.startswith('"') and item.endswith('"') and item[1:-1] in tags:
            return True
    return False


def modified_since(environ: Mapping[str, Any]) -> dt.datetime | None:
    header = environ.get("HTTP_IF_MODIFIED_SINCE")
    return parse_date(header) if header else None
