"""Depth-first search with conflict-directed backjumping over the elements of a course.

Elements are placed in order (each step's sessions, then their pairs). For each element the
search walks candidate start times on the grid, inside the bounds its protocol rules give, and
takes the first room and staff that are free, checked against the in-memory indexes and then
against ``scheduler.booking.rules`` (so a plan never breaks a rule booking would enforce).

When an element has no candidate left, the search jumps back to the latest element that could
have caused it (an element its rules refer to, or whose reservation blocked a candidate), not
merely to the previous one. With the budget not exhausted, a failure is a proof that no plan
exists on the grid.
"""

from __future__ import annotations

import datetime as dt
import time
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field

from ..booking import rules
from ..models import (
    ROLE_FOR_PART,
    AppointmentKind,
    Role,
    Room,
    RoomKind,
    StaffMember,
    StaffPart,
    TimeOff,
)
from .availability import Availability
from .constraints import Constraint, Placement
from .index import BusyIndex, Calendar, Day, Key
from .preferences import Preferences
from .propagation import Ranges
from .shape import Element, Shape, min_separations
from .timeline import from_epoch, to_epoch

CLINICIAN_PARTS = frozenset({StaffPart.ADMINISTERING_CLINICIAN, StaffPart.EVALUATING_CLINICIAN})


@dataclass(frozen=True)
class Pin:
    """An element that must start at ``start`` (a move the front desk asked for)."""

    start: int
    room_id: int | None = None
    staff: tuple[tuple[int, StaffPart], ...] | None = None
    prefer_room: int | None = None
    prefer_staff: tuple[tuple[int, StaffPart], ...] = ()


@dataclass
class Problem:
    shape: Shape
    earliest: int
    horizon: int
    preferences: Preferences
    grid_minutes: int = 15
    #: Elements already booked that stay as they are (history, sessions not being moved).
    fixed: dict[int, Placement] = field(default_factory=dict)
    pinned: dict[int, Pin] = field(default_factory=dict)
    #: Where movable elements are now: tried first, so nothing moves without need.
    current: dict[int, Placement] = field(default_factory=dict)
    #: Candidate order: "earliest", "steady" (same time of day per step) or "target".
    order: str = "earliest"
    targets: dict[int, int] = field(default_factory=dict)
    #: (step key, part) -> the only staff member allowed (one therapist for all sessions).
    only_staff: dict[tuple[str, StaffPart], int] = field(default_factory=dict)
    #: No element may end after this (a completion date found by an earlier pass).
    end_bound: int | None = None
    #: Local minute of the day each step's sessions keep to, in "steady" order.
    anchors: dict[str, int] = field(default_factory=dict)
    #: Narrow every element's range before each choice (off only to get a partial plan
    #: that shows how far a greedy choice gets).
    propagate: bool = True
    #: Stop (instead of backtracking) when an element runs into the horizon, so that the caller
    #: can load a longer window; off when the horizon is a real limit.
    stop_at_horizon: bool = False
    budget: int = 20_000
    #: ``time.monotonic()`` after which the search gives up (the request's wall-clock budget).
    deadline: float | None = None


@dataclass
class SearchResult:
    placements: list[Placement | None]
    complete: bool
    #: The first element the best partial plan could not place.
    failed: int | None
    #: True when the search proved there is no plan; False when it ran out of budget.
    exhausted: bool
    #: True when some element's window was cut by the end of the loaded data.
    truncated: bool
    checks: int
    #: The failed element's range when the failure was found, and whether its rules
    #: contradicted each other there (rather than nothing being free).
    window: tuple[int, int] | None = None
    contradiction: bool = False
    #: For a contradiction: where an element could not stand at all (element, from, to).
    gap: tuple[int, int, int] | None = None
    #: The search stopped at its wall-clock deadline (not at its candidate budget).
    timed_out: bool = False


class BudgetExceeded(Exception):
    pass


class DeadlineReached(BudgetExceeded):
    pass


class HorizonReached(Exception):
    pass


