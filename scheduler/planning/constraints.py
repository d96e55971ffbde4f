"""The protocol's rules as constraints between the elements of a course.

Every protocol rule (``After``, ``SameDay``, ``Within``, ``InWeeks``, ``PerWeek``) is a
constraint on one element relative to earlier ones. Each constraint gives the search its bounds
(``window``) and the checker its verdict (``broken``), so the plan and the check of a plan read
the same rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol as TypingProtocol
from zoneinfo import ZoneInfo

from ..models import StaffPart
from ..protocols.spans import Span
from .timeline import DAY, HOUR, describe_length, local_date, midnight


@dataclass(frozen=True)
class Placement:
    """Where and when one element happens: epoch seconds, a room and its staff."""

    start: int
    end: int
    room_id: int
    staff: tuple[tuple[int, StaffPart], ...]
    buffer: int = 0

    @property
    def room_until(self) -> int:
        return self.end + self.buffer


class Constraint(TypingProtocol):
    refs: tuple[int, ...]

    def window(
        self, placed: Sequence[Placement | None], seconds: int, tz: ZoneInfo
    ) -> tuple[int | None, int | None]:
        """Earliest and latest start allowed by this rule (None: unbounded)."""
        ...

    def day_ok(self, placed: Sequence[Placement | None], day_start: int, tz: ZoneInfo) -> bool:
        """Whether a start on the local day beginning at ``day_start`` is allowed."""
        ...

    def broken(
        self, start: int, end: int, placed: Sequence[Placement | None], tz: ZoneInfo
    ) -> str | None: ...

    def describe(self, titles: Sequence[str]) -> str: ...


def upper_slack(span: Span) -> int:
    """Wall-clock spans can be an hour shorter in elapsed time across a clock change."""
    return 0 if span.elapsed else HOUR


def stretched(span: Span, days: int) -> Span:
    """``span`` plus ``days`` local days: a limit measured on a clock that stood still for them."""
    if days <= 0:
        return span
    if span.elapsed:
        return Span(span.nominal_seconds / HOUR + 24 * days, "h")
    return Span(span.nominal_seconds / DAY + days, "d")


def _paused(days: int) -> str:
    return f" (+{days} paused day{'s' if days != 1 else ''})" if days else ""


@dataclass(frozen=True)
class After:
    """Start at least ``low`` (and at most ``high``) after another element's start or end.

    ``paused``: days the course stood paused between the two. The minimum is real time and
    stays; the maximum counts on the course's clock, so it stretches by those days. A
    ``relaxed`` maximum is dropped (a recorded exception).
    """

    other: int
    anchor: str
    low: Span
    high: Span | None
    what: str = "after"
    paused: int = 0
    relaxed: bool = False
    #: The maximum in force (derived once: the search reads it for every candidate).
    upper: Span | None = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        upper = None if self.high is None or self.relaxed else stretched(self.high, self.paused)
        object.__setattr__(self, "upper", upper)

    @property
    def refs(self) -> tuple[int, ...]:
        return (self.other,)

    def _anchor(self, placed: Sequence[Placement | None]) -> int:
        p = placed[self.other]
        assert p is not None
        return p.start if self.anchor == "start" else p.end

    def window(self, placed, seconds, tz):  # type: ignore[no-untyped-def]
        a = self._anchor(placed)
        hi = self.upper.add_epoch(a, tz) if self.upper is not None else None
        return self.low.add_epoch(a, tz), hi

    def day_ok(self, placed, day_start, tz):  # type: ignore[no-untyped-def]
        return True

    def broken(self, start, end, placed, tz):  # type: ignore[no-untyped-def]
        lo, hi = self.window(placed, end - start, tz)
        a = self._anchor(placed)
        if start < lo or (hi is not None and start > hi):
            return f"starts {describe_length(start - a)} after"
        return None

    def describe(self, titles):  # type: ignore[no-untyped-def]
        point = "the end of" if self.anchor == "end" else ""
        other = f"{point} {titles[self.other]}".strip()
        if self.high is None or self.relaxed:
            return f"at least {self.low.describe()} after {other}"
        return (
            f"{self.low.describe()} to {self.high.describe()}{_paused(self.paused)} after {other}"
        )


@dataclass(frozen=True)
class SameDay:
    """Start and end on the local day the other element starts."""

    other: int

    @property
    def refs(self) -> tuple[int, ...]:
        return (self.other,)

    def _day(self, placed: Sequence[Placement | None], tz: ZoneInfo) -> int:
        p = placed[self.other]
        assert p is not None
        return midnight(local_date(p.start, tz), tz)

    def window(self, placed, seconds, tz):  # type: ignore[no-untyped-def]
        p = placed[self.other]
        assert p is not None
        day = local_date(p.start, tz)
        return self._day(placed, tz), midnight(day + timedelta(days=1), tz) - seconds

    def day_ok(self, placed, day_start, tz):  # type: ignore[no-untyped-def]
        return day_start == self._day(placed, tz)

    def broken(self, start, end, placed, tz):  # type: ignore[no-untyped-def]
        lo, hi = self.window(placed, end - start, tz)
        return None if lo <= start <= hi else "is on another day"

    def describe(self, titles):  # type: ignore[no-untyped-def]
        return f"on the same day as {titles[self.other]}"


@dataclass(frozen=True)
class Within:
    """End within ``span`` of the first session's start (a step's overall window).

    ``paused`` and ``relaxed`` as for ``After``: the window counts on the course's clock.
    """

    first: int
    span: Span
    paused: int = 0
    relaxed: bool = False
    #: The window in force (derived once).
    length: Span = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "length", stretched(self.span, self.paused))

    @property
    def refs(self) -> tuple[int, ...]:
        return (self.first,)

    def limit(self, placed: Sequence[Placement | None], tz: ZoneInfo) -> int | None:
        if self.relaxed:
            return None
        p = placed[self.first]
        assert p is not None
        return self.length.add_epoch(p.start, tz)

    def window(self, placed, seconds, tz):  # type: ignore[no-untyped-def]
        limit = self.limit(placed, tz)
        return None, None if limit is None else limit - seconds

    def day_ok(self, placed, day_start, tz):  # type: ignore[no-untyped-def]
        return True

    def broken(self, start, end, placed, tz):  # type: ignore[no-untyped-def]
        limit = self.limit(placed, tz)
        over = 0 if limit is None else end - limit
        return f"ends {describe_length(over)} too late" if over > 0 else None

    def describe(self, titles):  # type: ignore[no-untyped-def]
        if self.relaxed:
            return f"within {self.span.describe()} of {titles[self.first]} (relaxed)"
        span = f"{self.span.describe()}{_paused(self.paused)}"
        return f"all within {span} of {titles[self.first]}"


def course_week(first_day: int, day_start: int, tz: ZoneInfo, paused: int = 0) -> int:
    """Course week (1-based) of a local day, week 1 starting on the step's first day; the
    ``paused`` days between them do not count (the course's clock stood still)."""
    a = local_date(first_day, tz)
    b = local_date(day_start, tz)
    return ((b - a).days - paused) // 7 + 1


@dataclass(frozen=True)
class InWeeks:
    """Start in course weeks ``low``..``high`` counted from the step's first session, not
    counting the ``paused`` days between that session and this one."""

    first: int
    low: int
    high: int | None
    paused: int = 0

    @property
    def refs(self) -> tuple[int, ...]:
        return (self.first,)

    def window(self, placed, seconds, tz):  # type: ignore[no-untyped-def]
        p = placed[self.first]
        assert p is not None
        day0 = local_date(p.start, tz) + timedelta(days=self.paused)
        lo = midnight(day0 + timedelta(days=7 * (self.low - 1)), tz)
        hi = None
        if self.high is not None:
            hi = midnight(day0 + timedelta(days=7 * self.high), tz) - 1
        return lo, hi

    def day_ok(self, placed, day_start, tz):  # type: ignore[no-untyped-def]
        p = placed[self.first]
        assert p is not None
        week = course_week(p.start, day_start, tz, self.paused)
        return week >= self.low and (self.high is None or week <= self.high)

    def broken(self, start, end, placed, tz):  # type: ignore[no-untyped-def]
        p = placed[self.first]
        assert p is not None
        week = course_week(p.start, start, tz, self.paused)
        if week < self.low or (self.high is not None and week > self.high):
            return f"is in week {week}"
        return None

    def describe(self, titles):  # type: ignore[no-untyped-def]
        weeks = f"weeks {self.low}-{self.high}" if self.high else f"week {self.low} or later"
        return f"in {weeks} of the course (from {titles[self.first]}{_paused(self.paused)})"


@dataclass(frozen=True)
class PerWeek:
    """At most ``limit`` sessions of the step in one course week. Each session's week is
    counted on the course's clock: ``paused`` (this session's) and ``peer_paused`` (each
    peer's, empty: none) are the days paused between the first session and it."""

    first: int
    limit: int
    peers: tuple[int, ...]
    paused: int = 0
    peer_paused: tuple[int, ...] = ()

    @property
    def refs(self) -> tuple[int, ...]:
        return (self.first, *self.peers)

    def _count(self, placed: Sequence[Placement | None], day_start: int, tz: ZoneInfo) -> int:
        p = placed[self.first]
        assert p is not None
        week = course_week(p.start, day_start, tz, self.paused)
        shifts = self.peer_paused or (0,) * len(self.peers)
        count = 0
        for peer, shift in zip(self.peers, shifts, strict=True):
            q = placed[peer]
            if q is not None and course_week(p.start, q.start, tz, shift) == week:
                count += 1
        return count

    def window(self, placed, seconds, tz):  # type: ignore[no-untyped-def]
        return None, None

    def day_ok(self, placed, day_start, tz):  # type: ignore[no-untyped-def]
        return self._count(placed, day_start, tz) < self.limit

    def broken(self, start, end, placed, tz):  # type: ignore[no-untyped-def]
        count = self._count(placed, start, tz)
        return f"would be number {count + 1} that week" if count >= self.limit else None

    def describe(self, titles):  # type: ignore[no-untyped-def]
        return f"at most {self.limit} a week"
