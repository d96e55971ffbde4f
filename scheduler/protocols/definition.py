"""A protocol as data: its steps, phases, spacing, pairing and instructions.

Reading and writing its JSON document lives in ``documents``; checking that it can be planned
in ``validation``, which reads these types, so nothing here imports either.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..models import AppointmentKind, RoomKind, Route, StaffPart
from .spans import Span


@dataclass(frozen=True)
class Phase:
    label: str
    #: None: open-ended (maintenance), booked ``Step.book_ahead`` at a time.
    count: int | None
    min_gap: Span | None
    max_gap: Span | None
    weeks_from: int | None
    weeks_to: int | None
    per_week: int | None


@dataclass(frozen=True)
class Prerequisite:
    step: str
    min_gap: Span
    max_gap: Span | None


@dataclass(frozen=True)
class Pairing:
    key: str
    kind: AppointmentKind
    label: str
    anchor: str
    min_after: Span
    max_after: Span
    same_day: bool
    minutes: int
    buffer_minutes: int
    parts: tuple[StaffPart, ...]
    room_kinds: tuple[RoomKind, ...]
    optional: bool
    instructions: str
    reminder_hours: tuple[float, ...]


@dataclass(frozen=True)
class FollowUp:
    description: str
    due_within: Span


@dataclass(frozen=True)
class Step:
    key: str
    kind: AppointmentKind
    label: str
    administration_minutes: int
    monitoring_minutes: int
    buffer_minutes: int
    room_kinds: tuple[RoomKind, ...]
    parts: tuple[StaffPart, ...]
    phases: tuple[Phase, ...]
    window: Span | None
    book_ahead: int | None
    after: tuple[Prerequisite, ...]
    pairing: Pairing | None
    instructions: str
    reminder_hours: tuple[float, ...]
    follow_up: FollowUp | None

    @property
    def minutes(self) -> int:
        return self.administration_minutes + self.monitoring_minutes

    @property
    def open_ended(self) -> bool:
        return self.phases[-1].count is None

    @property
    def count(self) -> int | None:
        """Sessions in the step; None when open-ended."""
        if self.open_ended:
            return None
        return sum(p.count or 0 for p in self.phases)

    @property
    def finite_count(self) -> int:
        return sum(p.count or 0 for p in self.phases)

    def planned_count(self, ahead: int | None = None) -> int:
        """Sessions booked when a course starts: all, or the finite phases plus ``book_ahead``."""
        if not self.open_ended:
            return self.finite_count
        return self.finite_count + (ahead if ahead is not None else self.book_ahead or 1)

    def phase_for(self, sequence: int) -> tuple[int, Phase]:
        """The phase (index, phase) that session ``sequence`` (1-based) belongs to."""
        seen = 0
        for index, phase in enumerate(self.phases):
            if phase.count is None or sequence <= seen + phase.count:
                return index, phase
            seen += phase.count
        return len(self.phases) - 1, self.phases[-1]

    def phase_start(self, index: int) -> int:
        """The sequence number of the first session of phase ``index``."""
        return 1 + sum(p.count or 0 for p in self.phases[:index])


@dataclass(frozen=True)
class Requirement:
    """A precondition the scheduler checks before a course's first session is planned.

    ``rule`` is one of ``schema.REQUIREMENT_RULES``; ``of`` names a course kind for
    ``completed_course`` (see ``scheduler.courses.preconditions``)."""

    rule: str
    of: str | None = None


@dataclass(frozen=True)
class ProtocolDefinition:
    name: str
    route: Route
    description: str
    #: The checklist in words, for people; ``requires`` is what the scheduler enforces.
    preconditions: tuple[str, ...]
    instructions: str
    steps: tuple[Step, ...]
    #: What a course of this protocol counts as ("induction", ...) for other protocols' rules.
    counts_as: tuple[str, ...] = ()
    requires: tuple[Requirement, ...] = ()

    def step(self, key: str) -> Step:
        for step in self.steps:
            if step.key == key:
                return step
        raise KeyError(key)

    def pairing_step(self, key: str) -> Step | None:
        """The step whose pairing is called ``key``."""
        for step in self.steps:
            if step.pairing is not None and step.pairing.key == key:
                return step
        return None

    @property
    def open_ended_steps(self) -> list[Step]:
        return [s for s in self.steps if s.open_ended]
