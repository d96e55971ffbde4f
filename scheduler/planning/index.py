"""In-memory indexes over an availability snapshot: busy spans per resource, and the local
calendar (grid slots, opening hours, closures, working hours) per day, built once and cached.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from ..models import Closure, OpeningHours, StaffMember
from .availability import Availability, Interval
from .timeline import MINUTE, wall_epoch, wall_exists

Key = tuple[str, int]

#: Days are the same for every plan at a location with the same hours: built once per process.
_DAYS: dict[tuple[object, ...], Day] = {}
MAX_CACHED_DAYS = 50_000


class BusyIndex:
    """Merged, sorted busy spans per resource; ``free`` is one binary search. A resource's
    spans are read from ``spans`` (a dict, or claims loaded on first use) when first asked."""

    def __init__(self, spans: Mapping[Key, list[Interval]]) -> None:
        self._source = spans
        self._merged: dict[Key, tuple[list[int], list[int]]] = {}

    def _get(self, key: Key) -> tuple[list[int], list[int]]:
        found = self._merged.get(key)
        if found is None:
            found = self._merged[key] = _merge(self._source.get(key) or [])
        return found

    def free(self, key: Key, start: int, end: int) -> bool:
        starts, ends = self._get(key)
        if not starts:
            return True
        k = bisect_left(starts, end) - 1
        return k < 0 or ends[k] <= start

    def spans(self, key: Key, start: int, end: int) -> list[Interval]:
        """Busy spans of ``key`` overlapping [start, end)."""
        starts, ends = self._get(key)
        if not starts:
            return []
        k = max(bisect_right(starts, start) - 1, 0)
        found = []
        while k < len(starts) and starts[k] < end:
            if ends[k] > start:
                found.append((starts[k], ends[k]))
            k += 1
        return found


def _merge(items: list[Interval]) -> tuple[list[int], list[int]]:
    starts: list[int] = []
    ends: list[int] = []
    for s, e in sorted(items):
        if ends and s <= ends[-1]:
            if e > ends[-1]:
                ends[-1] = e
            continue
        starts.append(s)
        ends.append(e)
    return starts, ends


@dataclass
class Day:
    date: dt.date
    weekday: int
    start: int
    end: int
    closed: bool
    opening: list[Interval]
    #: Grid slots (epoch) inside opening hours, ascending, with their local minute of the day.
    slots: list[int]
    minutes: list[int]
    #: No clock change on this day: local minute m is ``start + 60 m``.
    steady: bool = False


class Calendar:
    """The location's days: grid slots in opening hours, closures, staff working hours."""

    def __init__(self, availability: Availability, grid_minutes: int) -> None:
        self.tz: ZoneInfo = availability.tz
        self.grid = grid_minutes
        self._opening: dict[int, list[tuple[dt.time, dt.time]]] = {}
        hours: list[OpeningHours] = list(availability.location.opening_hours)
        for h in hours:
            self._opening.setdefault(h.weekday, []).append((h.opens, h.closes))
        self._closures: list[Closure] = list(availability.closures)
        self._working: dict[tuple[int, int], list[tuple[dt.time, dt.time]]] = {}
        location_id = availability.location.id
        self._staff: dict[int, StaffMember] = {m.id: m for m in availability.staff}
        for member in availability.staff:
            for h in member.working_hours:
                if h.location_id == location_id:
                    self._working.setdefault((member.id, h.weekday), []).append((h.starts, h.ends))
        self._days: dict[dt.date, Day] = {}
        self._work_days: dict[tuple[int, dt.date], list[Interval]] = {}

    def opening_hours(self, weekday: int) -> list[tuple[dt.time, dt.time]]:
        return self._opening.get(weekday, [])

    def working_hours(self, staff_id: int, weekday: int) -> list[tuple[dt.time, dt.time]]:
        """When ``staff_id`` works at this location on ``weekday`` (local times)."""
        return self._working.get((staff_id, weekday), [])

    def date_of(self, epoch: int) -> dt.date:
        return dt.datetime.fromtimestamp(epoch, self.tz).date()

    def day(self, date: dt.date) -> Day:
        found = self._days.get(date)
        if found is None:
            closed = any(c.starts_on <= date <= c.ends_on for c in self._closures)
            hours = tuple(sorted(self._opening.get(date.weekday(), [])))
            key = (self.tz.key, date, self.grid, closed, hours)
            found = _DAYS.get(key)
            if found is None:
                if len(_DAYS) > MAX_CACHED_DAYS:
                    _DAYS.clear()
                found = _DAYS[key] = self._build_day(date)
            self._days[date] = found
        return found

    def _interval(self, date: dt.date, opens: dt.time, closes: dt.time) -> Interval:
        end_date = date + dt.timedelta(days=1) if closes == dt.time(0) else date
        return wall_epoch(date, opens, self.tz), wall_epoch(end_date, closes, self.tz)

    def _build_day(self, date: dt.date) -> Day:
        tz = self.tz
        start = wall_epoch(date, dt.time(0), tz)
        end = wall_epoch(date + dt.timedelta(days=1), dt.time(0), tz)
        closed = any(c.starts_on <= date <= c.ends_on for c in self._closures)
        hours = self._opening.get(date.weekday(), [])
        opening = sorted(self._interval(date, o, c) for o, c in hours)
        slots: list[int] = []
        minutes: list[int] = []
        steady = end - start == 86400 and self._same_offset(start, end)
        if opening and not closed:
            if steady:
                slots, minutes = self._steady_slots(start, hours)
            else:
                slots, minutes = self._changing_slots(date, opening)
        return Day(date, date.weekday(), start, end, closed, opening, slots, minutes, steady)

    def _steady_slots(
        self, start: int, hours: list[tuple[dt.time, dt.time]]
    ) -> tuple[list[int], list[int]]:
        """A day without a clock change: grid minutes inside the opening intervals."""
        step = self.grid
        found: set[int] = set()
        for opens, closes in hours:
            first = opens.hour * 60 + opens.minute
            last = 24 * 60 if closes == dt.time(0) else closes.hour * 60 + closes.minute
            found.update(range(-(-first // step) * step, last, step))
        minutes = sorted(found)
        return [start + m * MINUTE for m in minutes], minutes

    def _changing_slots(
        self, date: dt.date, opening: list[Interval]
    ) -> tuple[list[int], list[int]]:
        """A day the clocks change: each grid time that exists, a repeated one twice."""
        tz = self.tz
        slots: list[int] = []
        minutes: list[int] = []
        first = min(s for s, _ in opening)
        last = max(e for _, e in opening)
        for minute in range(0, 24 * 60, self.grid):
            clock = dt.time(minute // 60, minute % 60)
            found = (wall_exists(date, clock, tz, 0), wall_exists(date, clock, tz, 1))
            for epoch in dict.fromkeys(e for e in found if e is not None):
                if epoch < first or epoch >= last or (slots and epoch <= slots[-1]):
                    continue
                if any(s <= epoch < e for s, e in opening):
                    slots.append(epoch)
                    minutes.append(minute)
        return slots, minutes

    def _same_offset(self, start: int, end: int) -> bool:
        a = dt.datetime.fromtimestamp(start, self.tz).utcoffset()
        b = dt.datetime.fromtimestamp(end - 1, self.tz).utcoffset()
        return a == b

    def open_for(self, day: Day, start: int, end: int) -> bool:
        return any(s <= start and end <= e for s, e in day.opening)

    def working(self, staff_id: int, day: Day) -> list[Interval]:
        key = (staff_id, day.date)
        found = self._work_days.get(key)
        if found is None:
            hours = self._working.get((staff_id, day.weekday), [])
            if day.steady:
                found = [
                    (day.start + _minute(s) * MINUTE, day.start + _minute(e, True) * MINUTE)
                    for s, e in hours
                ]
            else:
                found = [self._interval(day.date, s, e) for s, e in hours]
            self._work_days[key] = found
        return found

    def works(self, staff_id: int, day: Day, start: int, end: int) -> bool:
        return any(s <= start and end <= e for s, e in self.working(staff_id, day))

    def local_minute(self, epoch: int) -> int:
        moment = dt.datetime.fromtimestamp(epoch, self.tz)
        return moment.hour * 60 + moment.minute

    def wall(self, date: dt.date, clock: dt.time) -> int:
        return wall_epoch(date, clock, self.tz)


def _minute(clock: dt.time, end: bool = False) -> int:
    """Minute of the day; an end at 00:00 is the day's last minute boundary (24:00)."""
    if end and clock == dt.time(0):
        return 24 * 60
    return clock.hour * 60 + clock.minute


def span_minutes(start: int, end: int) -> int:
    return (end - start) // MINUTE
