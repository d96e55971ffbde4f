"""Writing the audit log. Always called inside the transaction of the change it records."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from .models import AuditEntry, StaffMember


@dataclass
class Action:
    """One user action (a booking, a move with its followers): the audit entries it writes share
    an id, so the log can show everything one click changed."""

    name: str
    actor: StaffMember | None
    now: dt.datetime
    id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def actor_label(self) -> str:
        return f"{self.actor.name} <{self.actor.email}>" if self.actor else "system"


def record(
    session: Session,
    action: Action,
    entity_type: str,
    entity_id: int | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    *,
    what: str | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        at=action.now,
        actor_id=action.actor.id if action.actor else None,
        actor_label=action.actor_label,
        action_id=action.id,
        action=what or action.name,
        entity_type=entity_type,
        entity_id=entity_id,
        before=before,
        after=after,
    )
    session.add(entry)
    return entry


def jsonable(value: Any) -> Any:
    """Dates, enums and nested containers as JSON values, for before/after snapshots."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if hasattr(value, "value") and not isinstance(value, int | float | str | bool):
        return value.value
    return value
