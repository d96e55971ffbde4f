"""Flask extensions, created once and bound to the app in ``init_app``."""

from __future__ import annotations

from flask import Flask, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_wtf import CSRFProtect

from . import http_headers
from .config import ROOT
from .db import db

migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()
limiter = Limiter(key_func=get_remote_address, default_limits=[])

#: ``app.extensions`` key: names of the blueprints whose requests Flask-Limiter leaves alone.
UNLIMITED_BLUEPRINTS = "scheduler.unlimited_blueprints"


def skip_rate_limits(app: Flask, blueprint_name: str) -> None:
    """Keep Flask-Limiter's per-request bookkeeping out of one blueprint's requests in this app
    only: for routes that count what they need themselves and cannot afford the rest."""
    app.extensions.setdefault(UNLIMITED_BLUEPRINTS, set()).add(blueprint_name)


# Flask-Limiter's filters belong to the limiter, which every app shares: one filter, reading
# the choice each app made in init_app.
@limiter.request_filter
def skips_rate_limits() -> bool:
    """Whether the current request is in a blueprint its app keeps out of the limiter."""
    return request.blueprint in current_app.extensions.get(UNLIMITED_BLUEPRINTS, ())


def init_app(app: Flask) -> None:
    from . import models  # noqa: F401  (registers every table on the metadata)
    from .booking import dosing

    db.init_app(app)
    migrate.init_app(app, db, directory=str(_migrations_dir()))
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)
    dosing.init_app(app)
    http_headers.init_app(app)


def _migrations_dir() -> str:
    return str(ROOT / "migrations")
