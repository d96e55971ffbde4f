"""Whether a new course can fit at all, answered before the search and in milliseconds.

The check drops everything that depends on other bookings (rooms, staff and the patient being
free) and keeps what does not: the location's hours and closures, who works there on which
days, the protocol's durations, spacing and pairing windows, and the patient's preferred days
and hours. That relaxation can only be easier than the real problem, so when it has no
solution neither has the real one, and the constraint that emptied it is the cause to name.

Each session's possible starts are kept per local day as an interval (the day's first and last
possible start). Arc consistency narrows them along the protocol's rules; because a rule's
window moves forward with the session it refers to, the union of windows over a day's starts
lies inside [window(first).start, window(last).end], so narrowing never drops a start that
could work. Arc consistency alone misses rules that add up along a chain ("six infusions, two
days apart, within 21 days" on Tuesdays only), so each step's first session is also probed
day by day; days whose surroundings look alike (same weekday, same closures, clock changes and
distance to the window's ends) behave alike, so one probe stands for all of them.

Soundness is the point: a "cannot" from here is a proof, so the search is skipped; a "can" only
means the search has to find out.
"""

from __future__ import annotations

import copy
import datetime as dt
import time
from bisect import bisect_left, bisect_right
from collections import deque
from dataclasses import dataclass, replace

from ..models import ROLE_FOR_PART, RoomKind, StaffPart
from .constraints import Constraint, InWeeks, Placement, Within
from .index import Calendar, Day
from .preferences import Preferences
from .reasons import (
    PART_WORDS,
    ROOM_WORDS,
    WEEKDAYS,
    Reason,
    clock,
    either,
    length,
    noun,
    numbered,
    plural_days,
)
from .search import Context, Problem
from .shape import Element, min_separations, tails
from .timeline import DAY, describe_days

INF = 1 << 62
#: Probing stops (without a verdict) after this long; the search then has its own budget.
PROBE_SECONDS = 0.25
#: Days past the course's shortest length looked at first (see ``check``).
QUICK_DAYS = 28

Ranges = list[tuple[int, int]]
#: Per arc, its window's lower bounds and upper bounds by reference start.
Cache = dict[int, tuple[dict[int, int], dict[int, int]]]


@dataclass
class Domain:
    """Possible starts of one element: per local day, the first and last (epoch seconds)."""

    days: list[dt.date]
    lo: list[int]
    hi: list[int]

    def __len__(self) -> int:
        return len(self.days)


@dataclass(frozen=True)
class Dead:
    """A domain emptied by narrowing: ``element`` had no start left under ``rule`` of
    ``owner`` (the element the rule belongs to)."""

    element: int
    owner: int
    rule: Constraint


def check(problem: Problem, context: Context) -> Reason | None:
    """The reason a new course cannot be planned whatever is booked, or None if it might be."""
    if problem.fixed or problem.pinned:
        return None
    cache: Cache = {}
    # Most requests fit: a few weeks past the course's length show it, at a tenth of the cost
    # of the whole window. Only a "no" there needs the whole window (a "no" in a shorter
    # window proves nothing; a "maybe" is all the search needs).
    short = problem.earliest + _span(problem) + QUICK_DAYS * DAY
    if short < problem.horizon:
        quick = replace(problem, horizon=short)
        if _verdict(quick, context, PROBE_SECONDS, {}) is None:
            return None
    first = _verdict(problem, context, PROBE_SECONDS, cache)
    if first is None or isinstance(first, Reason):
        return first
    return _explain(problem, context, first, cache)


# -- one element on its own ----------------------------------------------------------------


def _rooms(element: Element, context: Context, prefs: Preferences) -> list[RoomKind]:
    present = set(context.room_kind.values())
    return [
        k
        for k in element.room_kinds
        if k in present and (prefs.telehealth_ok or k != RoomKind.TELEHEALTH)
    ]


