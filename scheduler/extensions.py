"""Flask extensions, created once and bound to the app in ``init_app``."""

from __future__ import annotations

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_wtf import CSRFProtect

from .config import ROOT
from .db import db

migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def init_app(app: Flask) -> None:
    from . import models  # noqa: F401  (registers every table on the metadata)
    from .booking import dosing

    db.init_app(app)
    migrate.init_app(app, db, directory=str(_migrations_dir()))
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)
    dosing.init_app(app)


def _migrations_dir() -> str:
    return str(ROOT / "migrations")
