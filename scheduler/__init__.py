"""Ketamine clinic scheduler: treatment courses with paired integration therapy."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask

from . import config as config_module
from .config import ROOT


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.from_mapping(config_module.defaults(app.instance_path))
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.update(config_module.from_environment())
    else:
        app.config.update(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(app)

    from . import extensions, record_reads

    extensions.init_app(app)
    record_reads.init_app(app)
    register_listeners(app)
    register_blueprints(app)
    register_cli(app)
    return app


def register_listeners(app: Flask) -> None:
    """Subsystems that follow ``scheduler.signals``. Listeners run in the order they first
    connect: reminders before feeds; the needs-attention flags only note what to judge at
    commit."""
    from .feeds import init_app as init_feed_invalidation
    from .integrity import init_app as init_integrity
    from .reminders import init_app as init_reminders

    init_reminders(app)
    init_feed_invalidation(app)
    init_integrity(app)


def register_blueprints(app: Flask) -> None:
    from .api import init_app as init_api
    from .feeds.blueprint import init_app as init_feeds
    from .http_errors import init_app as init_errors
    from .web import init_app as init_web

    init_api(app)
    init_web(app)
    init_feeds(app)
    # After the API: flask-smorest installs its own HTTP error handler, which this replaces
    # with one that answers pages in HTML and /api in JSON.
    init_errors(app)


def register_cli(app: Flask) -> None:
    from .cli import init_app as init_cli

    init_cli(app)


def _instance_secret(app: Flask) -> str:
    """A secret that survives restarts of an embedded install without any set-up.

    Production sets ``SCHEDULER_SECRET_KEY``; this file only exists on a machine that did not.
    """
    path = Path(app.instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    os.makedirs(app.instance_path, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


__all__ = ["create_app"]