def _intersect(a: Ranges, b: Ranges) -> Ranges:
    out: Ranges = []
    for s1, e1 in a:
        for s2, e2 in b:
            s, e = max(s1, s2), min(e1, e2)
            if s <= e:
                out.append((s, e))
    return sorted(out)


def _minutes(moment: dt.time, end: bool = False) -> int:
    if end and moment == dt.time(0):
        return 24 * 60
    return moment.hour * 60 + moment.minute


@dataclass
class Week:
    """For one element: per weekday, the local minutes it may start at (ranges), and after
    which filter each weekday lost its last start."""

    starts: dict[int, Ranges]
    lost: dict[int, str]
    #: Per weekday, the earliest local minute it could end ignoring ``latest_time``.
    earliest_end: dict[int, int]
    latest_start: dict[int, int]


def week_of(element: Element, context: Context, prefs: Preferences, grid: int) -> Week:
    cal = context.calendar
    m = element.minutes
    starts: dict[int, Ranges] = {}
    lost: dict[int, str] = {}
    earliest_end: dict[int, int] = {}
    latest_start: dict[int, int] = {}
    pref_lo = _minutes(prefs.earliest_time) if prefs.earliest_time else 0
    pref_hi = _minutes(prefs.latest_time, True) if prefs.latest_time else 24 * 60
    for weekday in range(7):
        hours = cal.opening_hours(weekday)
        if not hours:
            lost[weekday] = "closed"
            continue
        open_starts = [
            (-(-_minutes(o) // grid) * grid, _minutes(c, True) - m)
            for o, c in hours
            if _minutes(c, True) - m >= -(-_minutes(o) // grid) * grid
        ]
        if not open_starts:
            lost[weekday] = "too_short"
            continue
        ranges = open_starts
        for part in element.parts:
            pool = context.by_role.get(ROLE_FOR_PART[part], [])
            allowed = sorted(
                (_minutes(s), _minutes(e, True) - m)
                for member in pool
                for s, e in cal.working_hours(member, weekday)
                if _minutes(e, True) - m >= _minutes(s)
            )
            ranges = _intersect(ranges, allowed)
        if not ranges:
            lost[weekday] = "staff"
            continue
        after = _intersect(ranges, [(pref_lo, INF)])
        if after:
            first = -(-after[0][0] // grid) * grid
            earliest_end[weekday] = first + m
        latest_start[weekday] = max(e - e % grid for _, e in ranges)
        ranges = _intersect(ranges, [(pref_lo, pref_hi - m)])
        ranges = [(-(-s // grid) * grid, e - e % grid) for s, e in ranges]
        ranges = [(s, e) for s, e in ranges if s <= e]
        if not ranges:
            lost[weekday] = "hours"
            continue
        if not prefs.allows_day(weekday):
            lost[weekday] = "preference"
            continue
        starts[weekday] = ranges
    return Week(starts, lost, earliest_end, latest_start)


def _alone(element: Element, context: Context, prefs: Preferences, week: Week) -> Reason | None:
    """Why ``element`` could never stand on any day, whatever the rest of the plan."""
    where = context.location.name
    what = noun(element)
    if not _rooms(element, context, prefs):
        rooms = either([ROOM_WORDS[k] for k in element.room_kinds])
        return Reason("no_room", element.key, f"{where} has no {rooms} in service.")
    for part in element.parts:
        if not context.by_role.get(ROLE_FOR_PART[part]):
            word = PART_WORDS[part]
            return Reason(
                "no_staff", element.key, f"Nobody who works at {where} can be the {word}."
            )
    if week.starts:
        return None
    wanted = set(range(7)) if prefs.weekdays is None else set(prefs.weekdays)
    lost = {d: week.lost.get(d, "") for d in wanted}
    open_days = sorted(d for d in range(7) if week.lost.get(d) != "closed")
    if all(v == "closed" for v in lost.values()):
        return Reason(
            "closed_days",
            element.key,
            f"{where} is closed on {plural_days(wanted)}.",
            f"Ask for {either([WEEKDAYS[d] for d in open_days])}.",
            {"weekdays": None},
        )
    if all(v in ("closed", "too_short") for v in lost.values()):
        short = [d for d, v in lost.items() if v == "too_short"]
        return Reason(
            "hours_too_short",
            element.key,
            f"{where}'s opening hours on {plural_days(short)} are too short for a "
            f"{length(element.minutes)} {what}.",
        )
    if all(v in ("closed", "too_short", "staff") for v in lost.values()):
        days = [d for d, v in lost.items() if v == "staff"]
        roles = either([PART_WORDS[p] for p in element.parts])
        working = sorted(d for d in range(7) if d not in week.lost or week.lost[d] != "staff")
        working = [d for d in working if week.lost.get(d) not in ("closed", "too_short")]
        return Reason(
            "no_staff_on_days",
            element.key,
            f"No {roles} works at {where} on {plural_days(days)} long enough for a "
            f"{length(element.minutes)} {what}.",
            f"Ask for {either([WEEKDAYS[d] for d in working])}." if working else None,
            {"weekdays": None} if working else {},
        )
    hours_lost = [d for d, v in lost.items() if v == "hours"]
    if not hours_lost:
        return None
    ends = [week.earliest_end[d] for d in hours_lost if d in week.earliest_end]
    if prefs.latest_time is not None and ends and min(ends) > _minutes(prefs.latest_time, True):
        end = min(ends)
        return Reason(
            "latest_time",
            element.key,
            f"A {length(element.minutes)} {what} can't end by {clock(prefs.latest_time)}; "
            f"the earliest end is {clock(end)}.",
            f"Allow appointments to end at {clock(end)} or later.",
            {"latest_time": clock(end)},
        )
    if prefs.earliest_time is not None and not ends:
        latest = max(week.latest_start[d] for d in hours_lost)
        return Reason(
            "earliest_time",
            element.key,
            f"A {length(element.minutes)} {what} can't start at {clock(prefs.earliest_time)} "
            f"or later; the latest start is {clock(latest)}.",
            f"Allow a start at {clock(latest)}.",
            {"earliest_time": clock(latest)},
        )
    return Reason(
        "time_range",
        element.key,
        f"Between {clock(prefs.earliest_time or dt.time(0))} and "
        f"{clock(prefs.latest_time or dt.time(0))} there isn't room for a "
        f"{length(element.minutes)} {what}.",
        "Widen the time range.",
        {"earliest_time": None, "latest_time": None},
    )


def domain_of(problem: Problem, context: Context, week: Week, element: Element) -> Domain:
    cal = context.calendar
    first, last = cal.date_of(problem.earliest), cal.date_of(problem.horizon)
    days: list[dt.date] = []
    los: list[int] = []
    his: list[int] = []
    date = first
    while date <= last:
        ranges = week.starts.get(date.weekday())
        if ranges:
            day = cal.day(date)
            if not day.closed:
                lo = _wall(cal, day, ranges[0][0])
                hi = _wall(cal, day, ranges[-1][1])
                lo, hi = max(lo, problem.earliest), min(hi, problem.horizon)
                if lo <= hi:
                    days.append(date)
                    los.append(lo)
                    his.append(hi)
        date += dt.timedelta(days=1)
    return Domain(days, los, his)


def _wall(cal: Calendar, day: Day, minute: int) -> int:
    if day.steady:
        return day.start + minute * 60
    if minute >= 24 * 60:
        return day.end
    return cal.wall(day.date, dt.time(minute // 60, minute % 60))


# -- narrowing along the rules -------------------------------------------------------------


class Network:
    """Arc consistency over the elements' day intervals (see the module docstring)."""

    def __init__(
        self,
        problem: Problem,
        context: Context,
        domains: list[Domain],
        cache: Cache | None = None,
    ) -> None:
        #: Per arc, its window's bounds by reference start: shared by every network built for
        #: one problem (probes, other preferences), since a rule's window does not depend on
        #: them.
        self.cache = {} if cache is None else cache
        self.elements = problem.shape.elements
        self.tz = context.tz
        self.domains = domains
        n = len(self.elements)
        #: (owner, rule, reference): owner's start is limited by rule relative to reference.
        self.arcs: list[tuple[int, Constraint, int]] = [
            (e.index, c, c.refs[0])
            for e in self.elements
            for c in e.constraints
            if len(c.refs) == 1
        ]
        self.touching: list[list[int]] = [[] for _ in range(n)]
        for k, (owner, _c, ref) in enumerate(self.arcs):
            self.touching[owner].append(k)
            self.touching[ref].append(k)
        self._fake: list[Placement | None] = [None] * n

    def with_domains(self, domains: list[Domain]) -> Network:
        """The same rules and window cache over other domains (a probe)."""
        trial = copy.copy(self)
        trial.domains = domains
        trial._fake = [None] * len(self.elements)
        return trial

    def _window(self, k: int, t_lo: int, t_hi: int) -> tuple[int, int]:
        """The union of arc ``k``'s windows for reference starts in [t_lo, t_hi]."""
        lows, highs = self.cache.setdefault(k, ({}, {}))
        a = lows.get(t_lo)
        if a is None:
            a = lows[t_lo] = self._bound(k, t_lo, 0)
        b = highs.get(t_hi)
        if b is None:
            b = highs[t_hi] = self._bound(k, t_hi, 1)
        return a, b

    def _bound(self, k: int, t: int, side: int) -> int:
        owner, c, ref = self.arcs[k]
        fake = self._fake
        fake[ref] = Placement(t, t + self.elements[ref].seconds, 0, ())
        found = c.window(fake, self.elements[owner].seconds, self.tz)[side]
        fake[ref] = None
        if found is None:
            return INF if side else -INF
        return found

    def _forward(self, k: int) -> bool | None:
        """Narrow the owner of arc ``k`` by its reference: None if emptied, else changed."""
        owner, _c, ref = self.arcs[k]
        d_ref, d = self.domains[ref], self.domains[owner]
        windows = sorted(self._window(k, d_ref.lo[j], d_ref.hi[j]) for j in range(len(d_ref)))
        union: Ranges = []
        for a, b in windows:
            if union and a <= union[-1][1]:
                if b > union[-1][1]:
                    union[-1] = (union[-1][0], b)
            else:
                union.append((a, b))
        starts = [a for a, _ in union]
        changed = False
        keep = Domain([], [], [])
        for date, lo, hi in zip(d.days, d.lo, d.hi, strict=True):
            j = bisect_right(starts, hi) - 1
            if j < 0 or union[j][1] < lo:
                # The interval reaching furthest before hi ends before lo: none overlaps.
                changed = True
                continue
            i = bisect_left([b for _, b in union], lo, hi=j + 1)
            new_lo, new_hi = max(lo, union[i][0]), min(hi, union[j][1])
            if new_lo > new_hi:
                changed = True
                continue
            changed |= (new_lo, new_hi) != (lo, hi)
            keep.days.append(date)
            keep.lo.append(new_lo)
            keep.hi.append(new_hi)
        if not changed:
            return False
        self.domains[owner] = keep
        return None if not keep.days else True

    def _backward(self, k: int) -> bool | None:
        """Drop the reference's days from which no start of the owner can be reached."""
        owner, _c, ref = self.arcs[k]
        d_ref, d = self.domains[ref], self.domains[owner]
        keep = Domain([], [], [])
        for date, lo, hi in zip(d_ref.days, d_ref.lo, d_ref.hi, strict=True):
            a, b = self._window(k, lo, hi)
            j = bisect_right(d.lo, b) - 1
            # Owner intervals are in time order and disjoint: the last one starting by b is
            # the only candidate to reach a.
            if j >= 0 and d.hi[j] >= a:
                keep.days.append(date)
                keep.lo.append(lo)
                keep.hi.append(hi)
        if len(keep) == len(d_ref):
            return False
        self.domains[ref] = keep
        return None if not keep.days else True

    def run(self, changed: list[int] | None = None, deadline: float | None = None) -> Dead | None:
        queue: deque[tuple[int, bool]] = deque()
        if changed is None:
            queue.extend((k, fwd) for k in range(len(self.arcs)) for fwd in (True, False))
        else:
            for e in changed:
                queue.extend((k, fwd) for k in self.touching[e] for fwd in (True, False))
        waiting = set(queue)
        steps = 0
        while queue:
            item = queue.popleft()
            waiting.discard(item)
            k, forward = item
            owner, c, ref = self.arcs[k]
            result = self._forward(k) if forward else self._backward(k)
            if result is None:
                return Dead(owner if forward else ref, owner, c)
            if result:
                moved = owner if forward else ref
                for other in self.touching[moved]:
                    for fwd in (True, False):
                        if (other, fwd) not in waiting:
                            waiting.add((other, fwd))
                            queue.append((other, fwd))
            steps += 1
            if deadline is not None and steps % 16 == 0 and time.monotonic() > deadline:
                raise TimeoutError
        return None


# -- the verdict -----------------------------------------------------------------------------


def _domains(problem: Problem, context: Context) -> list[Domain] | Reason:
    prefs = problem.preferences
    weeks: dict[tuple[int, tuple[StaffPart, ...]], tuple[Week, Domain]] = {}
    domains: list[Domain] = []
    for element in problem.shape.elements:
        # Sessions of one length and staff share their days (networks never change a domain
        # in place, so one object can stand for all of them).
        key = (element.minutes, element.parts)
        if key not in weeks:
            week = week_of(element, context, prefs, problem.grid_minutes)
            weeks[key] = (week, domain_of(problem, context, week, element))
        week, domain = weeks[key]
        reason = _alone(element, context, prefs, week)
        if reason is not None:
            return reason
        if not domain.days:
            return Reason(
                "closure",
                element.key,
                f"{context.location.name} is closed on every day {numbered(element).lower()} "
                "could take within the planning window.",
                "Choose a later start.",
            )
        domains.append(domain)
    return domains


def _verdict(
    problem: Problem, context: Context, seconds: float, cache: Cache
) -> Dead | Reason | None:
    """A reason (found on one element alone), the emptied constraint, or None (may fit)."""
    domains = _domains(problem, context)
    if isinstance(domains, Reason):
        return domains
    network = Network(problem, context, domains, cache)
    dead = network.run()
    if dead is not None:
        return dead
    deadline = time.monotonic() + seconds
    try:
        return _probe(problem, context, network, deadline)
    except TimeoutError:
        return None


def _probe(problem: Problem, context: Context, network: Network, deadline: float) -> Dead | None:
    """Probe each step's first session day by day; a dead end on every kind of day is a
    proof. Returns the dead end of the first kind of day."""
    firsts = sorted(
        {
            c.first
            for e in problem.shape.elements
            for c in e.constraints
            if isinstance(c, Within | InWeeks)
        }
    )
    cal = context.calendar
    base = network.domains
    reach = max((_reach_days(problem, f) for f in firsts), default=0)
    first_day = cal.date_of(problem.earliest)
    last_day = cal.date_of(problem.horizon)
    for f in firsts:
        domain = base[f]
        seen: set[tuple[object, ...]] = set()
        found: Dead | None = None
        alive = False
        for j, date in enumerate(domain.days):
            signature = _signature(cal, date, first_day, last_day, reach)
            if signature in seen:
                continue
            seen.add(signature)
            trial = network.with_domains(list(base))
            trial.domains[f] = Domain([date], [domain.lo[j]], [domain.hi[j]])
            dead = trial.run([f], deadline)
            if dead is None:
                alive = True
                break
            found = found or dead
        if not alive:
            return found
    return None


def _span(problem: Problem) -> int:
    """Seconds from a course's first session to the end of its last, at the least."""
    separations = min_separations(problem.shape)
    return max(tails(problem.shape, separations), default=0)


def _reach_days(problem: Problem, first: int) -> int:
    """Days a course spans after ``first`` (for comparing the surroundings of its days)."""
    total = 0
    for e in problem.shape.elements:
        for c in e.constraints:
            if isinstance(c, Within) and c.first == first:
                total = max(total, c.span.nominal_seconds // DAY + 2)
            if isinstance(c, InWeeks) and c.first == first:
                total = max(total, 7 * (c.high or c.low) + 1)
    return min(total + 7, 400)


def _signature(
    cal: Calendar, date: dt.date, first: dt.date, last: dt.date, reach: int
) -> tuple[object, ...]:
    around = []
    for offset in range(-14, reach + 1):
        other = date + dt.timedelta(days=offset)
        if other < first or other > last:
            around.append(None)
            continue
        day = cal.day(other)
        around.append((day.closed, day.steady, day.end - day.start))
    return (date.weekday(), tuple(around))


# -- the words -------------------------------------------------------------------------------


def _explain(problem: Problem, context: Context, dead: Dead, cache: Cache) -> Reason:
    elements = problem.shape.elements
    owner = elements[dead.owner]
    element = elements[dead.element]
    titles = [numbered(e) for e in elements]
    rule = dead.rule.describe(titles)
    prefs = problem.preferences
    longer = replace(problem, horizon=problem.horizon + 120 * DAY)
    if _verdict(longer, context, PROBE_SECONDS / 4, cache) is None:
        when = describe_days(problem.horizon, problem.horizon, context.tz).removeprefix("on ")
        return Reason(
            "horizon",
            element.key,
            f"{numbered(element)} would fall after the end of the planning window ({when}).",
            "Choose a later start or a longer window.",
        )
    cause = f"{numbered(owner)} must be {rule}"
    if prefs.weekdays is not None:
        cause += f"; with {plural_days(prefs.weekdays)} only there is no such day."
        days = _days_that_help(problem, context, cache)
        if days:
            fix = f"Allow {either([WEEKDAYS[d] for d in days])}."
            change = {"weekdays": sorted(set(prefs.weekdays) | {days[0]})}
            return Reason("protocol_days", element.key, cause, fix, change)
        if _fits(problem, context, replace(prefs, weekdays=None), cache):
            return Reason("protocol_days", element.key, cause, "Allow any day.", {"weekdays": None})
        return Reason("protocol_days", element.key, cause)
    if prefs.earliest_time is not None or prefs.latest_time is not None:
        cause += "; within the patient's hours there is no such time."
        free = replace(prefs, earliest_time=None, latest_time=None)
        if _fits(problem, context, free, cache):
            return Reason(
                "protocol_window",
                element.key,
                cause,
                "Widen the time range.",
                {"earliest_time": None, "latest_time": None},
            )
        return Reason("protocol_window", element.key, cause)
    cause += f"; {context.location.name}'s opening days leave no such time."
    return Reason("protocol_window", element.key, cause)


def _fits(problem: Problem, context: Context, prefs: Preferences, cache: Cache) -> bool:
    wider = replace(problem, preferences=prefs)
    return _verdict(wider, context, PROBE_SECONDS / 4, cache) is None


def _days_that_help(problem: Problem, context: Context, cache: Cache) -> list[int]:
    """Weekdays which, each added alone to the patient's days, would let the course fit."""
    prefs = problem.preferences
    assert prefs.weekdays is not None
    found = []
    for weekday in range(7):
        if weekday in prefs.weekdays or not context.calendar.opening_hours(weekday):
            continue
        wider = replace(prefs, weekdays=frozenset(prefs.weekdays | {weekday}))
        if _fits(problem, context, wider, cache):
            found.append(weekday)
    return found


__all__ = ["Domain", "Network", "Reason", "check"]
