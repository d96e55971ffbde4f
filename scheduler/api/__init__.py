"""The JSON API under /api (flask-smorest), its OpenAPI document and bearer-token auth.

Each resource is a module with one ``blp``; they are registered here, explicitly.
"""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api

from .auth import authenticate_request

api = Api(
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


def init_app(app: Flask) -> None:
    api.init_app(app)
    if "bearerAuth" not in api.spec.components.security_schemes:
        api.spec.components.security_scheme(
            "bearerAuth",
            {"type": "http", "scheme": "bearer", "description": "From POST /api/auth/token"},
        )
    for blueprint in blueprints():
        blueprint.before_request(authenticate_request)
        api.register_blueprint(blueprint)


def blueprints() -> list:  # type: ignore[type-arg]
    """Every API blueprint, in the order they appear in the document."""
    return []
