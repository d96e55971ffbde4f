"""Importing the package does no work, and building an app changes nothing outside the app.

Checked in a fresh interpreter: this process imported ``scheduler`` long ago (conftest) and has
built apps since, so it can no longer tell what an import or a ``create_app`` did.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent

PROBE = r"""
import hashlib
import json
import pkgutil
import sys

import flask_smorest
import psycopg
import webargs.flaskparser

Smorest = flask_smorest.Blueprint
work = []


def refuse(name):
    def refused(*args, **kwargs):
        work.append(name)
        raise RuntimeError(f"{name} at import time")

    return refused


# Network and database connections show up as audit events; libpq's sockets and scrypt do not.
def audit(event, args):
    if event in {"socket.connect", "socket.getaddrinfo", "sqlite3.connect", "subprocess.Popen"}:
        work.append(event)


sys.addaudithook(audit)
real_connect, real_scrypt = psycopg.connect, hashlib.scrypt
psycopg.connect = refuse("psycopg.connect")
hashlib.scrypt = refuse("hashlib.scrypt")


def parser_state():
    return {
        "smorest_parser": dict(Smorest.ARGUMENTS_PARSER.DEFAULT_UNKNOWN_BY_LOCATION),
        "smorest_pagination": dict(Smorest.PAGINATION_ARGUMENTS_PARSER.DEFAULT_UNKNOWN_BY_LOCATION),
        "webargs_class": dict(webargs.flaskparser.FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION),
        "error_schema": flask_smorest.Api.ERROR_SCHEMA.__qualname__,
    }


before_import = parser_state()
import scheduler

modules = ["scheduler"]


def failed(name):
    raise ImportError(name)


for module in pkgutil.walk_packages(scheduler.__path__, "scheduler.", onerror=failed):
    __import__(module.name)
    modules.append(module.name)
after_import = parser_state()
work_at_import = list(work)

psycopg.connect, hashlib.scrypt = real_connect, real_scrypt
app = scheduler.create_app(
    {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"}
)
print(json.dumps({
    "modules": modules,
    "work": work_at_import,
    "before_import": before_import,
    "after_import": after_import,
    "after_create_app": parser_state(),
}))
"""


@pytest.fixture(scope="module")
def probe() -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])  # type: ignore[no-any-return]


def test_importing_every_module_connects_to_nothing_and_hashes_nothing(
    probe: dict[str, Any],
) -> None:
    assert {"scheduler.api", "scheduler.feeds.blueprint", "scheduler.auth.passwords"} <= set(
        probe["modules"]
    )
    assert probe["work"] == []


def test_flask_smorest_and_webargs_are_left_as_they_come(probe: dict[str, Any]) -> None:
    assert probe["after_import"] == probe["before_import"]
    assert probe["after_create_app"] == probe["before_import"]
    assert probe["before_import"]["smorest_parser"]["query"] == "exclude"
