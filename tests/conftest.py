"""Fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL comes from ``SCHEDULER_TEST_POSTGRES_URL`` (default: the local server's ``test``
database, used only to create a throw-away database per test process). Without a reachable
server the PostgreSQL half is skipped, except under ``CI=true``, where it fails the run.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from werkzeug.security import generate_password_hash

from scheduler import create_app
from scheduler.db import Base

from .factories import Factory

# The API client and its fixtures (``api``, ``tokens``, ``clinic``, ``at``) serve every folder.
pytest_plugins = ["tests.clients"]

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
            # A throw-away database: commits need not wait for the disk.
            conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit TO off'))
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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow tests first within each database (one database is set up at a time): started
    last, the longest would leave one test process running alone at the end of the suite."""

    def order(item: pytest.Item) -> tuple[str, bool]:
        callspec = getattr(item, "callspec", None)
        database = str(callspec.params.get("database_url", "")) if callspec else ""
        return database, item.get_closest_marker("slow") is None

    items.sort(key=order)


@pytest.fixture(autouse=True, scope="session")
def cheap_password_hashing() -> Iterator[None]:
    """scrypt costs a noticeable fraction of a second per staff member; tests make thousands."""
    from scheduler.auth import passwords

    patch = pytest.MonkeyPatch()
    cheap = functools.partial(generate_password_hash, method="pbkdf2:sha256:1000")
    patch.setattr(passwords, "generate_password_hash", cheap)
    yield
    patch.undo()


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
        # Plans must not depend on how busy the test machine is: the budget's own tests set
        # a small one.
        "PLAN_BUDGET_SECONDS": 30.0,
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


@pytest.fixture(scope="session")
def shared_app(database_url: str) -> Flask:
    """One app per database per test process: building one (about 600 URL rules) costs more
    than many tests, and each test's writes are undone anyway (``app``)."""
    return create_app(app_config(database_url))


@contextmanager
def _rolled_back(app: Flask) -> Iterator[None]:
    """Everything the test writes stays in one outer transaction, rolled back at the end.

    The app's engine is swapped for one connection inside that transaction; each session
    joins it through a SAVEPOINT, so a ``commit`` or ``rollback`` in product code behaves as
    it does in production, only never reaches the disk.
    """
    from scheduler.db import db

    engines = db._app_engines[app]
    engine = engines[None]
    connection = engine.connect()
    outer = connection.begin()
    engines[None] = connection  # type: ignore[assignment]
    db.session.session_factory.configure(join_transaction_mode="create_savepoint")
    try:
        yield
    finally:
        with app.app_context():
            db.session.remove()
        db.session.session_factory.kw.pop("join_transaction_mode")
        engines[None] = engine
        outer.rollback()
        connection.close()


def _fresh_runtime(app: Flask) -> None:
    """Per-app state a test may have filled: rate-limit counters, feed caches and budgets."""
    from scheduler.extensions import limiter
    from scheduler.feeds.blueprint import EXTENSION, FeedRuntime

    with app.app_context():
        limiter.reset()
    app.extensions[EXTENSION].close()
    app.extensions[EXTENSION] = FeedRuntime(app)


@pytest.fixture
def app(request: pytest.FixtureRequest, shared_app: Flask) -> Iterator[Flask]:
    """The process's app, its configuration restored and its writes undone after the test.

    Tests marked ``committing`` (several connections, threads or apps sharing the data) write
    for real and the tables are emptied afterwards instead.
    """
    config = dict(shared_app.config)
    committing = request.node.get_closest_marker("committing") is not None
    try:
        if committing:
            yield shared_app
        else:
            with _rolled_back(shared_app):
                yield shared_app
    finally:
        if committing:
            _empty_tables(shared_app)
        shared_app.config.clear()
        shared_app.config.update(config)
        _fresh_runtime(shared_app)


@pytest.fixture
def configure(app: Flask) -> Callable[..., Flask]:
    """Change the app's settings for this test only (restored by ``app``)."""

    def change(**settings: object) -> Flask:
        app.config.update(settings)
        _fresh_runtime(app)  # feed settings are read when the runtime is built
        return app

    return change


@pytest.fixture
def fresh_app(app: Flask, database_url: str) -> Iterator[Callable[..., Flask]]:
    """Another app on the test's database (a second worker process, say). It sees the test's
    data only when the test is marked ``committing``."""
    built: list[Flask] = []

    def build(**config: object) -> Flask:
        built.append(create_app(app_config(database_url, **config)))
        return built[-1]

    yield build
    from scheduler.db import db
    from scheduler.feeds.blueprint import EXTENSION

    for other in built:
        other.extensions[EXTENSION].close()
        with other.app_context():
            db.session.remove()
            db.engine.dispose()  # its pool would hold connections until collected


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


@dataclass
class Clock:
    """The app's clock (``app.config["CLOCK"]``), moved by the test."""

    current: dt.datetime = NOW

    def __call__(self) -> dt.datetime:
        return self.current

    def set(self, when: dt.datetime) -> None:
        self.current = when

    def advance(self, **delta: float) -> dt.datetime:
        self.current += dt.timedelta(**delta)
        return self.current


@pytest.fixture
def clock(app: Flask) -> Clock:
    """The app's clock, set or moved by the test (restored with the app's settings)."""
    clock = Clock()
    app.config["CLOCK"] = clock
    return clock


@pytest.fixture
def make(session) -> Factory:
    return Factory(session, NOW)


@pytest.fixture
def now() -> dt.datetime:
    return NOW


@pytest.fixture
def dialect(database_url: str) -> str:
    return "postgresql" if database_url.startswith("postgresql") else "sqlite"
