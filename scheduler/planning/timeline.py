"""Local dates and instants as epoch seconds: the planner's arithmetic, in one place."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

MINUTE = 60
HOUR = 3600
DAY = 86400


def to_epoch(moment: dt.datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return int(moment.timestamp())


def from_epoch(epoch: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, dt.UTC)


def local(epoch: int, tz: ZoneInfo) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, tz)


def local_date(epoch: int, tz: ZoneInfo) -> dt.date:
    return dt.datetime.fromtimestamp(epoch, tz).date()


@lru_cache(maxsize=8192)
def midnight(day: dt.date, tz: ZoneInfo) -> int:
    """The first instant of a local date (a date starting in a skipped hour starts after it)."""
    return wall_epoch(day, dt.time(0), tz)


def wall_epoch(day: dt.date, clock: dt.time, tz: ZoneInfo) -> int:
    """A local wall-clock time as epoch seconds; ``fold=0`` for repeated times."""
    return int(dt.datetime.combine(day, clock, tzinfo=tz).timestamp())


def wall_exists(day: dt.date, clock: dt.time, tz: ZoneInfo, fold: int = 0) -> int | None:
    """The instant of a wall-clock time, or None if the clocks skip it."""
    aware = dt.datetime.combine(day, clock, tzinfo=tz).replace(fold=fold)
    epoch = int(aware.timestamp())
    back = dt.datetime.fromtimestamp(epoch, tz)
    if back.date() != day or back.time() != clock:
        return None
    return epoch


def describe_day(epoch: int, tz: ZoneInfo) -> str:
    return f"{local(epoch, tz):%a %d %b %Y}"


def describe_days(lo: int, hi: int, tz: ZoneInfo) -> str:
    """'between Tue 10 Mar and Thu 12 Mar 2026' or 'on Tue 10 Mar 2026'."""
    a, b = local(lo, tz), local(hi, tz)
    if a.date() == b.date():
        return f"on {a:%a %d %b %Y}"
    first = f"{a:%a %d %b}" if a.year == b.year else f"{a:%a %d %b %Y}"
    return f"between {first} and {b:%a %d %b %Y}"


def describe_moment(epoch: int, tz: ZoneInfo) -> str:
    return f"{local(epoch, tz):%a %d %b %Y %H:%M}"


def describe_length(seconds: int) -> str:
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    days, rest = divmod(seconds, DAY)
    hours, rest = divmod(rest, HOUR)
    minutes = rest // MINUTE
    parts = []
    if days:
        parts.append(f"{days} day{'s' if days != 1 else ''}")
    if hours:
        parts.append(f"{hours} h")
    if minutes or not parts:
        parts.append(f"{minutes} min")
    return sign + " ".join(parts)
