"""Loading the rows a request names, and the action a request's change is recorded under."""

from __future__ import annotations

from typing import TypeVar

from ..audit import Action
from ..auth.api import current_actor
from ..clock import now
from ..db import db
from ..errors import NotFound
from .schemas.common import MAX_ID

T = TypeVar("T")


def get_or_404(model: type[T], row_id: int, what: str) -> T:
    # Ids past a 32-bit column's range cannot exist; PostgreSQL would reject the query itself.
    row = db.session.get(model, row_id) if 0 < row_id <= MAX_ID else None
    if row is None:
        raise NotFound(f"No {what} {row_id}")
    return row


def visible_or_404(allowed: bool, what: str, row_id: int) -> None:
    """A record the caller may not see answers as one that does not exist: a 403 would confirm
    that the patient (and so their treatment) exists."""
    if not allowed:
        raise NotFound(f"No {what} {row_id}")


def action(name: str) -> Action:
    return Action(name, current_actor(), now())