class Context:
    """The snapshot's indexes, shared by every search pass over one availability snapshot."""

    def __init__(self, availability: Availability, grid_minutes: int) -> None:
        self.availability = availability
        self.tz = availability.tz
        self.location = availability.location
        self.busy = BusyIndex(availability.busy)
        self.off = BusyIndex(
            {
                ("staff", staff_id): [(to_epoch(o.starts_at), to_epoch(o.ends_at)) for o in offs]
                for staff_id, offs in availability.time_off.items()
            }
        )
        self.calendar = Calendar(availability, grid_minutes)
        self.rooms: dict[int, Room] = {r.id: r for r in availability.rooms}
        self.staff: dict[int, StaffMember] = {m.id: m for m in availability.staff}
        self.by_role: dict[Role, list[int]] = {}
        for member in sorted(availability.staff, key=lambda m: m.id):
            if not member.active:
                continue
            for role in member.roles:
                self.by_role.setdefault(role, []).append(member.id)
        self.room_kind: dict[int, RoomKind] = {r.id: r.kind for r in availability.rooms}
        self.time_off: dict[int, list[TimeOff]] = availability.time_off
        self.patient: Key = ("patient", availability.patient_id)
        self.doses: Key = ("dose", availability.patient_id)
        self.dose_margin = availability.dose_margin
        self.mismatches = 0
        self._verdicts: dict[tuple[object, ...], str | None] = {}
        self.static: dict[tuple[object, int], bool] = {}
        self._variants: dict[Preferences, int] = {}

    def variant(self, preferences: Preferences) -> int:
        """A small number standing for one set of preferences (for cache keys)."""
        return self._variants.setdefault(preferences, len(self._variants))

    def rule_problem(
        self,
        kind,  # type: ignore[no-untyped-def]
        room_kinds: tuple[RoomKind, ...],
        room: Room,
        members: list[tuple[StaffMember, StaffPart]],
        start: int,
        end: int,
    ) -> str | None:
        """The booking rules of ``scheduler.booking.rules`` for one placement (remembered: a
        search that backtracks asks again)."""
        key = (kind, room_kinds, room.id, tuple((m.id, p) for m, p in members), start, end)
        if key not in self._verdicts:
            self._verdicts[key] = self._rule_problem(kind, room_kinds, room, members, start, end)
        return self._verdicts[key]

    def _rule_problem(
        self,
        kind,  # type: ignore[no-untyped-def]
        room_kinds: tuple[RoomKind, ...],
        room: Room,
        members: list[tuple[StaffMember, StaffPart]],
        start: int,
        end: int,
    ) -> str | None:
        s, e = from_epoch(start), from_epoch(end)
        location = self.location
        problem = (
            rules.check_room(room, kind, location, room_kinds)
            or rules.check_parts(kind, members)
            or rules.check_opening_hours(location, s, e)
            or rules.check_closures(location, self.availability.closures, s, e)
        )
        if problem:
            return problem
        for member, _part in members:
            problem = rules.check_working_hours(member, location, s, e) or rules.check_time_off(
                member, self.time_off.get(member.id, []), s, e, self.tz
            )
            if problem:
                return problem
        return None


