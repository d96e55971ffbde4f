"""Bounds on every element's start, narrowed until the protocol's rules and each element's
possible slots agree (bound consistency on the course's time network).

Each unplaced element gets a range [lo, hi]. Rules narrow ranges both ways ("at most 7 days
after dosing 2" caps dosing 3 and also raises dosing 2's floor to a week before dosing 3's),
and each bound then snaps to the nearest slot where the element could stand on its own (clinic
open, the patient and some room and staff free in the database). A week with no free chair
thus pushes a whole series past it in a few rounds instead of a search through every slot.

Everything here only ever removes times no plan can use, so a search that trusts the ranges
stays complete. Wall-clock spans are widened by an hour when inverted, for clock changes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from ..protocols.spans import Span
from .constraints import After, InWeeks, SameDay, Within
from .shape import Element
from .timeline import HOUR, local_date, midnight

#: Rounds of narrowing before settling for the ranges found so far (still valid, less narrow).
MAX_ROUNDS = 60

Snap = Callable[[int, int, int], int | None]


def _back(span: Span, moment: int, tz, widen: int) -> int:  # type: ignore[no-untyped-def]
    value = span.add_epoch(moment, tz, -1)
    return value if span.elapsed else value + widen


class Ranges:
    """The narrowing itself; ``Search`` supplies which elements are settled and the snapping."""

    def __init__(
        self,
        elements: tuple[Element, ...],
        tz,  # type: ignore[no-untyped-def]
        settled: dict[int, int],
        watch: list[list[tuple[Element, object]]],
        lo: list[int],
        hi: list[int],
        snap_up: Snap,
        snap_down: Snap,
        horizon: int,
    ) -> None:
        self.elements = elements
        self.tz = tz
        self.settled = settled
        self.watch = watch
        self.lo = lo
        self.hi = hi
        self.snap_up = snap_up
        self.snap_down = snap_down
        self.horizon = horizon
        #: The element found empty, its range then, whether its rules contradict each other
        #: (rather than no slot being free), and whether only the horizon made it so.
        self.empty: int | None = None
        self.empty_range: tuple[int, int] = (0, 0)
        self.contradiction = False
        self.by_horizon = False
        #: The longest stretch a bound jumped over because the element could not stand
        #: anywhere in it: (element, from, to). It usually explains a contradiction.
        self.widest_gap: tuple[int, int, int] | None = None

    def _up(self, k: int, value: int, touched: set[int]) -> None:
        if value > self.lo[k]:
            if k in self.settled:
                if value > self.settled[k]:
                    self._fail(k)
                return
            self.lo[k] = value
            touched.add(k)

    def _down(self, k: int, value: int, touched: set[int]) -> None:
        if value < self.hi[k]:
            if k in self.settled:
                if value < self.settled[k]:
                    self._fail(k)
                return
            self.hi[k] = value
            touched.add(k)

    def _fail(self, k: int, contradiction: bool = True) -> None:
        if self.empty is None:
            self.empty = k
            self.empty_range = (self.lo[k], self.hi[k])
            self.contradiction = contradiction
            self.by_horizon = self.hi[k] >= self.horizon

    def _snap(self, k: int, low: bool = True, high: bool = True) -> bool:
        """Move the bounds that changed onto slots where the element could stand."""
        if self.lo[k] > self.hi[k]:
            self._fail(k)
            return False
        if low:
            up = self.snap_up(k, self.lo[k], self.hi[k])
            if up is None:
                self._fail(k, contradiction=False)
                return False
            self._gap(k, self.lo[k], up)
            self.lo[k] = up
        if high and self.hi[k] < self.horizon:
            down = self.snap_down(k, self.hi[k], self.lo[k])
            if down is None:
                self._fail(k, contradiction=False)
                return False
            self._gap(k, down + 1, self.hi[k] + 1)
            self.hi[k] = down
        return True

    def _gap(self, k: int, start: int, end: int) -> None:
        widest = self.widest_gap
        if end - start > 0 and (widest is None or end - start > widest[2] - widest[1]):
            self.widest_gap = (k, start, end)

    def run(self, changed: set[int] | None = None) -> bool:
        """Narrow until nothing changes. ``changed``: the elements whose ranges changed since
        the ranges given were last narrowed (None: all, from scratch)."""
        if changed is None:
            changed = set(range(len(self.elements)))
            for k in range(len(self.elements)):
                if k not in self.settled and not self._snap(k):
                    return False
        for _round in range(MAX_ROUNDS):
            if not changed:
                break
            raised: set[int] = set()
            lowered: set[int] = set()
            done: set[int] = set()
            for k in sorted(changed):
                for element, c in self.watch[k]:
                    key = id(c)
                    if key in done:
                        continue
                    done.add(key)
                    self._narrow(element, c, raised, lowered)
                    if self.empty is not None:
                        return False
            touched = raised | lowered
            for k in sorted(touched):
                if k not in self.settled and not self._snap(k, k in raised, k in lowered):
                    return False
            changed = touched
        return True

    def _narrow(self, element: Element, c, raised: set[int], lowered: set[int]) -> None:  # type: ignore[no-untyped-def]
        j = element.index
        lo, hi, tz = self.lo, self.hi, self.tz
        if isinstance(c, After):
            k = c.other
            extra = self.elements[k].seconds if c.anchor == "end" else 0
            low, high = c.low, c.upper
            if low.elapsed:
                self._up(j, lo[k] + extra + low.nominal_seconds, raised)
                self._down(k, hi[j] - low.nominal_seconds - extra, lowered)
            else:
                self._up(j, low.add_epoch(lo[k] + extra, tz), raised)
                self._down(k, _back(low, hi[j], tz, HOUR) - extra, lowered)
            if high is not None:
                if high.elapsed:
                    self._down(j, hi[k] + extra + high.nominal_seconds, lowered)
                    self._up(k, lo[j] - high.nominal_seconds - extra, raised)
                else:
                    self._down(j, high.add_epoch(hi[k] + extra, tz), lowered)
                    self._up(k, _back(high, lo[j], tz, -HOUR) - extra, raised)
        elif isinstance(c, Within):
            if c.relaxed:
                return
            f = c.first
            self._down(j, c.length.add_epoch(hi[f], tz) - element.seconds, lowered)
            self._up(f, _back(c.length, lo[j] + element.seconds, tz, -HOUR), raised)
        elif isinstance(c, InWeeks):
            f = c.first
            # Days paused in between move the whole week grid later for this element.
            shift = dt.timedelta(days=c.paused)
            day_f_lo = local_date(lo[f], tz) + shift
            day_f_hi = local_date(min(hi[f], self.horizon), tz) + shift
            self._up(j, midnight(day_f_lo + dt.timedelta(days=7 * (c.low - 1)), tz), raised)
            day_j_hi = local_date(min(hi[j], self.horizon), tz) - shift
            back = day_j_hi - dt.timedelta(days=7 * (c.low - 1) - 1)
            self._down(f, midnight(back, tz) - 1, lowered)
            if c.high is not None:
                ahead = day_f_hi + dt.timedelta(days=7 * c.high)
                self._down(j, midnight(ahead, tz) - 1, lowered)
                day_j_lo = local_date(lo[j], tz) - shift
                self._up(f, midnight(day_j_lo - dt.timedelta(days=7 * c.high - 1), tz), raised)
        elif isinstance(c, SameDay):
            k = c.other
            self._up(j, midnight(local_date(lo[k], tz), tz), raised)
            day_k_hi = local_date(min(hi[k], self.horizon), tz)
            after = midnight(day_k_hi + dt.timedelta(days=1), tz)
            self._down(j, after - element.seconds, lowered)
            self._up(k, midnight(local_date(lo[j], tz), tz), raised)
            day_j_hi = local_date(min(hi[j], self.horizon), tz)
            self._down(k, midnight(day_j_hi + dt.timedelta(days=1), tz) - 1, lowered)
