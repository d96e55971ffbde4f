"""A protocol's JSON document and its ``ProtocolDefinition``, both ways.

``parse_definition`` turns a JSON document into a ``ProtocolDefinition``, or raises
``ValidationFailed`` naming the field path (``steps.1.phases.0.max_gap``) and why the protocol
cannot work. ``definition_document`` writes the normalized document stored in a version.
"""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError

from ..errors import ValidationFailed
from .definition import (
    FollowUp,
    Pairing,
    Phase,
    Prerequisite,
    ProtocolDefinition,
    Requirement,
    Step,
)
from .schema import ProtocolDocumentSchema, flatten_errors
from .spans import ZERO, Span
from .validation import problems


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
