"""Domain exceptions. Each maps to one HTTP status in ``scheduler.http_errors``, which answers
/api in JSON and the pages in HTML."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base for errors a user can act on. ``message`` is safe to show: it names no patient."""

    status = 400

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class ValidationFailed(DomainError):
    """Input that is well-formed but breaks a rule; ``fields`` maps field name to messages."""

    status = 422

    def __init__(self, fields: dict[str, list[str] | str], message: str = "Invalid input") -> None:
        normalized = {k: v if isinstance(v, list) else [v] for k, v in fields.items()}
        super().__init__(message, details={"errors": normalized})
        self.fields = normalized


class NotFound(DomainError):
    status = 404


class Forbidden(DomainError):
    status = 403


class Conflict(DomainError):
    """A booking rule would be broken: overlap, hours, closure, time off, room kind, state."""

    status = 409

    def __init__(
        self,
        message: str,
        *,
        rule: str,
        conflicts: list[dict[str, Any]] | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        payload = {"rule": rule, "conflicts": conflicts or []}
        payload.update(details or {})
        super().__init__(message, details=payload)
        self.rule = rule
        self.conflicts = conflicts or []
