"""End to end in headless Chromium: the front desk books and moves, a therapist finds it.

Screenshots of every page passed through land in test-artifacts/e2e/<test>/.
"""

from __future__ import annotations

import re

import pytest

from .live_server import PASSWORD, LiveServer, Shots

pytestmark = pytest.mark.e2e


def sign_in(page, server: LiveServer, email: str, shots: Shots) -> None:  # type: ignore[no-untyped-def]
    page.goto(server.url + "/")
    page.wait_for_url(re.compile(r"/sign-in"))
    shots.take(page, "sign-in")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def test_front_desk_starts_on_the_day_view_and_a_therapist_on_the_week(live_server, page):  # type: ignore[no-untyped-def]
    shots = Shots("start-pages")
    sign_in(page, live_server, "frontdesk@demo.clinic", shots)
    assert "/desk/day" in page.url
    page.get_by_role("heading", name="Day view").wait_for()
    shots.take(page, "day-view")
    page.get_by_role("link", name="Next day").click()
    page.wait_for_load_state()
    assert page.locator("a.appt").count() > 0
    shots.take(page, "day-view-next")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/sign-in"))

    sign_in(page, live_server, "therapist@demo.clinic", shots)
    assert "/my/week" in page.url
    page.get_by_role("heading", name="My week").wait_for()
    shots.take(page, "my-week")
