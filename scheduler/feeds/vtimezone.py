"""VTIMEZONE blocks from zoneinfo, written as yearly RRULEs that Outlook reads.

icalendar's own generator lists every transition as an RDATE; Outlook mishandles those and shows
events an hour off. Here the transitions of a zone over a span of years are found from zoneinfo,
grouped by kind and offsets, and each run of consecutive years that follows one yearly rule
("2nd Sunday of March 02:00", "last Sunday of October 03:00") becomes one observance with an
RRULE. Only years that follow no rule (zones that move with a lunar calendar, one-off changes)
fall back to DTSTART/RDATE.

Observance DTSTARTs are local wall times in the TZOFFSETFROM offset, as in RFC 5545's examples.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Component, Timezone, TimezoneDaylight, TimezoneStandard

_STEP = 6 * 3600
_HORIZON_YEARS = 6
_LOOKBACK_YEARS = 2
_EPOCH = dt.datetime(1970, 1, 1)
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@dataclass(frozen=True)
class Transition:
    at: dt.datetime  # UTC
    offset_from: dt.timedelta
    offset_to: dt.timedelta
    name: str
    daylight: bool

    @property
    def local(self) -> dt.datetime:
        """The wall-clock time at which it happens, in the offset before it (naive)."""
        return (self.at + self.offset_from).replace(tzinfo=None)

    @property
    def kind(self) -> tuple[bool, dt.timedelta, dt.timedelta, str, dt.time]:
        return (self.daylight, self.offset_from, self.offset_to, self.name, self.local.time())


def _offset(tz: ZoneInfo, second: int) -> dt.timedelta:
    return dt.datetime.fromtimestamp(second, tz).utcoffset() or dt.timedelta(0)


def transitions(tz: ZoneInfo, start: dt.datetime, end: dt.datetime) -> list[Transition]:
    """Every change of UTC offset in [start, end), to the second."""
    found: list[Transition] = []
    t = int(start.timestamp())
    stop = int(end.timestamp())
    before = _offset(tz, t)
    while t < stop:
        nxt = min(t + _STEP, stop)
        after = _offset(tz, nxt)
        if after != before:
            lo, hi = t, nxt  # offset(lo) == before, offset(hi) != before
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if _offset(tz, mid) == before:
                    lo = mid
                else:
                    hi = mid
            at = dt.datetime.fromtimestamp(hi, dt.UTC)
            local = at.astimezone(tz)
            dst = local.dst() or dt.timedelta(0)
            dst_before = dt.datetime.fromtimestamp(lo, tz).dst() or dt.timedelta(0)
            found.append(
                Transition(
                    at=at,
                    offset_from=before,
                    offset_to=_offset(tz, hi),
                    name=local.tzname() or "",
                    # Zones with a negative saving (Europe/Dublin's winter) call their summer
                    # "standard"; clients expect the summer observance to be DAYLIGHT.
                    daylight=dst > dt.timedelta(0)
                    or (dst == dt.timedelta(0) and dst_before < dt.timedelta(0)),
                )
            )
            before = _offset(tz, hi)
            t = hi
            continue
        t = nxt
    return found


Rule = tuple[object, ...]


def _rules(local: dt.datetime) -> list[Rule]:
    """The yearly rules that put a transition on this local date, most conventional first."""
    day, month, weekday = local.day, local.month, local.weekday()
    length = calendar.monthrange(local.year, month)[1]
    found: list[Rule] = []
    nth = (day - 1) // 7 + 1
    if nth <= 4:
        found.append(("nth", month, weekday, nth))
    if day + 7 > length:
        found.append(("last", month, weekday))
    # "Weekday on or after day D" (Israel: Friday on or after the 23rd). D + 6 stays inside
    # the month's length in every year so the rule reads the same in any year.
    shortest = 28 if month == 2 else length
    for first in range(max(1, day - 6), day + 1):
        if first + 6 <= shortest and first not in (1, 8, 15, 22):
            found.append(("onafter", month, weekday, first))
    found.append(("monthday", month, day))
    return found


def _rrule(rule: Rule) -> dict[str, object]:
    kind, month = rule[0], rule[1]
    if kind == "nth":
        return {"FREQ": "YEARLY", "BYMONTH": month, "BYDAY": f"{rule[3]}{_WEEKDAYS[rule[2]]}"}
    if kind == "last":
        return {"FREQ": "YEARLY", "BYMONTH": month, "BYDAY": f"-1{_WEEKDAYS[rule[2]]}"}
    if kind == "onafter":
        first = int(rule[3])  # type: ignore[call-overload]
        return {
            "FREQ": "YEARLY",
            "BYMONTH": month,
            "BYDAY": _WEEKDAYS[rule[2]],  # type: ignore[index]
            "BYMONTHDAY": list(range(first, first + 7)),
        }
    return {"FREQ": "YEARLY", "BYMONTH": month, "BYMONTHDAY": rule[2]}


@dataclass
class _Observance:
    #: Its onsets in order: a run of years under ``rule``, or irregular ones (DTSTART + RDATEs).
    items: tuple[Transition, ...]
    rule: Rule | None = None
    until: dt.datetime | None = None

    @property
    def first(self) -> Transition:
        return self.items[0]


def _runs(items: list[Transition], last_year: int) -> list[_Observance]:
    """Split one kind's transitions (sorted) into yearly-rule runs and leftovers."""
    observances: list[_Observance] = []
    leftovers: list[Transition] = []
    i = 0
    while i < len(items):
        common = _rules(items[i].local)
        j = i + 1
        while j < len(items) and items[j].local.year == items[j - 1].local.year + 1:
            narrowed = [r for r in common if r in set(_rules(items[j].local))]
            if not narrowed:
                break
            common = narrowed
            j += 1
        run = tuple(items[i:j])
        if len(run) >= 2:
            open_ended = run[-1].local.year >= last_year
            observances.append(_Observance(run, common[0], None if open_ended else run[-1].at))
        else:
            leftovers.extend(run)
        i = j
    if leftovers:
        observances.append(_Observance(tuple(leftovers)))
    return observances


