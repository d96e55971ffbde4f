"""Weekly intervals (opening hours, working hours): well-ordered and not overlapping."""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Iterable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import ValidationFailed


def check_intervals(
    field: str, intervals: Iterable[tuple[Hashable, int, dt.time, dt.time]]
) -> None:
    """Each (group, weekday, start, end): 0 <= weekday <= 6, start < end, no overlap within a
    group and weekday. The group is the location for working hours."""
    seen: dict[tuple[Hashable, int], list[tuple[dt.time, dt.time]]] = {}
    for group, weekday, start, end in intervals:
        if not 0 <= weekday <= 6:
            raise ValidationFailed({field: "weekday must be 0 (Monday) to 6 (Sunday)"})
        if start >= end:
            raise ValidationFailed({field: f"an interval must end after it starts ({start})"})
        same_day = seen.setdefault((group, weekday), [])
        for other_start, other_end in same_day:
            if start < other_end and other_start < end:
                raise ValidationFailed({field: f"intervals overlap on weekday {weekday}"})
        same_day.append((start, end))


def check_timezone(field: str, name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValidationFailed({field: "must be an IANA time zone"}) from None
