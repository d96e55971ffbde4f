"""End to end in headless Chromium: the front desk books and moves, a therapist finds it.

Screenshots of every page passed through land in test-artifacts/e2e/<test>/.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from .live_server import PASSWORD, LiveServer, Shots

# One worker runs them all (make test uses --dist loadgroup): one server, one demo load.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


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
    page = context.new_page()
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text)
            if "Content Security Policy" in message.text
            or "Content-Security-Policy" in message.text
            else None
        ),
    )
    yield page
    context.close()
    assert refused == [], "the pages broke their Content-Security-Policy"


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


def demo_email(name: str) -> str:
    from scheduler.demo.people import STAFF

    return next(email for staff_name, email, _roles, _hours in STAFF if staff_name == name)


def test_front_desk_books_and_moves_a_course_and_the_therapist_sees_it(live_server, page):  # type: ignore[no-untyped-def]
    shots = Shots("book-move-find")
    sign_in(page, live_server, "frontdesk@demo.clinic", shots)

    page.get_by_role("link", name="Patients").click()
    page.get_by_label(re.compile("Search by name")).fill("Owen")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("row", name=re.compile("Klein, Owen")).wait_for()
    shots.take(page, "patient-search")
    page.get_by_role("row", name=re.compile("Klein, Owen")).get_by_role(
        "link", name="Start a course"
    ).click()
    page.get_by_label("Protocol").select_option(label="IV ketamine induction series")
    shots.take(page, "start-course")
    page.get_by_role("button", name="Propose a schedule").click()
    confirm = page.get_by_role("button", name=re.compile("Confirm and book 13 appointments"))
    confirm.wait_for()
    assert page.locator(".tl-row-dosing").count() == 6
    shots.take(page, "proposal")
    confirm.click()
    page.get_by_text("Course booked").wait_for()
    shots.take(page, "course")

    # Move the third dosing session by two days; its integration session moves with it.
    third = page.locator(".tl-row-dosing").nth(2)
    integration_before = third.locator(".tl-card-integration .tl-when").inner_text()
    third.locator(".tl-card-dosing a").click()
    page.get_by_role("link", name="Move…").click()
    day = page.get_by_label("New day")
    moved_to = (dt.date.fromisoformat(day.input_value()) + dt.timedelta(days=2)).isoformat()
    day.fill(moved_to)
    shots.take(page, "move")
    page.get_by_role("button", name="Preview the move").click()
    page.get_by_text("its integration session follows").first.wait_for()
    shots.take(page, "move-preview")
    page.get_by_role("button", name="Apply the move").click()
    page.get_by_text(re.compile(r"Moved \d+ appointments")).wait_for()
    shots.take(page, "moved")
    page.get_by_role("link", name="Course").click()
    third = page.locator(".tl-row-dosing").nth(2)
    integration_after = third.locator(".tl-card-integration .tl-when").inner_text()
    assert integration_after != integration_before
    therapist = third.locator(".tl-card-integration .tl-what").nth(1).inner_text().split(" · ")[-1]
    shots.take(page, "course-after-move")
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, live_server, demo_email(therapist.strip()), shots)
    page.goto(f"{live_server.url}/my/week?date={moved_to}")
    card = page.locator("a.appt", has_text="Owen Klein")
    card.first.wait_for()
    assert "Integration" in card.first.inner_text()
    shots.take(page, "therapist-week")