def observances(
    tz: ZoneInfo, first_year: int, last_year: int
) -> tuple[list[_Observance], Transition | None]:
    """The observances covering the years, and a fixed observance for the offset in force
    when no change precedes them.

    Each observance starts at its last onset before the years (so the one in force on 1
    January is in the block, and a regular zone needs just one STANDARD and one DAYLIGHT).
    Rules are fitted over a few more years than asked for, so that a run is only written
    open-ended when the zone really keeps that rule, and the rule chosen is the zone's own
    ("Friday on or after the 23rd", not "4th Friday", when they part ways after a few years).
    """
    start = dt.datetime(first_year, 1, 1, tzinfo=dt.UTC)
    horizon = last_year + _HORIZON_YEARS
    found = transitions(
        tz,
        dt.datetime(first_year - _LOOKBACK_YEARS, 1, 1, tzinfo=dt.UTC),
        dt.datetime(horizon + 1, 1, 1, tzinfo=dt.UTC),
    )
    earlier = [t for t in found if t.at < start]
    # The change in force on 1 January: each observance keeps onsets from there on.
    anchor = earlier[-1].at if earlier else start
    by_kind: dict[tuple[object, ...], list[Transition]] = {}
    for item in found:
        by_kind.setdefault(item.kind, []).append(item)
    result: list[_Observance] = []
    for items in by_kind.values():
        for observance in _runs(items, horizon):
            kept = tuple(t for t in observance.items if t.at >= anchor)
            if observance.rule is None:
                kept = tuple(t for t in kept if t.local.year <= last_year)
            if kept and kept[0].local.year <= last_year:
                result.append(_Observance(kept, observance.rule, observance.until))
    result.sort(key=lambda o: o.first.at)
    if earlier:
        return result, None
    local = start.astimezone(tz)
    offset = found[0].offset_from if found else (local.utcoffset() or dt.timedelta(0))
    daylight = (local.dst() or dt.timedelta(0)) > dt.timedelta(0)
    return result, Transition(start, offset, offset, local.tzname() or "", daylight)


def _component(item: Transition, local: dt.datetime | None = None) -> Component:
    component = TimezoneDaylight() if item.daylight else TimezoneStandard()
    component.add("dtstart", local or item.local)
    component.add("tzoffsetfrom", item.offset_from)
    component.add("tzoffsetto", item.offset_to)
    if item.name:
        component.add("tzname", item.name)
    return component


def vtimezone(tzid: str, first_year: int, last_year: int) -> Timezone:
    """A VTIMEZONE for ``tzid`` that is right from 1 January ``first_year`` to the end of
    ``last_year`` (and beyond, while the zone keeps its current rule)."""
    component = Timezone()
    component.add("tzid", tzid)
    found, before = observances(ZoneInfo(tzid), first_year, last_year)
    if before is not None:
        component.add_component(_component(before, _EPOCH))
    for item in found:
        sub = _component(item.first)
        if item.rule is not None:
            rrule = _rrule(item.rule)
            if item.until is not None:
                rrule["UNTIL"] = item.until
            sub.add("rrule", rrule)
        else:
            for extra in item.items[1:]:
                sub.add("rdate", extra.local)
        component.add_component(sub)
    return component


@lru_cache(maxsize=512)
def vtimezone_bytes(tzid: str, first_year: int, last_year: int) -> bytes:
    """The folded, CRLF-terminated VTIMEZONE block; built once per zone and span of years."""
    return vtimezone(tzid, first_year, last_year).to_ical()
