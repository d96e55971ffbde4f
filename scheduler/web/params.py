"""Reading query-string parameters: malformed values count as absent, never as an error 500."""

from __future__ import annotations

import datetime as dt

from flask import request

MAX_ID = 2**31 - 1


def id_param(name: str) -> int | None:
    value = request.args.get(name, "")
    if value.isdigit() and 0 < int(value) <= MAX_ID:
        return int(value)
    return None


def day_param(name: str) -> dt.date | None:
    value = request.args.get(name, "")
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        return None
    return day if 1900 <= day.year <= 2200 else None


def text_param(name: str, limit: int = 100) -> str:
    return request.args.get(name, "").replace("\x00", "").strip()[:limit]


def page_param(name: str = "page") -> int:
    value = request.args.get(name, "")
    return min(int(value), 10_000) if value.isdigit() and int(value) > 0 else 1
