"""Findings 5 and 6 of issue 9 on the pages: cancelling a dose asks what becomes of its
integration session, as the API does, and a cancelled dose keeps its number ("5 of 6
(cancelled)") on the course page and every appointment page."""

from __future__ import annotations

import html

from sqlalchemy import select

from scheduler.models import Appointment

from .test_course_pages import book_iv_course, iv  # noqa: F401 (the fixture)


def course_sessions(session, course) -> dict[str, Appointment]:  # type: ignore[no-untyped-def]
    session.expire_all()
    rows = session.scalars(select(Appointment).where(Appointment.course_id == course.id)).all()
    return {f"{a.step_key}-{a.sequence}": a for a in rows}


def test_page_cancel_of_a_dose_needs_a_choice_for_its_integration(app, make, iv, session):  # noqa: F811
    _clinic, client, course = book_iv_course(app, make, iv, session)
    dose = course_sessions(session, course)["dosing-5"]
    page = client.get(f"/appointments/{dose.id}").get_data(as_text=True)
    assert "Its integration session" in page and "Choose…" in page
    client.post(f"/appointments/{dose.id}/cancel", data={"reason": "Unwell"})
    after = client.get(f"/appointments/{dose.id}").get_data(as_text=True)
    assert "Say whether its integration session stays or is cancelled too" in html.unescape(after)
    assert course_sessions(session, course)["dosing-5"].status.value == "scheduled"

    client.post(f"/appointments/{dose.id}/cancel", data={"reason": "Unwell", "pair": "keep"})
    sessions = course_sessions(session, course)
    assert sessions["dosing-5"].status.value == "cancelled"
    assert sessions["integration-5"].status.value == "scheduled"


def test_numbering_after_cancelling_dose_5_of_6_on_the_pages(app, make, iv, session):  # noqa: F811
    _clinic, client, course = book_iv_course(app, make, iv, session)
    sessions = course_sessions(session, course)
    client.post(
        f"/appointments/{sessions['dosing-5'].id}/cancel", data={"reason": "Unwell", "pair": "keep"}
    )
    page = html.unescape(client.get(f"/courses/{course.id}").get_data(as_text=True))
    for n in (1, 2, 3, 4, 6):
        assert f"Dosing {n} of 6" in page
    assert "Dosing 5 of 6 (cancelled)" in page
    assert "of 5" not in page
    assert page.count("Integration ") >= 6 and "Integration 5 of 6" in page
    third = client.get(f"/appointments/{sessions['dosing-3'].id}").get_data(as_text=True)
    assert "Dosing 3 of 6" in html.unescape(third)
    integration = client.get(f"/appointments/{sessions['integration-5'].id}").get_data(as_text=True)
    # The integration session's page shows its dose as the cancelled fifth of six.
    assert "Integration 5 of 6" in html.unescape(integration)
    assert "Dosing 5 of 6 (cancelled)" in html.unescape(integration)


def test_rebook_a_missed_dose_on_the_course_page_delivers_six_again(app, make, iv, session):  # noqa: F811
    _clinic, client, course = book_iv_course(app, make, iv, session)
    dose = course_sessions(session, course)["dosing-5"]
    client.post(f"/appointments/{dose.id}/cancel", data={"reason": "Unwell", "pair": "keep"})
    page = html.unescape(client.get(f"/courses/{course.id}").get_data(as_text=True))
    assert "Rebook this dose" in page
    response = client.post(f"/courses/{course.id}/rebook", data={"appointment_id": dose.id})
    assert response.status_code == 302
    page = html.unescape(client.get(f"/courses/{course.id}").get_data(as_text=True))
    assert "Replacement booked with its pair" in page
    assert "Dosing 5 of 6 (cancelled)" in page
    assert page.count("Dosing 5 of 6") == 2  # the cancelled one and its replacement
    assert "Rebook this dose" not in page
    live = [
        a
        for a in course_sessions_all(session, course)
        if a.kind.value == "dosing" and a.status.value != "cancelled"
    ]
    assert len(live) == 6


def course_sessions_all(session, course) -> list[Appointment]:  # type: ignore[no-untyped-def]
    session.expire_all()
    return list(session.scalars(select(Appointment).where(Appointment.course_id == course.id)))
