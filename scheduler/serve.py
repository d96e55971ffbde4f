"""``flask serve``: gunicorn in one process, optionally with the reminder worker inside it.

The embedded default (SQLite, one machine) runs everything in one process, so a single
command brings the clinic up. Production runs ``gunicorn wsgi:app`` and ``flask worker``
as separate processes instead: a reminder scheduler inside each web worker would multiply.
"""

from __future__ import annotations

import re
from typing import Any

import click
from flask import Flask, current_app
from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger

#: Paths whose last segment is a credential (a calendar feed token).
_SECRET_PATH = re.compile(r"^(/feeds/)[^/?]+")


def redact_path(path: str) -> str:
    """``/feeds/<token>.ics`` → ``/feeds/[redacted]``: the token is the subscriber's only
    credential and must never reach a log."""
    return _SECRET_PATH.sub(r"\1[redacted]", path)


class RedactingLogger(Logger):  # type: ignore[misc]
    """gunicorn's logger, with feed tokens taken out of every access-log field that holds
    the path. Set as ``logger_class`` in gunicorn.conf.py and by ``flask serve``."""

    def atoms(
        self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any
    ) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        atoms["U"] = redact_path(atoms.get("U") or "")
        method, _, rest = str(atoms.get("r", "")).partition(" ")
        uri, _, protocol = rest.partition(" ")
        atoms["r"] = f"{method} {redact_path(uri)} {protocol}".strip()
        return atoms


class EmbeddedServer(BaseApplication):  # type: ignore[misc]
    def __init__(self, app: Flask, options: dict[str, Any]) -> None:
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.application


def start_embedded_worker(app: Flask) -> None:
    from .reminders.worker import start_in_process

    start_in_process(app)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
@click.option("--with-worker", is_flag=True, help="Also send reminders from this process.")
def serve_command(host: str, port: int, threads: int, with_worker: bool) -> None:
    """Serve the app with gunicorn (one process, several threads)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    base = app.config.get("BASE_URL", f"http://{host}:{port}")
    options: dict[str, Any] = {
        "bind": f"{host}:{port}",
        "workers": 1,
        "threads": threads,
        "worker_class": "gthread",
        "accesslog": "-",
        # Feed URLs carry the subscriber's credential: the logger class redacts it.
        "logger_class": RedactingLogger,
        "access_log_format": '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms',
    }
    if with_worker:
        options["post_worker_init"] = lambda _worker: start_embedded_worker(app)
    click.echo(f"Serving on http://{host}:{port} (public address {base})")
    EmbeddedServer(app, options).run()
