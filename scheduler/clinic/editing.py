"""What every kind of record shares: applying changes, audit snapshots, refusing to delete rows
that appointments still point at."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..audit import Action, jsonable, record
from ..errors import Conflict, ValidationFailed


def apply(obj: object, changes: Mapping[str, Any], allowed: Iterable[str]) -> None:
    """Set the plain attributes named in ``allowed`` that ``changes`` carries."""
    for name in allowed:
        if name in changes:
            setattr(obj, name, changes[name])


def view(obj: object, names: Iterable[str], **extra: Any) -> dict[str, Any]:
    """A JSON snapshot of some attributes, for the audit log."""
    data = {name: getattr(obj, name) for name in names}
    data.update(extra)
    return jsonable(data)


def audit(
    session: Session,
    action: Action,
    entity: str,
    entity_id: int | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    verb: str,
) -> None:
    record(session, action, entity, entity_id, before, after, what=f"{entity}.{verb}")


def refuse_if_used(session: Session, what: str, uses: Iterable[tuple[str, Select[Any]]]) -> None:
    """409 naming what still refers to the record: deletion would orphan history."""
    for label, query in uses:
        if session.scalar(query.limit(1)) is not None:
            raise Conflict(
                f"The {what} is still referenced by {label}; deactivate it instead",
                rule="in_use",
            )


def delete(session: Session, obj: object, what: str) -> None:
    """Delete and flush; a reference the checks did not foresee still gives a 409."""
    session.delete(obj)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise Conflict(
            f"The {what} is still referenced by other records; deactivate it instead",
            rule="in_use",
        ) from None


def require_unique(
    session: Session,
    query: Select[Any],
    field: str,
    message: str,
    *,
    current_id: int | None = None,
    id_of: Callable[[Any], int] = lambda row: row.id,
) -> None:
    found = session.scalars(query.limit(1)).first()
    if found is not None and id_of(found) != current_id:
        raise ValidationFailed({field: message})


def exists(session: Session, model: type, row_id: int) -> bool:
    return session.scalar(select(model.id).where(model.id == row_id)) is not None  # type: ignore[attr-defined]
