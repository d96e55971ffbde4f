"""Bearer-token authentication for /api: resolves ``g.actor`` before every API view."""

from __future__ import annotations

from flask import abort, g, request

from ..clock import now
from ..db import db
from ..models import StaffMember
from .bearer_tokens import resolve_token


def public(view):  # type: ignore[no-untyped-def]
    """Mark an API view as reachable without a bearer token (only sign-in is)."""
    view._public = True
    return view


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def authenticate_request() -> None:
    view = _view_function()
    if view is not None and getattr(view, "_public", False):
        return None
    token = bearer_token()
    actor = resolve_token(db.session, token, now()) if token else None
    if actor is None:
        abort(401, description="A valid bearer token is required (POST /api/auth/token)")
    g.actor = actor
    return None


def current_actor() -> StaffMember:
    return g.actor  # type: ignore[no-any-return]


def _view_function():  # type: ignore[no-untyped-def]
    from flask import current_app

    if request.endpoint is None:
        return None
    view = current_app.view_functions.get(request.endpoint)
    # flask-smorest MethodViews: look at the handler for this HTTP method.
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        return getattr(view_class, request.method.lower(), None)
    return view
