"""A course as elements to place (each session and its pair), each carrying the protocol's
constraints on it; and the least separations between elements that those constraints imply."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from zoneinfo import ZoneInfo

from ..models import AppointmentKind, RoomKind, StaffPart
from ..protocols.definition import ProtocolDefinition, Step
from ..protocols.spans import Span
from .constraints import (
    After,
    Constraint,
    InWeeks,
    PerWeek,
    Placement,
    SameDay,
    Within,
    upper_slack,
)


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
                offset = c.low.nominal_seconds - upper_slack(c.low)
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
