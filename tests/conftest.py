"""Fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL comes from ``SCHEDULER_TEST_POSTGRES_URL`` (default: the local server's ``test``
database, used only to create a throw-away database per test process). Without a reachable
server the PostgreSQL half is skipped, except under ``CI=true``, where it fails the run.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from scheduler import create_app
from scheduler.db import Base

from .factories import Factory

POSTGRES_ADMIN_URL = os.environ.get(
    "SCHEDULER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() == "true"

#: The instant tests treat as "now": Monday 2 March 2026, 07:00 UTC.
NOW = dt.datetime(2026, 3, 2, 7, 0, tzinfo=dt.UTC)


def _postgres_database() -> Iterator[str]:
    admin_url = make_url(POSTGRES_ADMIN_URL)
    name = f"scheduler_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # the server is down or unreachable
        message = f"PostgreSQL not reachable at {admin_url.render_as_string()}: {error}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS btree_gist"))
    Base.metadata.create_all(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _sqlite_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    path = tmp_path_factory.mktemp("sqlite") / "test.sqlite"
    url = f"sqlite:///{path}"
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    yield url


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if request.param == "postgresql":
        yield from _postgres_database()
    else:
        yield from _sqlite_database(tmp_path_factory)


def app_config(database_url: str, **extra: object) -> dict[str, object]:
    config: dict[str, object] = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": "memory://",
        "BASE_URL": "https://clinic.example.org",
        "CLOCK": lambda: NOW,
        "SMTP_URL": None,
    }
    config.update(extra)
    return config


def _empty_tables(app: Flask) -> None:
    from scheduler.db import db

    with app.app_context():
        db.session.remove()
        engine = db.engine
        tables = [t.name for t in Base.metadata.sorted_tables]
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                quoted = ", ".join(f'"{t}"' for t in tables)
                conn.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
            else:
                for table in reversed(tables):
                    conn.execute(text(f'DELETE FROM "{table}"'))
                has_seq = conn.execute(
                    text("SELECT name FROM sqlite_master WHERE name='sqlite_sequence'")
                ).first()
                if has_seq:
                    conn.execute(text("DELETE FROM sqlite_sequence"))
        engine.dispose()


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    application = create_app(app_config(database_url))
    try:
        yield application
    finally:
        _empty_tables(application)


@pytest.fixture
def app_context(app: Flask) -> Iterator[Flask]:
    with app.app_context():
        yield app


@pytest.fixture
def session(app_context: Flask):
    from scheduler.db import db

    yield db.session
    db.session.remove()


@pytest.fixture
def client(app: Flask):
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


@pytest.fixture
def make(session) -> Factory:
    return Factory(session, NOW)


@pytest.fixture
def now() -> dt.datetime:
    return NOW


@pytest.fixture
def dialect(database_url: str) -> str:
    return "postgresql" if database_url.startswith("postgresql") else "sqlite"
