"""The app served on a free loopback port in a thread, on its own SQLite file, with the demo
clinic loaded and the clock fixed at the tests' NOW; and headless Chromium to drive it."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import create_engine
from werkzeug.serving import BaseWSGIServer, make_server

from scheduler import create_app
from scheduler.audit import Action
from scheduler.db import Base, db, write_transaction
from scheduler.demo import load_demo
from scheduler.protocols import seed_protocols
from tests.conftest import IN_CI, NOW, app_config

CHROMIUM = os.environ.get("SCHEDULER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"
PASSWORD = "demo-clinic-2026"


def require_chromium() -> str:
    if shutil.which(CHROMIUM) or Path(CHROMIUM).exists():
        return CHROMIUM
    message = f"end-to-end tests need Chromium at {CHROMIUM} (Debian: apt-get install chromium)"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


@dataclass
class LiveServer:
    app: Flask
    url: str
    server: BaseWSGIServer


def seed(app: Flask) -> None:
    with app.app_context(), write_transaction(db.session):
        action = Action("e2e.seed", None, NOW)
        load_demo(db.session, action)
        seed_protocols(db.session, action)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    path = tmp_path_factory.mktemp("e2e") / "e2e.sqlite"
    url = f"sqlite:///{path}"
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    app = create_app(
        app_config(
            url,
            WTF_CSRF_ENABLED=True,
            BASE_URL="http://127.0.0.1",
            SIGN_IN_RATE_LIMIT="100 per minute",
        )
    )
    seed(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveServer(app, f"http://127.0.0.1:{server.server_port}", server)
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    executable = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


class Shots:
    """Saves a numbered screenshot of each page a test passes through."""

    def __init__(self, name: str) -> None:
        self.folder = ARTIFACTS / name
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.count = 0

    def take(self, page: object, name: str) -> Path:
        self.count += 1
        target = self.folder / f"{self.count:02d}-{name}.png"
        page.screenshot(path=str(target), full_page=True)  # type: ignore[attr-defined]
        return target
