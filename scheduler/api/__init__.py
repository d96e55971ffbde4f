"""The JSON API under /api (flask-smorest), its OpenAPI document and bearer-token auth.

Each resource is a module with one ``blp``; they are registered here, explicitly.
"""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api, Blueprint
from marshmallow import RAISE

from ..auth.api import authenticate_request
from ..extensions import csrf
from . import (
    appointments,
    attention,
    course_moves,
    course_rebook,
    courses,
    feeds,
    locations,
    patients,
    protocols,
    reminders,
    rooms,
    staff,
    swagger_ui,
)
from . import sign_in as tokens
from .pagination import PAGINATION_HEADER
from .schemas.common import ErrorSchema


class ClinicApi(Api):
    """flask-smorest's Api, with X-Pagination documented as the JSON text it carries."""

    def _register_pagination_header(self) -> None:
        self.spec.components.header("PAGINATION", PAGINATION_HEADER, lazy=True)


api = ClinicApi(
    spec_kwargs={
        "info": {
            "description": (
                "Plan and book ketamine treatment courses with paired integration-therapy "
                "sessions. Every route except POST /api/auth/token needs "
                "`Authorization: Bearer <token>`."
            )
        },
        "security": [{"bearerAuth": []}],
    }
)


# Query strings follow the rule bodies follow: a parameter the operation does not declare is a
# 422 naming it, not silently ignored (webargs' default outside bodies). The parser is shared
# by every flask-smorest blueprint and reads this at request time.
Blueprint.ARGUMENTS_PARSER.DEFAULT_UNKNOWN_BY_LOCATION = {
    **Blueprint.ARGUMENTS_PARSER.DEFAULT_UNKNOWN_BY_LOCATION,
    "query": RAISE,
    "querystring": RAISE,
}

# Error answers carry `rule` and `conflicts` (409) beside smorest's fields.
api.ERROR_SCHEMA = ErrorSchema


def init_app(app: Flask) -> None:
    api.init_app(app)
    if "bearerAuth" not in api.spec.components.security_schemes:
        api.spec.components.security_scheme(
            "bearerAuth",
            {"type": "http", "scheme": "bearer", "description": "From POST /api/auth/token"},
        )
    for blueprint in blueprints():
        # Blueprints are module-level and outlive one app (tests build many): hook them once.
        if authenticate_request not in blueprint.before_request_funcs.get(None, []):
            blueprint.before_request(authenticate_request)
        csrf.exempt(blueprint)  # bearer tokens, not cookies: no cross-site forgery to guard
        api.register_blueprint(blueprint)
    app.register_blueprint(swagger_ui.bp)


def blueprints() -> list:  # type: ignore[type-arg]
    """Every API blueprint, in the order they appear in the document."""
    return [
        tokens.blp,
        appointments.blp,
        patients.blp,
        staff.blp,
        locations.blp,
        rooms.blp,
        feeds.blp,
        reminders.blp,
        protocols.blp,
        courses.blp,
        course_moves.blp,
        course_rebook.blp,
        attention.blp,
    ]
