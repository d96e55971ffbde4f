"""A protocol as data: its steps, phases, spacing, pairing and instructions.

``parse_definition`` turns a JSON document into a ``ProtocolDefinition``, or raises
``ValidationFailed`` naming the field path (``steps.1.phases.0.max_gap``) and why the protocol
cannot work. ``definition_document`` writes the normalized document stored in a version.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from marshmallow import ValidationError

from ..errors import ValidationFailed
from ..models import AppointmentKind, RoomKind, Route, StaffPart
from .schema import ProtocolDocumentSchema, flatten_errors
from .spans import ZERO, Span
from .validation import problems


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


def parse_definition(document: Any) -> ProtocolDefinition:
    """Check ``document`` (shape, then rules) and return the definition, or raise."""
    if not isinstance(document, dict):
        raise ValidationFailed({"_schema": "a protocol must be a JSON object"})
    try:
        data = ProtocolDocumentSchema().load(document)
    except ValidationError as error:
        raise ValidationFailed(flatten_errors(error.messages), "Invalid protocol") from None
    definition = _build(data)
    found = problems(definition)
    if found:
        raise ValidationFailed(found, "This protocol cannot be planned")
    return definition


def definition_document(definition: ProtocolDefinition) -> dict[str, Any]:
    """The normalized JSON document of a definition (what a version stores)."""
    return {
        "name": definition.name,
        "route": definition.route.value,
        "description": definition.description,
        "preconditions": list(definition.preconditions),
        "counts_as": list(definition.counts_as),
        "requires": [_requirement_document(r) for r in definition.requires],
        "instructions": definition.instructions,
        "steps": [_step_document(s) for s in definition.steps],
    }


def _requirement_document(requirement: Requirement) -> dict[str, Any]:
    if requirement.of is None:
        return {"rule": requirement.rule}
    return {"rule": requirement.rule, "of": requirement.of}


def _span(text: str | None) -> Span | None:
    return Span.parse(text) if text is not None else None


def _build(data: dict[str, Any]) -> ProtocolDefinition:
    return ProtocolDefinition(
        name=data["name"].strip(),
        route=data["route"],
        description=data["description"],
        preconditions=tuple(data["preconditions"]),
        instructions=data["instructions"],
        steps=tuple(_build_step(s) for s in data["steps"]),
        counts_as=tuple(dict.fromkeys(data["counts_as"])),
        requires=tuple(Requirement(r["rule"], r["of"]) for r in data["requires"]),
    )


def _build_step(data: dict[str, Any]) -> Step:
    pairing = data["pairing"]
    follow_up = data["follow_up"]
    return Step(
        key=data["key"],
        kind=data["kind"],
        label=data["label"],
        administration_minutes=data["administration_minutes"],
        monitoring_minutes=data["monitoring_minutes"],
        buffer_minutes=data["buffer_minutes"],
        room_kinds=tuple(dict.fromkeys(data["room_kinds"])),
        parts=tuple(data["staff"]),
        phases=tuple(
            Phase(
                label=p["label"],
                count=p["count"],
                min_gap=_span(p["min_gap"]),
                max_gap=_span(p["max_gap"]),
                weeks_from=p["weeks_from"],
                weeks_to=p["weeks_to"],
                per_week=p["per_week"],
            )
            for p in data["phases"]
        ),
        window=_span(data["window"]),
        book_ahead=data["book_ahead"],
        after=tuple(
            Prerequisite(a["step"], _span(a["min_gap"]) or ZERO, _span(a["max_gap"]))
            for a in data["after"]
        ),
        pairing=None
        if pairing is None
        else Pairing(
            key=pairing["key"],
            kind=pairing["kind"],
            label=pairing["label"],
            anchor=pairing["anchor"],
            min_after=Span.parse(pairing["min_after"]),
            max_after=Span.parse(pairing["max_after"]),
            same_day=pairing["same_day"],
            minutes=pairing["minutes"],
            buffer_minutes=pairing["buffer_minutes"],
            parts=tuple(pairing["staff"]),
            room_kinds=tuple(dict.fromkeys(pairing["room_kinds"])),
            optional=pairing["optional"],
            instructions=pairing["instructions"],
            reminder_hours=tuple(pairing["reminder_hours"]),
        ),
        instructions=data["instructions"],
        reminder_hours=tuple(data["reminder_hours"]),
        follow_up=None
        if follow_up is None
        else FollowUp(follow_up["description"], Span.parse(follow_up["due_within"])),
    )


def _opt(span: Span | None) -> str | None:
    return None if span is None else str(span)


def _step_document(step: Step) -> dict[str, Any]:
    pairing = step.pairing
    return {
        "key": step.key,
        "kind": step.kind.value,
        "label": step.label,
        "administration_minutes": step.administration_minutes,
        "monitoring_minutes": step.monitoring_minutes,
        "buffer_minutes": step.buffer_minutes,
        "room_kinds": [k.value for k in step.room_kinds],
        "staff": [p.value for p in step.parts],
        "phases": [
            {
                "label": p.label,
                "count": p.count,
                "min_gap": _opt(p.min_gap),
                "max_gap": _opt(p.max_gap),
                "weeks_from": p.weeks_from,
                "weeks_to": p.weeks_to,
                "per_week": p.per_week,
            }
            for p in step.phases
        ],
        "window": _opt(step.window),
        "book_ahead": step.book_ahead,
        "after": [
            {"step": a.step, "min_gap": str(a.min_gap), "max_gap": _opt(a.max_gap)}
            for a in step.after
        ],
        "pairing": None
        if pairing is None
        else {
            "key": pairing.key,
            "kind": pairing.kind.value,
            "label": pairing.label,
            "anchor": pairing.anchor,
            "min_after": str(pairing.min_after),
            "max_after": str(pairing.max_after),
            "same_day": pairing.same_day,
            "minutes": pairing.minutes,
            "buffer_minutes": pairing.buffer_minutes,
            "staff": [p.value for p in pairing.parts],
            "room_kinds": [k.value for k in pairing.room_kinds],
            "optional": pairing.optional,
            "instructions": pairing.instructions,
            "reminder_hours": list(pairing.reminder_hours),
        },
        "instructions": step.instructions,
        "reminder_hours": list(step.reminder_hours),
        "follow_up": None
        if step.follow_up is None
        else {
            "description": step.follow_up.description,
            "due_within": str(step.follow_up.due_within),
        },
    }