class Search:
    def __init__(self, problem: Problem, context: Context) -> None:
        self.problem = problem
        self.ctx = context
        self.shape = problem.shape
        self.elements = problem.shape.elements
        self.tz = context.tz
        n = len(self.elements)
        self.placed: list[Placement | None] = [None] * n
        self.conflicts: list[set[int]] = [set() for _ in range(n)]
        self.overlay: dict[Key, list[tuple[int, int, int]]] = {}
        self.checks = 0
        self.truncated = False
        self.at_horizon = [False] * n
        #: Per element whose candidates ran out at once: (element found empty, range, rules
        #: contradict).
        self.dead_end: dict[int, tuple[int, tuple[int, int], bool]] = {}
        self.gaps: dict[int, tuple[int, int, int] | None] = {}
        self.movable = [i not in problem.fixed for i in range(n)]
        separations = min_separations(problem.shape)
        #: Elements linked by a rule, either way: a failure's causes are found along these.
        self.links: list[set[int]] = [set() for _ in range(n)]
        for element in self.elements:
            for c in element.constraints:
                for r in c.refs:
                    self.links[element.index].add(r)
                    self.links[r].add(element.index)
        #: For each element, the rules it takes part in (not those between fixed elements only).
        self.watch: list[list[tuple[Element, object]]] = [[] for _ in range(n)]
        for element in self.elements:
            for c in element.constraints:
                involved = (element.index, *c.refs)
                if all(k in problem.fixed for k in involved):
                    continue
                for k in set(involved):
                    self.watch[k].append((element, c))
        #: Ranges as narrowed when each element's candidates were set up (for narrowing the
        #: next element's from them instead of from scratch).
        self.saved: dict[int, tuple[list[int], list[int]]] = {}
        #: Whether an element could stand at a slot on its own. Shared by the searches of one
        #: plan through the context, keyed by what decides it: the step (its duration, rooms
        #: and parts), staff restrictions and preferences, and the slot.
        self._static = context.static
        prefs = context.variant(problem.preferences)
        self.static_tags = [
            (
                e.step_key,
                prefs,
                tuple(
                    sorted(
                        (p.value, s) for (k, p), s in problem.only_staff.items() if k == e.step_key
                    )
                ),
            )
            for e in self.elements
        ]
        self.interplay = self._room_interplay(separations)
        self.room_lists = [self._rooms_for(i) for i in range(n)]
        self.staff_orders: list[dict[StaffPart, list[int]]] = [{} for _ in range(n)]
        self.room_orders: list[list[int]] = [[] for _ in range(n)]

    # -- set-up -------------------------------------------------------------------------------

    def _rooms_for(self, i: int) -> list[int]:
        element = self.elements[i]
        order = {kind: position for position, kind in enumerate(element.room_kinds)}
        telehealth = self.problem.preferences.telehealth_ok or i in self.problem.pinned
        kinds = self.ctx.room_kind
        return sorted(
            (
                room_id
                for room_id, kind in kinds.items()
                if kind in order and (telehealth or kind != RoomKind.TELEHEALTH)
            ),
            key=lambda room_id: (order[kinds[room_id]], room_id),
        )

    def _room_interplay(self, separations: list[dict[int, int]]) -> list[bool]:
        """Whether an element's choice of room can matter to another element of the plan: only
        through a turnover buffer, when another element sharing a room kind may start inside it.
        Otherwise one room per start time is enough to search."""
        result = []
        for a in self.elements:
            clash = False
            if a.buffer_minutes:
                for b in self.elements:
                    if b.index == a.index or not set(a.room_kinds) & set(b.room_kinds):
                        continue
                    first, second = (a, b) if a.index < b.index else (b, a)
                    sep = separations[first.index].get(second.index)
                    if sep is None or sep < first.seconds + first.buffer_minutes * 60:
                        clash = True
                        break
            result.append(clash)
        return result

    # -- overlay of the plan's own reservations -----------------------------------------------

    def _keys(self, i: int, p: Placement) -> list[tuple[Key, int, int]]:
        keys = [(self.ctx.patient, p.start, p.end), (("room", p.room_id), p.start, p.room_until)]
        keys.extend((("staff", staff_id), p.start, p.end) for staff_id, _ in p.staff)
        return keys

    def _place(self, i: int, p: Placement) -> None:
        self.placed[i] = p
        for key, s, e in self._keys(i, p):
            self.overlay.setdefault(key, []).append((s, e, i))

    def _unplace(self, i: int) -> None:
        p = self.placed[i]
        if p is None:
            return
        for key, _s, _e in self._keys(i, p):
            self.overlay[key] = [item for item in self.overlay[key] if item[2] != i]
        self.placed[i] = None

    def _free(self, key: Key, start: int, end: int, culprits: set[int]) -> bool:
        if not self.ctx.busy.free(key, start, end):
            return False
        for s, e, owner in self.overlay.get(key, ()):
            if s < end and start < e:
                if self.movable[owner]:
                    culprits.add(owner)
                return False
        return True

    # -- bounds --------------------------------------------------------------------------------

    def bounds(self, i: int, culprits: set[int], relax: bool = False) -> tuple[int, int, list]:  # type: ignore[type-arg]
        element = self.elements[i]
        lo = self.problem.earliest
        hi = self.problem.horizon
        horizon_bound = True
        filters: list[Constraint] = []
        for c in element.constraints:
            if any(self.placed[r] is None for r in c.refs):
                continue
            culprits.update(r for r in c.refs if self.movable[r])
            a, b = c.window(self.placed, element.seconds, self.tz)
            if a is not None and a > lo:
                lo = a
            if relax:
                continue
            if b is not None and b < hi:
                hi, horizon_bound = b, False
            filters.append(c)
        if not relax and self.problem.end_bound is not None:
            limit = self.problem.end_bound - element.seconds
            if limit < hi:
                hi, horizon_bound = limit, False
        if horizon_bound:
            self.truncated = True
            self.at_horizon[i] = True
        return lo, hi, filters

    # -- what an element could do on its own -----------------------------------------------

    def static_ok(self, i: int, day: Day, start: int) -> bool:
        """Whether element ``i`` could start at ``start`` ignoring the rest of the plan: the
        clinic open, the patient's preferences, and the patient, some room and some staff for
        each part free in the database. Remembered per step."""
        key = (self.static_tags[i], start)
        found = self._static.get(key)
        if found is None:
            found = self._static[key] = self._compute_static(i, day, start)
        return found

    def _compute_static(self, i: int, day: Day, start: int) -> bool:
        element = self.elements[i]
        ctx = self.ctx
        cal = ctx.calendar
        prefs = self.problem.preferences
        end = start + element.seconds
        if day.closed or not prefs.allows_day(day.weekday) or not cal.open_for(day, start, end):
            return False
        if prefs.earliest_time is not None and start < cal.wall(day.date, prefs.earliest_time):
            return False
        if prefs.latest_time is not None and end > cal.wall(day.date, prefs.latest_time):
            return False
        busy = ctx.busy
        if not busy.free(ctx.patient, start, end):
            return False
        room_until = end + element.buffer_minutes * 60
        if not any(busy.free(("room", r), start, room_until) for r in self.room_lists[i]):
            return False
        for part in element.parts:
            pool = self._pool(i, part)
            if not any(
                cal.works(m, day, start, end)
                and ctx.off.free(("staff", m), start, end)
                and busy.free(("staff", m), start, end)
                for m in pool
            ):
                return False
        return True

    def _pool(self, i: int, part: StaffPart) -> list[int]:
        only = self.problem.only_staff.get((self.elements[i].step_key, part))
        pool = self.ctx.by_role.get(ROLE_FOR_PART[part], [])
        return [m for m in pool if m == only] if only is not None else pool

    def snap_up(self, i: int, lo: int, hi: int) -> int | None:
        """The first slot in [lo, hi] where element ``i`` could stand on its own."""
        if i in self.problem.pinned:
            pin = self.problem.pinned[i].start
            return pin if lo <= pin <= hi else None
        cal = self.ctx.calendar
        date, last = cal.date_of(lo), cal.date_of(hi)
        while date <= last:
            day = cal.day(date)
            date += dt.timedelta(days=1)
            if day.closed or not day.slots:
                continue
            for k in range(bisect_left(day.slots, lo), len(day.slots)):
                start = day.slots[k]
                if start > hi:
                    return None
                if self.static_ok(i, day, start):
                    return start
        return None

    def snap_down(self, i: int, hi: int, lo: int) -> int | None:
        """The last slot in [lo, hi] where element ``i`` could stand on its own."""
        if i in self.problem.pinned:
            pin = self.problem.pinned[i].start
            return pin if lo <= pin <= hi else None
        cal = self.ctx.calendar
        date, first = cal.date_of(hi), cal.date_of(lo)
        while date >= first:
            day = cal.day(date)
            date -= dt.timedelta(days=1)
            if day.closed or not day.slots:
                continue
            for k in range(bisect_right(day.slots, hi) - 1, -1, -1):
                start = day.slots[k]
                if start < lo:
                    return None
                if self.static_ok(i, day, start):
                    return start
        return None

    def ranges(self, i: int | None = None) -> Ranges:
        """Every element's start range given what is placed now (see ``propagation``).

        For the candidates of element ``i``, the ranges saved for ``i - 1`` are narrowed by
        its placement only."""
        n = len(self.elements)
        problem = self.problem
        settled: dict[int, int] = {}
        for k in range(n):
            p = self.placed[k]
            if p is not None:
                settled[k] = p.start
            elif k in problem.fixed:
                settled[k] = problem.fixed[k].start
            elif k in problem.pinned:
                settled[k] = problem.pinned[k].start
        base = self.saved.get(i - 1) if i else None
        changed: set[int] | None = None
        if base is not None and i is not None and self.placed[i - 1] is not None:
            lo, hi = list(base[0]), list(base[1])
            lo[i - 1] = hi[i - 1] = settled[i - 1]
            changed = {i - 1}
        else:
            lo = [problem.earliest] * n
            hi = [problem.horizon] * n
            for k, start in settled.items():
                lo[k] = hi[k] = start
            if problem.end_bound is not None:
                for k in range(n):
                    if k not in settled:
                        hi[k] = min(hi[k], problem.end_bound - self.elements[k].seconds)
        ranges = Ranges(
            self.elements,
            self.tz,
            settled,
            self.watch,
            lo,
            hi,
            self.snap_up,
            self.snap_down,
            problem.horizon,
        )
        if ranges.run(changed) and i is not None:
            self.saved[i] = (ranges.lo, ranges.hi)
        return ranges

    def reach(self, start: int) -> set[int]:
        """Placed, movable elements whose placement can narrow ``start``'s range: linked to it
        directly or through elements not placed yet."""
        found: set[int] = set()
        seen = {start}
        todo = [start]
        if self.placed[start] is not None and self.movable[start]:
            found.add(start)
        while todo:
            k = todo.pop()
            for other in self.links[k]:
                if other in seen:
                    continue
                seen.add(other)
                if self.placed[other] is not None:
                    if self.movable[other]:
                        found.add(other)
                    continue
                todo.append(other)
        return found

    # -- candidates ----------------------------------------------------------------------------

    def _staff_order(self, i: int, part: StaffPart) -> list[int]:
        element = self.elements[i]
        pool = self._pool(i, part)
        if (element.step_key, part) in self.problem.only_staff:
            return pool
        prefs = self.problem.preferences
        preferred = prefs.therapist_id if part == StaffPart.THERAPIST else prefs.clinician_id
        ranked: list[int] = []
        if preferred is not None:
            ranked.append(preferred)
        for k in range(i - 1, -1, -1):
            other = self.elements[k]
            p = self.placed[k]
            if p is None or other.step_key != element.step_key:
                continue
            ranked.extend(staff_id for staff_id, used in p.staff if used == part)
        if not ranked:
            return pool
        position = {staff_id: n for n, staff_id in reversed(list(enumerate(ranked)))}
        return sorted(pool, key=lambda m: (position.get(m, len(ranked)), m))

    def _room_order(self, i: int) -> list[int]:
        rooms = self.room_lists[i]
        element = self.elements[i]
        for k in range(i - 1, -1, -1):
            p = self.placed[k]
            if p is not None and self.elements[k].step_key == element.step_key:
                used = p.room_id
                if used in rooms:
                    return [used] + [r for r in rooms if r != used]
                break
        return rooms

    def _anchor_minute(self, i: int) -> int | None:
        element = self.elements[i]
        if element.step_key in self.problem.anchors:
            return self.problem.anchors[element.step_key]
        for k, other in enumerate(self.elements[:i]):
            p = self.placed[k]
            if p is not None and other.step_key == element.step_key:
                return self.ctx.calendar.local_minute(p.start)
        prefs = self.problem.preferences
        if prefs.earliest_time is not None:
            return prefs.earliest_time.hour * 60 + prefs.earliest_time.minute
        return None

    def _days(self, lo: int, hi: int, target: int | None) -> Iterator[dt.date]:
        cal = self.ctx.calendar
        first, last = cal.date_of(lo), cal.date_of(hi)
        if target is None:
            day = first
            while day <= last:
                yield day
                day += dt.timedelta(days=1)
            return
        centre = min(max(cal.date_of(target), first), last)
        yield centre
        step = 1
        while True:
            before = centre - dt.timedelta(days=step)
            after = centre + dt.timedelta(days=step)
            if before < first and after > last:
                return
            if after <= last:
                yield after
            if before >= first:
                yield before
            step += 1

    def _slot_order(
        self, day: Day, a: int, b: int, anchor: int | None, target: int | None
    ) -> list[int]:
        positions = range(a, b)
        if target is not None:
            # Around the target day, at the target's time of day: a moved session keeps its
            # hour on the wall clock where it can.
            minute = self.ctx.calendar.local_minute(target)
            return sorted(positions, key=lambda k: (abs(day.minutes[k] - minute), k))
        if anchor is not None:
            return sorted(positions, key=lambda k: (abs(day.minutes[k] - anchor), k))
        return list(positions)

    def candidates(self, i: int) -> Iterator[Placement]:
        element = self.elements[i]
        culprits = self.conflicts[i]
        self.at_horizon[i] = False
        if i in self.problem.fixed:
            yield from self._fixed(i)
            return
        lo, hi, filters = self.bounds(i, culprits)
        culprits.update(self.reach(i))
        self.dead_end.pop(i, None)
        self.saved.pop(i, None)
        ranges = self.ranges(i) if self.problem.propagate else None
        if ranges is None:
            pass
        elif ranges.empty is not None:
            culprits.update(self.reach(ranges.empty))
            culprits.discard(i)
            self.dead_end[i] = (ranges.empty, ranges.empty_range, ranges.contradiction)
            self.gaps[i] = ranges.widest_gap
            if ranges.by_horizon:
                self.truncated = True
                if self.problem.stop_at_horizon:
                    raise HorizonReached
            return
        else:
            lo, hi = max(lo, ranges.lo[i]), min(hi, ranges.hi[i])
        self.at_horizon[i] = hi >= self.problem.horizon
        if lo > hi:
            self.dead_end[i] = (i, (lo, hi), True)
        self.staff_orders[i] = {part: self._staff_order(i, part) for part in element.parts}
        self.room_orders[i] = self._room_order(i)
        pin = self.problem.pinned.get(i)
        if pin is not None:
            if lo <= pin.start <= hi and pin.start >= self.problem.earliest:
                yield from self._at(i, pin.start, filters, pin=pin)
            return
        if lo > hi:
            return
        current = self.problem.current.get(i)
        if current is not None and lo <= current.start <= hi:
            kept = self._keep(i, current, filters)
            if kept is not None:
                yield kept
        order = self.problem.order
        target = self.problem.targets.get(i) if order == "target" else None
        anchor = self._anchor_minute(i) if order == "steady" else None
        for date in self._days(lo, hi, target):
            for p in self._on_day(i, date, lo, hi, filters, anchor, target):
                if current is not None and p == current:
                    continue
                yield p

    def _fixed(self, i: int) -> Iterator[Placement]:
        """A fixed element stays; it only fails when a movable one's rules or reservations
        now collide with it."""
        p = self.problem.fixed[i]
        element = self.elements[i]
        culprits = self.conflicts[i]
        for c in element.constraints:
            movable = [r for r in c.refs if self.movable[r]]
            if movable and c.broken(p.start, p.end, self.placed, self.tz):
                culprits.update(movable)
                return
        for key, s, e in self._keys(i, p):
            for a, b, owner in self.overlay.get(key, ()):
                if a < e and s < b:
                    if self.movable[owner]:
                        culprits.add(owner)
                    return
        yield p

    def _keep(self, i: int, p: Placement, filters: list[Constraint]) -> Placement | None:
        """The current placement, if every rule and reservation still allows it."""
        day = self.ctx.calendar.day(self.ctx.calendar.date_of(p.start))
        for c in filters:
            if not c.day_ok(self.placed, day.start, self.tz):
                return None
        culprits = self.conflicts[i]
        keys = [(self.ctx.patient, p.start, p.end), (("room", p.room_id), p.start, p.room_until)]
        keys.extend((("staff", s), p.start, p.end) for s, _ in p.staff)
        for key, s, e in keys:
            if not self._free(key, s, e, culprits):
                return None
        return p

    def _on_day(
        self,
        i: int,
        date: dt.date,
        lo: int,
        hi: int,
        filters: list[Constraint],
        anchor: int | None,
        target: int | None,
    ) -> Iterator[Placement]:
        day = self.ctx.calendar.day(date)
        if day.closed or not day.slots:
            return
        prefs = self.problem.preferences
        if not prefs.allows_day(day.weekday):
            return
        for c in filters:
            if not c.day_ok(self.placed, day.start, self.tz):
                self.conflicts[i].update(r for r in c.refs if self.movable[r])
                return
        seconds = self.elements[i].seconds
        latest_end = day.end
        if prefs.earliest_time is not None:
            lo = max(lo, self.ctx.calendar.wall(date, prefs.earliest_time))
        if prefs.latest_time is not None:
            latest_end = self.ctx.calendar.wall(date, prefs.latest_time)
        a = bisect_left(day.slots, lo)
        b = bisect_right(day.slots, min(hi, latest_end - seconds))
        if a >= b:
            return
        for k in self._slot_order(day, a, b, anchor, target):
            yield from self._at(i, day.slots[k], filters, day=day)

    def _at(
        self,
        i: int,
        start: int,
        filters: list[Constraint],
        day: Day | None = None,
        pin: Pin | None = None,
    ) -> Iterator[Placement]:
        """Placements of element ``i`` starting at ``start``: the preferred room and staff, and
        other rooms too when a room choice can matter to the rest of the plan."""
        self.checks += 1
        if self.checks > self.problem.budget:
            raise BudgetExceeded
        deadline = self.problem.deadline
        if deadline is not None and not self.checks & 31 and time.monotonic() > deadline:
            raise DeadlineReached
        element = self.elements[i]
        culprits = self.conflicts[i]
        ctx = self.ctx
        cal = ctx.calendar
        end = start + element.seconds
        if day is None:
            day = cal.day(cal.date_of(start))
            for c in filters:
                if not c.day_ok(self.placed, day.start, self.tz):
                    culprits.update(r for r in c.refs if self.movable[r])
                    return
        if pin is None and not self.static_ok(i, day, start):
            return
        if day.closed or not cal.open_for(day, start, end):
            return
        if not self._free(ctx.patient, start, end, culprits):
            return
        if (
            element.kind == AppointmentKind.DOSING
            and ctx.dose_margin
            and not ctx.busy.free(ctx.doses, start - ctx.dose_margin, end + ctx.dose_margin)
        ):
            return
        room_until = end + element.buffer_minutes * 60
        staff = self._pick_staff(i, day, start, end, pin)
        if staff is None:
            return
        rooms = self.room_orders[i]
        if pin is not None:
            if pin.room_id is not None:
                rooms = [r for r in rooms if r == pin.room_id]
            elif pin.prefer_room is not None:
                rooms = sorted(rooms, key=lambda r: r != pin.prefer_room)
        members = [(ctx.staff[s], part) for s, part in staff]
        for room_id in rooms:
            if not self._free(("room", room_id), start, room_until, culprits):
                continue
            room = ctx.rooms[room_id]
            if ctx.rule_problem(element.kind, element.room_kinds, room, members, start, end):
                ctx.mismatches += 1
                continue
            yield Placement(start, end, room_id, staff, element.buffer_minutes * 60)
            if not self.interplay[i]:
                return

    def _pick_staff(
        self, i: int, day: Day, start: int, end: int, pin: Pin | None
    ) -> tuple[tuple[int, StaffPart], ...] | None:
        """The first assignment of distinct, free staff to the element's parts, in order of
        preference. One part (the usual case) takes the first free member; several parts
        search assignments, since one person with two roles can take only one part."""
        element = self.elements[i]
        culprits = self.conflicts[i]
        orders = self.staff_orders[i]
        given = {part: s for s, part in pin.staff} if pin and pin.staff else None
        preferred = {part: s for s, part in pin.prefer_staff} if pin else {}
        cal = self.ctx.calendar
        off = self.ctx.off

        def usable(member: int) -> bool:
            key = ("staff", member)
            return (
                cal.works(member, day, start, end)
                and off.free(key, start, end)
                and self._free(key, start, end, culprits)
            )

        def order_for(part: StaffPart) -> list[int]:
            order = orders[part]
            if given is not None:
                return [m for m in order if m == given.get(part)]
            if part in preferred:
                return sorted(order, key=lambda m: m != preferred[part])
            return order

        parts = element.parts
        if len(parts) == 1:
            for member in order_for(parts[0]):
                if usable(member):
                    return ((member, parts[0]),)
            return None
        options = [[m for m in order_for(part) if usable(m)] for part in parts]

        def assign(k: int, taken: tuple[int, ...]) -> tuple[int, ...] | None:
            if k == len(parts):
                return taken
            for member in options[k]:
                if member not in taken:
                    found = assign(k + 1, (*taken, member))
                    if found is not None:
                        return found
            return None

        chosen = assign(0, ())
        if chosen is None:
            return None
        return tuple(zip(chosen, parts, strict=True))

    # -- the search ----------------------------------------------------------------------------

    def run(self) -> SearchResult:
        n = len(self.elements)
        best: list[Placement | None] = list(self.placed)
        best_depth = 0
        if n == 0:
            return SearchResult([], True, None, True, False, 0)
        generators: list[Iterator[Placement] | None] = [None] * n
        generators[0] = self.candidates(0)
        i = 0
        try:
            while i < n:
                generator = generators[i]
                assert generator is not None
                p = next(generator, None)
                if p is not None:
                    self._place(i, p)
                    i += 1
                    if i > best_depth:
                        best_depth, best = i, list(self.placed)
                    if i < n:
                        self.conflicts[i] = set()
                        generators[i] = self.candidates(i)
                    continue
                if self.at_horizon[i] and self.problem.stop_at_horizon:
                    raise HorizonReached
                culprits = set(self.conflicts[i])
                culprits.discard(i)
                culprits = {c for c in culprits if c < i}
                if not culprits:
                    return self._failure(best, best_depth, True)
                h = max(culprits)
                for k in range(i - 1, h - 1, -1):
                    self._unplace(k)
                for k in range(h + 1, i + 1):
                    generators[k] = None
                    self.conflicts[k] = set()
                self.conflicts[h].update(culprits - {h})
                i = h
        except DeadlineReached:
            failure = self._failure(best, best_depth, False)
            failure.timed_out = True
            return failure
        except BudgetExceeded:
            return self._failure(best, best_depth, False)
        except HorizonReached:
            self.truncated = True
            return self._failure(best, best_depth, False)
        return SearchResult(list(self.placed), True, None, True, self.truncated, self.checks)

    def _failure(self, best: list[Placement | None], depth: int, exhausted: bool) -> SearchResult:
        element, window, contradiction = self.dead_end.get(depth, (depth, None, False))
        return SearchResult(
            best,
            False,
            element,
            exhausted,
            self.truncated,
            self.checks,
            window=window,
            contradiction=contradiction,
            gap=self.gaps.get(depth) if contradiction else None,
        )

    def fill(self, placements: list[Placement | None]) -> list[Placement | None]:
        """A partial plan with each missing element whose references are all placed added at
        its first possible time (the pairs of the sessions a failed plan did place)."""
        self.load(placements, len(placements))
        try:
            for i, element in enumerate(self.elements):
                if self.placed[i] is not None:
                    continue
                if any(self.placed[r] is None for c in element.constraints for r in c.refs):
                    continue
                self.conflicts[i] = set()
                p = next(self.candidates(i), None)
                if p is not None:
                    self._place(i, p)
        except (BudgetExceeded, HorizonReached):
            pass
        return list(self.placed)

    def load(self, placements: list[Placement | None], upto: int) -> None:
        """Put a (partial) plan in place, e.g. to explain why element ``upto`` fails."""
        for k in range(len(self.elements)):
            self._unplace(k)
        for k in range(upto):
            p = placements[k]
            if p is not None:
                self._place(k, p)
