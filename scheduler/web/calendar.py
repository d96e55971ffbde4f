"""Calendar grids: appointments placed on a time axis in one time zone, in columns.

Positions are in 15-minute slots from the top of the grid, so the stylesheet decides how tall a
slot is (screen, tablet, print). Nothing here queries the database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from .appointment_lists import Entry

SLOT_MINUTES = 15
DEFAULT_HOURS = (8, 18)


@dataclass
class Placed:
    entry: Entry
    starts: dt.datetime  # local
    ends: dt.datetime  # local
    top: float  # slots from the grid start
    height: float
    buffer: float  # slots of turnover after the end

    @property
    def short(self) -> bool:
        """Under 45 minutes: room for one line only."""
        return self.height < 3


@dataclass
class Column:
    key: str
    title: str
    subtitle: str = ""
    is_today: bool = False
    items: list[Placed] = field(default_factory=list)
    #: Spans (top, height) outside opening or working hours, shaded.
    closed: list[tuple[float, float]] = field(default_factory=list)
    url: str | None = None


@dataclass
class Grid:
    zone: ZoneInfo
    first_hour: int
    last_hour: int
    columns: list[Column]
    now_top: float | None = None
    now_column: str | None = None

    @property
    def hours(self) -> list[int]:
        return list(range(self.first_hour, self.last_hour))

    @property
    def slots(self) -> int:
        return (self.last_hour - self.first_hour) * 60 // SLOT_MINUTES

    @property
    def scroll_to(self) -> float:
        """Slots to scroll down to show the first appointment (or the first open hour)."""
        tops = [p.top for c in self.columns for p in c.items]
        return max(0.0, min(tops) - 2) if tops else 0.0


def minutes_of_day(moment: dt.datetime) -> int:
    return moment.hour * 60 + moment.minute


def hour_range(
    intervals: Iterable[tuple[dt.time, dt.time]],
    local_spans: Iterable[tuple[dt.datetime, dt.datetime]],
) -> tuple[int, int]:
    """Whole hours covering the open intervals and every appointment shown."""
    starts: list[int] = []
    ends: list[int] = []
    for opens, closes in intervals:
        starts.append(opens.hour * 60 + opens.minute)
        ends.append(24 * 60 if closes == dt.time(0) else closes.hour * 60 + closes.minute)
    for begin, end in local_spans:
        starts.append(minutes_of_day(begin))
        ends.append(24 * 60 if end.date() > begin.date() else minutes_of_day(end))
    if not starts:
        return DEFAULT_HOURS
    first = min(starts) // 60
    last = -(-max(ends) // 60)
    return max(0, first), min(24, max(last, first + 1))


def place(entry: Entry, zone: ZoneInfo, first_hour: int, last_hour: int) -> Placed:
    a = entry.appointment
    starts, ends = a.starts_at.astimezone(zone), a.ends_at.astimezone(zone)
    top_minutes = minutes_of_day(starts) - first_hour * 60
    end_minutes = (
        24 * 60 if ends.date() > starts.date() else minutes_of_day(ends)
    ) - first_hour * 60
    end_minutes = min(end_minutes, (last_hour - first_hour) * 60)
    height = max(end_minutes - top_minutes, SLOT_MINUTES)
    return Placed(
        entry=entry,
        starts=starts,
        ends=ends,
        top=top_minutes / SLOT_MINUTES,
        height=height / SLOT_MINUTES,
        buffer=a.buffer_minutes / SLOT_MINUTES,
    )


def closed_spans(
    intervals: Sequence[tuple[dt.time, dt.time]], first_hour: int, last_hour: int
) -> list[tuple[float, float]]:
    """The parts of the grid outside ``intervals`` (opening or working hours), as slots."""
    spans: list[tuple[float, float]] = []
    cursor = first_hour * 60
    end = last_hour * 60
    for opens, closes in sorted(intervals):
        begin = opens.hour * 60 + opens.minute
        finish = 24 * 60 if closes == dt.time(0) else closes.hour * 60 + closes.minute
        if begin > cursor:
            spans.append((cursor, min(begin, end)))
        cursor = max(cursor, finish)
    if cursor < end:
        spans.append((cursor, end))
    origin = first_hour * 60
    return [((a - origin) / SLOT_MINUTES, (b - a) / SLOT_MINUTES) for a, b in spans if b > a]


def now_marker(grid: Grid, now: dt.datetime, column_for: dict[dt.date, str] | None = None) -> None:
    """Place the red "now" line when now falls inside the grid."""
    local = now.astimezone(grid.zone)
    minutes = minutes_of_day(local)
    if not grid.first_hour * 60 <= minutes < grid.last_hour * 60:
        return
    if column_for is not None:
        key = column_for.get(local.date())
        if key is None:
            return
        grid.now_column = key
    grid.now_top = (minutes - grid.first_hour * 60) / SLOT_MINUTES
