"""Reading query-string parameters: malformed values count as absent, never as an error 500.

Werkzeug's ``request.args.get(..., type=...)`` does the converting (a ``ValueError`` gives the
default); what is left here is the range each parameter may take.
"""

from __future__ import annotations

import datetime as dt

from flask import request

MAX_ID = 2**31 - 1
MAX_PAGE = 10_000


def id_param(name: str) -> int | None:
    value = request.args.get(name, type=int)
    return value if value is not None and 0 < value <= MAX_ID else None


def day_param(name: str) -> dt.date | None:
    day = request.args.get(name, type=dt.date.fromisoformat)
    return day if day is not None and 1900 <= day.year <= 2200 else None


def text_param(name: str, limit: int = 100) -> str:
    return request.args.get(name, "").replace("\x00", "").strip()[:limit]


def page_param(name: str = "page") -> int:
    page = request.args.get(name, 1, type=int)
    return min(page, MAX_PAGE) if page > 0 else 1
