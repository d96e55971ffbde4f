"""Documenting the error answers of each operation, so the OpenAPI document lists every status
the view can give (schemathesis holds the API to it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_smorest import Blueprint

from .schemas.common import ConflictErrorSchema, ErrorSchema

DESCRIPTIONS = {
    400: "Malformed request (the body is not JSON)",
    401: "Missing, expired or revoked bearer token",
    403: "The signed-in staff member's role does not allow this",
    404: "No such record",
    409: "A booking or record rule would be broken; `rule` names it, `conflicts` what is in "
    "the way",
    422: "Invalid input: messages per field under `errors`",
    429: "Too many failed sign-ins from this client; retry later",
}


def errors(
    blp: Blueprint, *statuses: int, public: bool = False, **descriptions: str
) -> Callable[[Any], Any]:
    """Document error answers on a view: always 401 (unless public) plus ``statuses``.

    ``descriptions`` overrides the wording per status, keyed ``_401=...``.
    """
    wanted = sorted(set(statuses) | (set() if public else {401}))

    def decorator(view: Any) -> Any:
        for status in reversed(wanted):
            schema = ConflictErrorSchema if status == 409 else ErrorSchema
            text = descriptions.get(f"_{status}", DESCRIPTIONS[status])
            view = blp.alt_response(status, schema=schema, description=text)(view)
        return view

    return decorator
