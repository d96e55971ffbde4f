"""A course as elements to place (each session and its pair) and the protocol rules between them.

Every protocol rule is a constraint on one element relative to earlier ones. Each constraint
gives the search its bounds (``window``) and the checker its verdict (``broken``), so the plan
and the check of a plan read the same rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
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


@dataclass(frozen=True)
class After:
    """Start at least ``low`` (and at most ``high``) after another element's start or end."""

    other: int
    anchor: str
    low: Span
    high: Span | None
    what: str = "after"

    @property
    def refs(self) -> tuple[int, ...]:
        return (self.other,)

    def _anchor(self, placed: Sequence[Placement | None]) -> int:
        p = placed[self.other]
        assert p is not None
        return p.start if self.anchor == "start" else p.end

    def window(self, placed, seconds, tz):  # type: ignore[no-untyped-def]
        a = self._anchor(placed)
        hi = self.high.add_epoch(a, tz) if self.high is not None else None
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
        if self.high is None:
            return f"at least {self.low.describe()} after {other}"
        return f"{self.low.describe()} to {self.high.describe()} after {other}"


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
    """End within ``span`` of the first session's start (a step's overall window)."""

    first: int
    span: Span

    @property
    def refs(self) -> tuple[int, ...]:
        return (self.first,)

    def limit(self, placed: Sequence[Placement | None], tz: ZoneInfo) -> int:
        p = placed[self.first]
        assert p is not None
        return self.span.add_epoch(p.start, tz)

    def window(self, placed, seconds, tz):  # type: ignore[no-untyped-def]
        return None, self.limit(placed, tz) - seconds

    def day_ok(self, placed, day_start, tz):  # type: ignore[no-untyped-def]
        return True

    def broken(self, start, end, placed, tz):  # type: ignore[no-untyped-def]
        over = end - self.limit(placed, tz)
        return f"ends {describe_length(over)} too late" if over > 0 else None

    def describe(self, titles):  # type: ignore[no-untyped-def]
        return f"all within {self.span.describe()} of {titles[self.first]}"


def course_week(first_day: int, day_start: int, tz: ZoneInfo) -> int:
    """Course week (1-based) of a local day, week 1 starting on the step's first day."""
    a = local_date(first_day, tz)
    b = local_date(day_start, tz)
    return (b - a).days // 7 + 1


@dataclass(frozen=True)
class InWeeks:
    """Start in course weeks ``low``..``high`` counted from the step's first session."""

    first: int
    low: int
    high: int | None

    @property
    def refs(self) -> tuple[int, ...]:
        return (self.first,)

    def window(self, placed, seconds, tz):  # type: ignore[no-untyped-def]
        p = placed[self.first]
        assert p is not None
        day0 = local_date(p.start, tz)
        lo = midnight(day0 + timedelta(days=7 * (self.low - 1)), tz)
        hi = None
        if self.high is not None:
            hi = midnight(day0 + timedelta(days=7 * self.high), tz) - 1
        return lo, hi

    def day_ok(self, placed, day_start, tz):  # type: ignore[no-untyped-def]
        p = placed[self.first]
        assert p is not None
        week = course_week(p.start, day_start, tz)
        return week >= self.low and (self.high is None or week <= self.high)

    def broken(self, start, end, placed, tz):  # type: ignore[no-untyped-def]
        p = placed[self.first]
        assert p is not None
        week = course_week(p.start, start, tz)
        if week < self.low or (self.high is not None and week > self.high):
            return f"is in week {week}"
        return None

    def describe(self, titles):  # type: ignore[no-untyped-def]
        weeks = f"weeks {self.low}-{self.high}" if self.high else f"week {self.low} or later"
        return f"in {weeks} of the course (from {titles[self.first]})"


@dataclass(frozen=True)
class PerWeek:
    """At most ``limit`` sessions of the step in one course week."""

    first: int
    limit: int
    peers: tuple[int, ...]

    @property
    def refs(self) -> tuple[int, ...]:
        return (self.first, *self.peers)

    def _count(self, placed: Sequence[Placement | None], day_start: int, tz: ZoneInfo) -> int:
        p = placed[self.first]
        assert p is not None
        week = course_week(p.start, day_start, tz)
        count = 0
        for peer in self.peers:
            q = placed[peer]
            if q is not None and course_week(p.start, q.start, tz) == week:
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
) -> Shape:
    """Elements in placement order: each step's sessions, then their pairs, step by step.

    ``relaxed`` names sessions (step key, sequence) whose link to the sessions before them keeps
    only its minimum spacing: a course resumed after a pause cannot keep a 7-day maximum.
    """
    elements: list[Element] = []
    last_of_step: dict[str, int] = {}
    for step in definition.steps:
        sequences = sorted(set(wanted.sessions.get(step.key, [])))
        if not sequences:
            continue
        indices = _add_sessions(step, sequences, elements, last_of_step, relaxed)
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
) -> list[int]:
    indices: list[int] = []
    first_index: int | None = None
    restarted = False
    for position, sequence in enumerate(sequences):
        index = len(elements)
        constraints: list[Constraint] = []
        loose = (step.key, sequence) in relaxed
        restarted = restarted or (loose and position > 0)
        if position == 0:
            for prerequisite in step.after:
                if prerequisite.step in last_of_step:
                    constraints.append(
                        After(
                            last_of_step[prerequisite.step],
                            "end",
                            prerequisite.min_gap,
                            None if loose else prerequisite.max_gap,
                        )
                    )
        else:
            previous = indices[-1]
            _, phase = step.phase_for(sequence)
            low = phase.min_gap or Span.minutes(step.minutes)
            constraints.append(After(previous, "start", low, None if loose else phase.max_gap))
            anchor_ok = first_index is not None and not restarted
            if step.window is not None and anchor_ok:
                constraints.append(Within(first_index, step.window))  # type: ignore[arg-type]
            if anchor_ok and sequences[0] == 1:
                if phase.weeks_from is not None:
                    constraints.append(
                        InWeeks(first_index, phase.weeks_from, phase.weeks_to)  # type: ignore[arg-type]
                    )
                if phase.per_week is not None:
                    phase_index, _ = step.phase_for(sequence)
                    begin = step.phase_start(phase_index)
                    peers = tuple(i for s, i in zip(sequences, indices, strict=False) if s >= begin)
                    if peers:
                        constraints.append(PerWeek(first_index, phase.per_week, peers))  # type: ignore[arg-type]
        elements.append(
            Element(
                index=index,
                key=f"{step.key}-{sequence}",
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
    "tails",
    "wanted_for_new_course",
]
