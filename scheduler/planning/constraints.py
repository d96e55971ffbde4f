"""A course as elements to place (each session and its pair) and the protocol rules between them.

Every protocol rule is a constraint on one element relative to earlier ones. Each constraint
gives the search its bounds (``window``) and the checker its verdict (``broken``), so the plan
and the check of a plan read the same rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Protocol as TypingProtocol
from zoneinfo import ZoneInfo

from ..models import AppointmentKind, RoomKind, StaffPart
from ..protocols.definition import ProtocolDefinition, Step
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


def _upper_slack(span: Span) -> int:
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


@dataclass(frozen=True)
class Element:
    """One appointment of the course to place."""

    index: int
    key: str
    step_key: str
    kind: AppointmentKind
    sequence: int
    #: The step's session count (None: open-ended).
    of: int | None
    label: str
    minutes: int
    buffer_minutes: int
    room_kinds: tuple[RoomKind, ...]
    parts: tuple[StaffPart, ...]
    #: For a pairing: the index of the session it belongs to.
    pair_of: int | None
    constraints: tuple[Constraint, ...] = field(default=())
    is_pairing: bool = False

    @property
    def title(self) -> str:
        """'dosing 4 of 6': how messages name the element."""
        name = self.step_key.replace("_", " ")
        return f"{name} {self.sequence} of {self.of}" if self.of else f"{name} {self.sequence}"

    @property
    def seconds(self) -> int:
        return self.minutes * 60


@dataclass(frozen=True)
class Shape:
    elements: tuple[Element, ...]

    def __len__(self) -> int:
        return len(self.elements)

    @property
    def titles(self) -> list[str]:
        return [e.title for e in self.elements]

    def find(self, step_key: str, sequence: int) -> Element | None:
        for element in self.elements:
            if element.step_key == step_key and element.sequence == sequence:
                return element
        return None


@dataclass(frozen=True)
class Wanted:
    """Which sessions of each step the shape holds, and which of them get their pairing."""

    sessions: dict[str, list[int]]
    pairs: dict[str, set[int]]
    #: Days the course stood paused before each session since the course began, by element
    #: key ("dosing-3"); absent: none. The protocol's clock stops while a course is paused.
    paused: Mapping[str, int] = field(default_factory=dict)


def wanted_for_new_course(
    definition: ProtocolDefinition, include_optional: bool, sessions_ahead: int | None
) -> Wanted:
    sessions: dict[str, list[int]] = {}
    pairs: dict[str, set[int]] = {}
    for step in definition.steps:
        count = step.planned_count(sessions_ahead)
        sessions[step.key] = list(range(1, count + 1))
        if step.pairing is not None and (include_optional or not step.pairing.optional):
            pairs[step.key] = set(sessions[step.key])
    return Wanted(sessions, pairs)


def build_shape(
    definition: ProtocolDefinition,
    wanted: Wanted,
    relaxed: frozenset[tuple[str, int]] = frozenset(),
    *,
    across_pauses: bool = False,
) -> Shape:
    """Elements in placement order: each step's sessions, then their pairs, step by step.

    A course's rules count on its own clock, which stops while the course is paused
    (``wanted.paused``): phase weeks, the step's window and maximum gaps that span a pause
    stretch by the days paused; minimum gaps are real time and stay.

    ``relaxed`` names sessions (step key, sequence) whose maxima reaching back (the gap to the
    session before, the step's window) are dropped: recorded clinical exceptions.
    ``across_pauses`` drops every maximum that spans a pause, for a resume no plan could keep
    them for (it records each one it then exceeds).
    """
    elements: list[Element] = []
    last_of_step: dict[str, int] = {}
    for step in definition.steps:
        sequences = sorted(set(wanted.sessions.get(step.key, [])))
        if not sequences:
            continue
        indices = _add_sessions(
            step, sequences, elements, last_of_step, relaxed, wanted.paused, across_pauses
        )
        pair_sequences = wanted.pairs.get(step.key, set())
        if step.pairing is not None:
            for sequence, session_index in zip(sequences, indices, strict=True):
                if sequence in pair_sequences:
                    _add_pairing(step, sequence, session_index, elements)
        last_of_step[step.key] = indices[-1]
    return Shape(tuple(elements))


def _add_sessions(
    step: Step,
    sequences: list[int],
    elements: list[Element],
    last_of_step: dict[str, int],
    relaxed: frozenset[tuple[str, int]],
    paused: Mapping[str, int],
    across_pauses: bool,
) -> list[int]:
    indices: list[int] = []
    first_index: int | None = None
    for position, sequence in enumerate(sequences):
        index = len(elements)
        key = f"{step.key}-{sequence}"
        loose = (step.key, sequence) in relaxed

        constraints: list[Constraint] = []
        if position == 0:
            for prerequisite in step.after:
                if prerequisite.step in last_of_step:
                    other = last_of_step[prerequisite.step]
                    days = _paused_between(paused, elements[other].key, key)
                    constraints.append(
                        After(
                            other,
                            "end",
                            prerequisite.min_gap,
                            prerequisite.max_gap,
                            paused=days,
                            relaxed=loose or (across_pauses and days > 0),
                        )
                    )
        else:
            assert first_index is not None
            previous = indices[-1]
            phase_index, phase = step.phase_for(sequence)
            low = phase.min_gap or Span.minutes(step.minutes)
            gap = _paused_between(paused, elements[previous].key, key)
            constraints.append(
                After(
                    previous,
                    "start",
                    low,
                    phase.max_gap,
                    paused=gap,
                    relaxed=loose or (across_pauses and gap > 0),
                )
            )
            shift = _paused_between(paused, elements[first_index].key, key)
            if step.window is not None:
                constraints.append(
                    Within(
                        first_index,
                        step.window,
                        paused=shift,
                        relaxed=loose or (across_pauses and shift > 0),
                    )
                )
            # Weeks count from session 1: without it in the shape there is nothing to count from.
            if sequences[0] == 1:
                if phase.weeks_from is not None:
                    constraints.append(
                        InWeeks(first_index, phase.weeks_from, phase.weeks_to, shift)
                    )
                if phase.per_week is not None:
                    begin = step.phase_start(phase_index)
                    peers = tuple(i for s, i in zip(sequences, indices, strict=False) if s >= begin)
                    if peers:
                        first_key = elements[first_index].key
                        peer_paused = tuple(
                            _paused_between(paused, first_key, elements[i].key) for i in peers
                        )
                        constraints.append(
                            PerWeek(
                                first_index,
                                phase.per_week,
                                peers,
                                shift,
                                peer_paused if any(peer_paused) else (),
                            )
                        )
        elements.append(
            Element(
                index=index,
                key=key,
                step_key=step.key,
                kind=step.kind,
                sequence=sequence,
                of=step.count,
                label=step.label,
                minutes=step.minutes,
                buffer_minutes=step.buffer_minutes,
                room_kinds=step.room_kinds,
                parts=step.parts,
                pair_of=None,
                constraints=tuple(constraints),
            )
        )
        indices.append(index)
        if first_index is None:
            first_index = index
    return indices


def _paused_between(paused: Mapping[str, int], earlier: str, later: str) -> int:
    """Days the course stood paused between two of its sessions (element keys)."""
    return max(paused.get(later, 0) - paused.get(earlier, 0), 0)


def pause_exceptions(
    shape: Shape, placements: Sequence[Placement | None], tz: ZoneInfo
) -> list[tuple[int, str, str]]:
    """(element index, rule, message) for each maximum a placed element keeps only because it
    was stretched by a pause or relaxed: in real time, the protocol's limit is exceeded.
    ``rule`` is ``max_gap`` or ``window``."""
    found: list[tuple[int, str, str]] = []
    titles = shape.titles
    for element in shape.elements:
        p = placements[element.index]
        if p is None:
            continue
        for c in element.constraints:
            if not isinstance(c, After | Within) or not (c.paused or c.relaxed):
                continue
            if any(placements[r] is None for r in c.refs):
                continue
            if c.broken(p.start, p.end, placements, tz):
                continue  # broken as it stands: not a pause's doing
            strict = replace(c, paused=0, relaxed=False)
            broken = strict.broken(p.start, p.end, placements, tz)
            if broken:
                rule = "max_gap" if isinstance(c, After) else "window"
                message = f"{element.title} must be {strict.describe(titles)}; it {broken}"
                found.append((element.index, rule, message))
    return found


def _add_pairing(step: Step, sequence: int, session_index: int, elements: list[Element]) -> None:
    pairing = step.pairing
    assert pairing is not None
    constraints: list[Constraint] = [
        After(session_index, pairing.anchor, pairing.min_after, pairing.max_after)
    ]
    if pairing.same_day:
        constraints.append(SameDay(session_index))
    elements.append(
        Element(
            index=len(elements),
            key=f"{pairing.key}-{sequence}",
            step_key=pairing.key,
            kind=pairing.kind,
            sequence=sequence,
            of=step.count,
            label=pairing.label,
            minutes=pairing.minutes,
            buffer_minutes=pairing.buffer_minutes,
            room_kinds=pairing.room_kinds,
            parts=pairing.parts,
            pair_of=session_index,
            constraints=tuple(constraints),
            is_pairing=True,
        )
    )


def min_separations(shape: Shape) -> list[dict[int, int]]:
    """For each element i, the least seconds from its start to each later element's start that
    the minimum spacings force (a lower bound; wall-clock spans lose an hour for safety)."""
    n = len(shape)
    incoming: list[list[tuple[int, int]]] = [[] for _ in range(n)]
    for element in shape.elements:
        for c in element.constraints:
            if isinstance(c, After):
                offset = c.low.nominal_seconds - _upper_slack(c.low)
                if c.anchor == "end":
                    offset += shape.elements[c.other].seconds
                incoming[element.index].append((c.other, max(offset, 0)))
    result: list[dict[int, int]] = []
    for i in range(n):
        dist: dict[int, int] = {i: 0}
        for j in range(i + 1, n):
            best = None
            for k, offset in incoming[j]:
                if k in dist:
                    value = dist[k] + offset
                    best = value if best is None else max(best, value)
            if best is not None:
                dist[j] = best
        result.append(dist)
    return result


def tails(shape: Shape, separations: list[dict[int, int]]) -> list[int]:
    """Least seconds from each element's start to the end of the course's last element."""
    return [
        max(sep + shape.elements[j].seconds for j, sep in separations[i].items())
        for i in range(len(shape))
    ]


__all__ = [
    "DAY",
    "After",
    "Constraint",
    "Element",
    "InWeeks",
    "PerWeek",
    "Placement",
    "SameDay",
    "Shape",
    "Wanted",
    "Within",
    "build_shape",
    "min_separations",
    "pause_exceptions",
    "stretched",
    "tails",
    "wanted_for_new_course",
]
