"""Protocols in the database: created, edited as new versions, seeded once."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from sqlalchemy import func, select

from scheduler.audit import Action
from scheduler.db import write_transaction
from scheduler.errors import ValidationFailed
from scheduler.models import AuditEntry, Protocol, ProtocolVersion
from scheduler.protocols import (
    SEED_PROTOCOLS,
    add_version,
    create_protocol,
    current_version,
    definition_of,
    seed_protocols,
    stored_definition,
    versions,
)
from scheduler.protocols.seed import IV_INDUCTION


def test_create_then_edit_keeps_every_version(session, now):
    action = Action("t", None, now)
    with write_transaction(session):
        protocol = create_protocol(session, action, IV_INDUCTION)
    edited = copy.deepcopy(IV_INDUCTION)
    edited["steps"][1]["phases"][0]["count"] = 8
    edited["steps"][1]["window"] = "28d"
    with write_transaction(session):
        version = add_version(session, Action("t", None, now), protocol, edited)
    assert version.number == 2
    versions = session.scalars(
        select(ProtocolVersion).where(ProtocolVersion.protocol_id == protocol.id)
    ).all()
    assert [v.number for v in versions] == [1, 2]
    assert definition_of(versions[0]).step("dosing").count == 6
    assert definition_of(current_version(session, protocol)).step("dosing").count == 8
    actions = [e.action for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions == ["protocol.create", "protocol.new_version"]


def test_impossible_edit_is_refused_and_writes_nothing(session, now):
    with write_transaction(session):
        protocol = create_protocol(session, Action("t", None, now), IV_INDUCTION)
    bad = copy.deepcopy(IV_INDUCTION)
    bad["steps"][1]["phases"][0]["max_gap"] = "1d"
    with pytest.raises(ValidationFailed) as caught, write_transaction(session):
        add_version(session, Action("t", None, now), protocol, bad)
    assert "steps.1.phases.0.max_gap" in caught.value.fields
    assert session.scalar(select(ProtocolVersion.number).order_by(ProtocolVersion.id.desc())) == 1


def test_names_are_unique(session, now):
    with write_transaction(session):
        create_protocol(session, Action("t", None, now), IV_INDUCTION)
    with pytest.raises(ValidationFailed) as caught, write_transaction(session):
        create_protocol(session, Action("t", None, now), IV_INDUCTION)
    assert "name" in caught.value.fields


def test_seed_is_idempotent(session, now):
    with write_transaction(session):
        first = seed_protocols(session, Action("seed", None, now))
    with write_transaction(session):
        second = seed_protocols(session, Action("seed", None, now))
    assert [s.created for s in first] == [True] * len(SEED_PROTOCOLS)
    assert [s.created for s in second] == [False] * len(SEED_PROTOCOLS)
    assert session.scalar(select(Protocol.id).where(Protocol.name == "nonexistent")) is None
    assert len(session.scalars(select(ProtocolVersion)).all()) == len(SEED_PROTOCOLS)


def test_seed_protocols_command(runner, app):
    result = runner.invoke(args=["seed-protocols"])
    assert result.exit_code == 0, result.output
    assert result.output.count("added") == len(SEED_PROTOCOLS)
    again = runner.invoke(args=["seed-protocols"])
    assert again.output.count("already present") == len(SEED_PROTOCOLS)


def _lenient(shape: str) -> dict[str, Any]:
    """IV induction in a shape an earlier reader of stored documents accepted."""
    document = copy.deepcopy(IV_INDUCTION)
    dosing = document["steps"][1]
    if shape == "phases.steps":
        document["phases"] = [{"label": "Induction", "steps": [document["steps"].pop()]}]
    elif shape == "patient_instructions":
        dosing["patient_instructions"] = dosing.pop("instructions")
    else:
        dosing["reminders"] = [{"hours_before": 36, "template": "dosing_preparation"}]
    return document


LENIENT = [
    ("phases.steps", "phases"),
    ("patient_instructions", "steps.1.patient_instructions"),
    ("reminders", "steps.1.reminders"),
]


@pytest.mark.parametrize(("shape", "field"), LENIENT)
def test_lenient_shapes_are_refused_on_create_and_edit(session, now, shape, field):
    with pytest.raises(ValidationFailed) as caught, write_transaction(session):
        create_protocol(session, Action("t", None, now), _lenient(shape))
    assert caught.value.fields[field] == ["Unknown field."]
    with write_transaction(session):
        protocol = create_protocol(session, Action("t", None, now), IV_INDUCTION)
    with pytest.raises(ValidationFailed) as caught, write_transaction(session):
        add_version(session, Action("t", None, now), protocol, _lenient(shape))
    assert field in caught.value.fields
    assert session.scalar(select(func.count(ProtocolVersion.id))) == 1


@pytest.mark.parametrize(("shape", "field"), LENIENT)
def test_a_stored_document_in_a_lenient_shape_is_not_read(session, now, shape, field):
    # Written past the API (a raw import): the one reader refuses it rather than guess.
    with write_transaction(session):
        protocol = create_protocol(session, Action("t", None, now), IV_INDUCTION)
        version = current_version(session, protocol)
        version.definition = _lenient(shape)
    session.expire_all()
    with pytest.raises(ValidationFailed) as caught:
        definition_of(current_version(session, protocol))
    assert field in caught.value.fields
    with pytest.raises(ValidationFailed):
        stored_definition(_lenient(shape))


def test_a_loaded_version_is_parsed_once(session, now, monkeypatch):
    with write_transaction(session):
        protocol = create_protocol(session, Action("t", None, now), IV_INDUCTION)
    version = current_version(session, protocol)
    first = definition_of(version)
    parses: list[str] = []
    monkeypatch.setattr(versions, "stored_definition", lambda d: parses.append(d) or first)
    assert definition_of(version) is first
    assert parses == []
    # A new document (an expired and reloaded row, or a replaced one) is read again.
    version.definition = copy.deepcopy(version.definition)
    assert definition_of(version) is first
    assert len(parses) == 1
