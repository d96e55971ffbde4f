"""The clinic's minimum interval between any two doses of one patient, from any courses.

Two doses of ketamine close together are a clinical risk whatever courses they belong to. The
interval is a clinic setting (``MIN_DOSING_INTERVAL_HOURS``, default 24); a protocol's own
spacing within a series may ask for more. Each dosing session holds a ``dose`` claim on its
patient: its block widened by half the interval on each side, so two such claims overlap
exactly when the doses are closer than the interval, and the database's overlap guarantees
(the exclusion constraint on PostgreSQL, the write lock on SQLite) keep them apart.
"""

from __future__ import annotations

import datetime as dt

from flask import Flask

DEFAULT_HOURS = 24.0
#: Longest interval a clinic can set: a dose claim must stay findable by the planner's index.
MAX_HOURS = 14 * 24.0

_interval = dt.timedelta(hours=DEFAULT_HOURS)


def dosing_interval() -> dt.timedelta:
    return _interval


def set_dosing_interval(hours: float) -> None:
    global _interval
    if not 0 < hours <= MAX_HOURS:
        raise ValueError(f"MIN_DOSING_INTERVAL_HOURS must be in (0, {MAX_HOURS:g}]")
    _interval = dt.timedelta(hours=hours)


def dose_span(start: dt.datetime, end: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The ``dose`` claim of a dosing block [start, end)."""
    half = _interval / 2
    return start - half, end + half


def init_app(app: Flask) -> None:
    set_dosing_interval(float(app.config.get("MIN_DOSING_INTERVAL_HOURS", DEFAULT_HOURS)))
