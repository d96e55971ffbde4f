"""The JSON API under /api (flask-smorest), its OpenAPI document and bearer-token auth.

Each resource is a module with one ``blp``; they are registered here, explicitly. Every app gets
its own :class:`ClinicApi` (``app.extensions[EXTENSION]``); the blueprints are shared, and
nothing here changes them or flask-smorest.
"""

from __future__ import annotations

import threading
from typing import Any

from apispec import APISpec
from flask import Flask
from flask_smorest import Api
from flask_smorest import Blueprint as SmorestBlueprint
from flask_smorest.spec import openapi_cli

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
    record_reads,
    reminders,
    rooms,
    sign_in,
    staff,
    swagger_ui,
)
from .pagination import PAGINATION_HEADER
from .retries import retry_writes
from .schemas.common import ErrorSchema

EXTENSION = "scheduler.api"

SPEC_KWARGS: dict[str, Any] = {
    "info": {
        "description": (
            "Plan and book ketamine treatment courses with paired integration-therapy "
            "sessions. Every route except POST /api/auth/token needs "
            "`Authorization: Bearer <token>`."
        )
    },
    "security": [{"bearerAuth": []}],
}

BEARER_AUTH = {"type": "http", "scheme": "bearer", "description": "From POST /api/auth/token"}


class ClinicApi(Api):
    """flask-smorest's Api, writing the OpenAPI document when it is first read.

    Documenting the views is most of what building an app costs, and only /api/openapi.json,
    the Swagger page and ``flask openapi`` read the document: routes and error handlers are set
    up at once, the document on first access to :attr:`spec`.
    """

    # Error answers carry `rule` and `conflicts` (409) beside smorest's fields.
    ERROR_SCHEMA = ErrorSchema

    def __init__(self) -> None:
        self._spec: APISpec | None = None
        self._spec_options: dict[str, Any] | None = None
        self._undocumented: list[tuple[SmorestBlueprint, str, list[Any] | None]] = []
        # Reentrant: flask-smorest's own set-up reads `spec` while the document is being built.
        self._doc_lock = threading.RLock()
        self._writing_doc = False
        super().__init__(spec_kwargs=SPEC_KWARGS)

    @property  # type: ignore[override]
    def spec(self) -> APISpec | None:
        if self._spec_options is not None:
            self._write_doc()
        return self._spec

    @spec.setter
    def spec(self, value: APISpec | None) -> None:
        self._spec = value

    def _init_spec(self, **options: Any) -> None:
        # Called by init_app: keep what the document needs; the CLI group cannot wait.
        self._spec_options = options
        self._app.cli.add_command(openapi_cli)

    def _write_doc(self) -> None:
        with self._doc_lock:
            # Written by another thread while this one waited, or being written by this one
            # (only the writer can see the flag set: it is read and cleared under the lock).
            if self._spec_options is None or self._writing_doc:
                return
            self._writing_doc = True
            try:
                super()._init_spec(**self._spec_options)
                spec = self._spec
                assert spec is not None
                spec.components.security_scheme("bearerAuth", BEARER_AUTH)
                for blueprint, name, parameters in self._undocumented:
                    self._document(spec, blueprint, name, parameters)
                self._undocumented.clear()
                self._spec_options = None
            finally:
                self._writing_doc = False

    def register_blueprint(
        self,
        blp: SmorestBlueprint,
        *,
        parameters: list[Any] | None = None,
        **options: Any,
    ) -> None:
        """Api.register_blueprint, with the blueprint's documentation left for later."""
        name = options.get("name", blp.name)
        self._app.extensions["flask-smorest"]["blp_name_to_api"][name] = self
        self._app.register_blueprint(blp, **options)
        with self._doc_lock:
            if self._spec_options is None and self._spec is not None:
                self._document(self._spec, blp, name, parameters)
            else:
                self._undocumented.append((blp, name, parameters))

    def _document(
        self, spec: APISpec, blp: SmorestBlueprint, name: str, parameters: list[Any] | None
    ) -> None:
        blp.register_views_in_doc(self, self._app, spec, name=name, parameters=parameters)
        spec.tag({"name": name, "description": blp.description})

    def _register_pagination_header(self) -> None:
        # X-Pagination documented as the JSON text it carries.
        assert self._spec is not None
        self._spec.components.header("PAGINATION", PAGINATION_HEADER, lazy=True)


def init_app(app: Flask) -> None:
    api = ClinicApi()
    api.init_app(app)
    app.extensions[EXTENSION] = api
    for blueprint in blueprints():
        # On this app, not on the shared blueprint: every API request needs a bearer token
        # (views marked @public excepted), and the hook runs before any of the blueprint's own.
        app.before_request_funcs.setdefault(blueprint.name, []).append(authenticate_request)
        csrf.exempt(blueprint)  # bearer tokens, not cookies: no cross-site forgery to guard
        api.register_blueprint(blueprint)
    retry_writes(app, {blueprint.name for blueprint in blueprints()})
    app.register_blueprint(swagger_ui.bp)


def blueprints() -> list[SmorestBlueprint]:
    """Every API blueprint, in the order they appear in the document."""
    return [
        sign_in.blp,
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
        record_reads.blp,
    ]
