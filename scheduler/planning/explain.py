"""Why an element cannot be placed, in words a front desk can act on, and the nearest times it
could take if a protocol rule or a preference gave way."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from ..models import StaffPart
from .constraints import Placement
from .preferences import Preferences
from .reasons import PART_WORDS, ROOM_WORDS, Reason, either, numbered
from .search import BudgetExceeded, Context, Problem, Search
from .timeline import DAY, describe_days, from_epoch

#: Diagnosis looks at most this far; beyond it the words would not help anyone.
DIAGNOSIS_DAYS = 62


@dataclass(frozen=True)
class Alternative:
    starts_at: dt.datetime
    ends_at: dt.datetime
    room_id: int
    staff: tuple[tuple[int, StaffPart], ...]
    #: The protocol rules or preferences this time would break.
    breaks: tuple[str, ...]


def diagnose(
    problem: Problem,
    context: Context,
    placements: list[Placement | None],
    i: int,
    window: tuple[int, int] | None = None,
    contradiction: bool = False,
) -> Reason:
    """Why element ``i`` has no place; ``window`` is the range the search found it empty in."""
    search = Search(problem, context)
    search.load(placements, len(placements))
    element = search.elements[i]
    tz = context.tz
    key = element.key
    titles = [numbered(e) for e in search.elements]
    culprits: set[int] = set()
    lo, hi, filters = search.bounds(i, culprits)
    if window is not None:
        lo, hi = window
        if contradiction:
            lo = max(lo, hi + 1)
    pin = problem.pinned.get(i)
    if pin is not None:
        if pin.start < problem.earliest:
            return Reason("pin_past", key, "The new time must be in the future.")
        if not lo <= pin.start <= hi:
            rules = "; ".join(c.describe(titles) for c in element.constraints)
            return Reason("pin_breaks_rule", key, f"The new time breaks the protocol ({rules}).")
        lo = hi = pin.start
    if lo > hi:
        rules = "; ".join(c.describe(titles) for c in element.constraints)
        if hi >= problem.horizon:
            when = describe_days(problem.horizon, problem.horizon, tz).removeprefix("on ")
            return Reason(
                "horizon",
                key,
                f"It would fall after the end of the planning window ({when}).",
                "Choose a later start.",
            )
        return Reason(
            "protocol_window", key, f"The protocol's rules leave no time for it ({rules})."
        )
    rooms = search.room_lists[i]
    where = context.location.name
    if not rooms:
        wanted = either([ROOM_WORDS[k] for k in element.room_kinds])
        return Reason("no_room", key, f"{where} has no {wanted} in service.")
    kinds = {context.room_kind[r] for r in rooms}
    room_words = either([ROOM_WORDS[k] for k in element.room_kinds if k in kinds])
    search.staff_orders[i] = {part: search._staff_order(i, part) for part in element.parts}
    for part in element.parts:
        if not search.staff_orders[i][part]:
            return Reason(
                "no_staff", key, f"Nobody who works at {where} can be its {PART_WORDS[part]}."
            )
    stop = min(hi, lo + DIAGNOSIS_DAYS * DAY)
    counts = _count(search, i, lo, stop, filters, pin is not None)
    days = describe_days(lo, stop, tz)
    later = {"earliest_start": from_epoch(stop).date().isoformat()}
    if counts["open"] == 0:
        return Reason("closed", key, f"{where} is closed or not open long enough {days}.")
    if counts["wanted"] == 0:
        return Reason(
            "preferences",
            key,
            f"No time within the patient's preferred days and hours {days}.",
            "Allow more days or hours.",
            {"weekdays": None, "earliest_time": None, "latest_time": None},
        )
    if counts["patient"] == 0:
        return Reason(
            "patient_busy",
            key,
            f"The patient has other appointments at every possible time {days}.",
        )
    if counts["room"] == 0:
        return Reason(
            "fully_booked", key, f"No {room_words} free {days}.", "Choose a later start.", later
        )
    missing = [PART_WORDS[p] for p in element.parts if counts[p] == 0]
    if missing:
        return Reason(
            "fully_booked",
            key,
            f"No {either(missing, 'and')} free {days}.",
            "Choose a later start.",
            later,
        )
    people = either([PART_WORDS[p] for p in element.parts], "and")
    article = "an" if people[0] in "aeiou" else "a"
    return Reason(
        "fully_booked",
        key,
        f"No {room_words} with {article} {people} free {days}.",
        "Choose a later start.",
        later,
    )


def _count(
    search: Search,
    i: int,
    lo: int,
    hi: int,
    filters: list,
    pinned: bool,  # type: ignore[type-arg]
) -> dict[object, int]:
    element = search.elements[i]
    ctx = search.ctx
    cal = ctx.calendar
    prefs = search.problem.preferences
    counts: dict[object, int] = {"open": 0, "wanted": 0, "patient": 0, "room": 0}
    counts.update({p: 0 for p in element.parts})
    ignore: set[int] = set()
    date = cal.date_of(lo)
    last = cal.date_of(hi)
    while date <= last:
        day = cal.day(date)
        date += dt.timedelta(days=1)
        if day.closed:
            continue
        day_wanted = pinned or (
            prefs.allows_day(day.weekday)
            and all(c.day_ok(search.placed, day.start, search.tz) for c in filters)
        )
        for start in day.slots if not pinned else [lo]:
            end = start + element.seconds
            if start < lo or start > hi or not cal.open_for(day, start, end):
                continue
            counts["open"] += 1
            if not day_wanted or not _in_hours(search, prefs, day.date, start, end, pinned):
                continue
            counts["wanted"] += 1
            if not search._free(ctx.patient, start, end, ignore):
                continue
            counts["patient"] += 1
            room_until = end + element.buffer_minutes * 60
            room_ok = any(
                search._free(("room", r), start, room_until, ignore) for r in search.room_lists[i]
            )
            counts["room"] += room_ok
            for part in element.parts:
                counts[part] += any(
                    cal.works(m, day, start, end)
                    and ctx.off.free(("staff", m), start, end)
                    and search._free(("staff", m), start, end, ignore)
                    for m in search.staff_orders[i][part]
                )
    return counts


def _in_hours(
    search: Search, prefs: Preferences, date: dt.date, start: int, end: int, pinned: bool
) -> bool:
    if pinned:
        return True
    cal = search.ctx.calendar
    if prefs.earliest_time is not None and start < cal.wall(date, prefs.earliest_time):
        return False
    return not (prefs.latest_time is not None and end > cal.wall(date, prefs.latest_time))


def alternatives(
    problem: Problem,
    context: Context,
    placements: list[Placement | None],
    i: int,
    how_many: int = 3,
    days: int = 21,
) -> list[Alternative]:
    """The earliest times, one per day, the element could take if its spacing rules and the
    patient's preferences gave way; each says what it would break."""
    original = problem.preferences
    relaxed = replace(
        problem,
        preferences=Preferences(telehealth_ok=original.telehealth_ok),
        end_bound=None,
        pinned={},
        current={},
        order="earliest",
        budget=20_000,
    )
    search = Search(relaxed, context)
    search.load(placements, i)
    element = search.elements[i]
    culprits: set[int] = set()
    lo, _hi, _filters = search.bounds(i, culprits, relax=True)
    search.staff_orders[i] = {part: search._staff_order(i, part) for part in element.parts}
    search.room_orders[i] = search._room_order(i)
    hi = min(problem.horizon, lo + days * DAY)
    found: list[Alternative] = []
    titles = [numbered(e) for e in search.elements]
    cal = context.calendar
    date = cal.date_of(lo)
    try:
        while date <= cal.date_of(hi) and len(found) < how_many:
            day = cal.day(date)
            date += dt.timedelta(days=1)
            for start in day.slots:
                if start < lo or start > hi:
                    continue
                placement = next(iter(search._at(i, start, [], day=day)), None)
                if placement is None:
                    continue
                breaks = [
                    f"not {c.describe(titles)}"
                    for c in element.constraints
                    if all(search.placed[r] is not None for r in c.refs)
                    and c.broken(placement.start, placement.end, search.placed, context.tz)
                ]
                if not original.allows_day(day.weekday) or not _in_hours(
                    search, original, day.date, placement.start, placement.end, False
                ):
                    breaks.append("outside the patient's preferred days and hours")
                found.append(
                    Alternative(
                        starts_at=from_epoch(placement.start),
                        ends_at=from_epoch(placement.end),
                        room_id=placement.room_id,
                        staff=placement.staff,
                        breaks=tuple(breaks),
                    )
                )
                break
    except BudgetExceeded:  # a failure's explanation must not take longer than the search
        pass
    return found
