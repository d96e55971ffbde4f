"""Creating protocols and editing them: every edit is a new, immutable version, so a booked
course keeps the version it was planned with."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..audit import Action, record
from ..errors import NotFound, ValidationFailed
from ..models import Protocol, ProtocolVersion
from .definition import ProtocolDefinition
from .documents import definition_document, parse_definition


def create_protocol(session: Session, action: Action, document: Any) -> Protocol:
    definition = parse_definition(document)
    _require_free_name(session, definition.name, None)
    protocol = Protocol(
        name=definition.name, route=definition.route, active=True, created_at=action.now
    )
    session.add(protocol)
    session.flush()
    _add_version(session, action, protocol, definition, 1)
    record(
        session,
        action,
        "protocol",
        protocol.id,
        None,
        {"name": protocol.name, "route": protocol.route.value, "version": 1},
        what="protocol.create",
    )
    return protocol


def add_version(
    session: Session, action: Action, protocol: Protocol, document: Any
) -> ProtocolVersion:
    """Store an edited definition as the protocol's next version (name and route may change)."""
    definition = parse_definition(document)
    _require_free_name(session, definition.name, protocol.id)
    latest = session.scalar(
        select(func.max(ProtocolVersion.number)).where(ProtocolVersion.protocol_id == protocol.id)
    )
    before = {"name": protocol.name, "route": protocol.route.value, "version": latest}
    protocol.name = definition.name
    protocol.route = definition.route
    version = _add_version(session, action, protocol, definition, (latest or 0) + 1)
    record(
        session,
        action,
        "protocol",
        protocol.id,
        before,
        {"name": protocol.name, "route": protocol.route.value, "version": version.number},
        what="protocol.new_version",
    )
    return version


def set_active(session: Session, action: Action, protocol: Protocol, active: bool) -> Protocol:
    """Retire a protocol from new courses (booked courses keep it), or bring it back."""
    if protocol.active != active:
        record(
            session,
            action,
            "protocol",
            protocol.id,
            {"active": protocol.active},
            {"active": active},
            what="protocol.activate" if active else "protocol.retire",
        )
        protocol.active = active
        session.flush()
    return protocol


def get_protocol(session: Session, protocol_id: int) -> Protocol:
    protocol = session.get(Protocol, protocol_id) if 0 < protocol_id < 2**31 else None
    if protocol is None:
        raise NotFound(f"No protocol {protocol_id}")
    return protocol


def get_version(session: Session, version_id: int) -> ProtocolVersion:
    version = session.get(ProtocolVersion, version_id) if 0 < version_id < 2**31 else None
    if version is None:
        raise NotFound(f"No protocol version {version_id}")
    return version


def current_version(session: Session, protocol: Protocol) -> ProtocolVersion:
    version = session.scalars(
        select(ProtocolVersion)
        .where(ProtocolVersion.protocol_id == protocol.id)
        .order_by(ProtocolVersion.number.desc())
        .limit(1)
    ).first()
    if version is None:
        raise NotFound(f"Protocol {protocol.id} has no version")
    return version


#: Where ``definition_of`` keeps a version's parse: not a mapped attribute, so SQLAlchemy
#: neither loads, expires nor flushes it.
_MEMO = "_parsed_definition"


def definition_of(version: ProtocolVersion) -> ProtocolDefinition:
    """The parsed definition of a stored version: the one way to read a version's document.

    Stored documents were validated on write, but are parsed again rather than trusted, so a
    shape the schema refuses never reaches a reader. Reminders and feeds ask once per
    appointment: the result is kept on the loaded version (for as long as its document is the
    same object) and, across sessions, by the document's text."""
    document = version.definition
    memo = version.__dict__.get(_MEMO)
    if memo is not None and memo[0] is document:
        return memo[1]
    definition = stored_definition(document)
    version.__dict__[_MEMO] = (document, definition)
    return definition


def stored_definition(document: Any) -> ProtocolDefinition:
    """The parsed definition of a stored document read without its ORM object (feeds read
    rows as tuples); raises ``ValidationFailed`` like ``parse_definition``."""
    return _parsed(json.dumps(document, sort_keys=True))


def version_document(version: ProtocolVersion) -> dict[str, Any]:
    """A version's document as the typed reader sees it, for showing and editing."""
    return definition_document(definition_of(version))


@lru_cache(maxsize=128)
def _parsed(text: str) -> ProtocolDefinition:
    return parse_definition(json.loads(text))


def _add_version(
    session: Session,
    action: Action,
    protocol: Protocol,
    definition: ProtocolDefinition,
    number: int,
) -> ProtocolVersion:
    version = ProtocolVersion(
        protocol_id=protocol.id,
        number=number,
        definition=definition_document(definition),
        created_at=action.now,
        created_by_id=action.actor.id if action.actor else None,
    )
    session.add(version)
    session.flush()
    session.expire(protocol, ["versions"])
    return version


def _require_free_name(session: Session, name: str, own_id: int | None) -> None:
    query = select(Protocol.id).where(func.lower(Protocol.name) == name.lower())
    if own_id is not None:
        query = query.where(Protocol.id != own_id)
    if session.scalar(query) is not None:
        raise ValidationFailed({"name": f"a protocol called {name!r} already exists"})
