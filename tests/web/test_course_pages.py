"""Starting a course from the planner's proposal: plan, other times, swap, confirm (atomic),
and a fresh proposal when something was taken meanwhile. Then the course page."""

from __future__ import annotations

import datetime as dt
import html
import json
import re

import pytest
from sqlalchemy import select

from scheduler.audit import Action
from scheduler.db import write_transaction
from scheduler.models import Appointment, Course, Protocol
from scheduler.protocols import seed_protocols

from .conftest import sign_in

HIDDEN = re.compile(r'name="(request|proposal)" value="([^"]*)"')


@pytest.fixture
def iv(session, now):  # type: ignore[no-untyped-def]
    with write_transaction(session):
        seed_protocols(session, Action("test", None, now))
    return session.scalars(select(Protocol).where(Protocol.name.like("IV ketamine%"))).one()


def plan_form(clinic, protocol, **extra):  # type: ignore[no-untyped-def]
    return {
        "protocol_id": protocol.id,
        "location_id": clinic.location.id,
        "earliest": "2026-03-03",
        "telehealth_ok": "y",
        "clinician_id": "0",
        "therapist_id": "0",
        **extra,
    }


def hidden(page: str) -> dict[str, str]:
    return {name: html.unescape(value) for name, value in HIDDEN.findall(page)}


def proposal_of(page: str) -> dict[str, dict]:  # type: ignore[type-arg]
    return json.loads(hidden(page)["proposal"])


def test_plan_swap_and_book_a_course(app, make, iv, session):
    clinic = make.clinic()
    client = app.test_client()
    sign_in(client, clinic.front_desk)
    form = client.get(f"/patients/{clinic.patient.id}/courses/new").get_data(as_text=True)
    assert "IV ketamine induction series" in form and "Propose a schedule" in form

    response = client.post(
        f"/patients/{clinic.patient.id}/courses/plan", data=plan_form(clinic, iv)
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page[:2000]
    proposal = proposal_of(page)
    assert len(proposal) == 13 and "Confirm and book 13 appointments" in page
    assert page.count('class="tl-row tl-row-dosing"') == 6
    # Each dosing row shows its integration session beside it.
    assert page.count("h after") >= 6

    dosing = sorted(k for k in proposal if k.startswith("dosing"))[2]
    offered = client.post(
        f"/patients/{clinic.patient.id}/courses/alternatives",
        data={**hidden(page), "key": dosing},
    ).get_data(as_text=True)
    slots = re.findall(r'name="slot" value="([^"]*)"', offered)
    assert slots, "other times are offered"
    swapped = client.post(
        f"/patients/{clinic.patient.id}/courses/swap",
        data={**hidden(offered), "key": dosing, "slot": html.unescape(slots[0])},
    ).get_data(as_text=True)
    after = proposal_of(swapped)
    chosen = json.loads(html.unescape(slots[0]))
    assert after[dosing]["starts_at"] == chosen["starts_at"]
    assert "is-changed" in swapped

    booked = client.post(f"/patients/{clinic.patient.id}/courses/book", data=hidden(swapped))
    assert booked.status_code == 302, booked.get_data(as_text=True)[:2000]
    course = session.scalars(select(Course)).one()
    assert booked.headers["Location"] == f"/courses/{course.id}"
    appointments = session.scalars(
        select(Appointment).where(Appointment.course_id == course.id)
    ).all()
    assert len(appointments) == 13
    moved = next(
        a
        for a in appointments
        if a.starts_at.isoformat()
        == dt.datetime.fromisoformat(chosen["starts_at"]).astimezone(dt.UTC).isoformat()
    )
    assert moved.kind.value == "dosing"
    page = client.get(f"/courses/{course.id}").get_data(as_text=True)
    assert "IV ketamine induction series" in page and "Dosing 3 of 6" in page
    assert client.get(f"/courses/{course.id}.ics").mimetype == "text/calendar"


def test_a_slot_taken_meanwhile_books_nothing_and_shows_a_fresh_proposal(app, make, iv, session):
    clinic = make.clinic()
    client = app.test_client()
    sign_in(client, clinic.front_desk)
    page = client.post(
        f"/patients/{clinic.patient.id}/courses/plan", data=plan_form(clinic, iv)
    ).get_data(as_text=True)
    proposal = proposal_of(page)
    first = min(
        (k for k in proposal if k.startswith("dosing")), key=lambda k: proposal[k]["starts_at"]
    )
    start = dt.datetime.fromisoformat(proposal[first]["starts_at"])
    make.appointment(clinic, start=start, patient=make.patient())  # someone takes the chair
    response = client.post(f"/patients/{clinic.patient.id}/courses/book", data=hidden(page))
    text = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Some times were taken meanwhile" in text and "Double booking" in text
    assert session.scalars(select(Course)).first() is None
    fresh = proposal_of(text)
    assert fresh[first]["starts_at"] != proposal[first]["starts_at"]


def test_no_plan_says_why_and_offers_alternatives(app, make, iv):
    clinic = make.clinic()
    client = app.test_client()
    sign_in(client, clinic.front_desk)
    response = client.post(
        f"/patients/{clinic.patient.id}/courses/plan",
        data=plan_form(clinic, iv, weekdays=["5"]),  # Saturdays only: the clinic is closed
    )
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "No complete schedule fits" in text and "Confirm and book" not in text


def test_bad_form_input_is_a_422_form(app, make, iv):
    clinic = make.clinic()
    client = app.test_client()
    sign_in(client, clinic.front_desk)
    response = client.post(
        f"/patients/{clinic.patient.id}/courses/plan",
        data=plan_form(clinic, iv, earliest_time="15:00", latest_time="09:00"),
    )
    assert response.status_code == 422
    assert "Must be after" in response.get_data(as_text=True)


def book_iv_course(app, make, iv, session):  # type: ignore[no-untyped-def]
    clinic = make.clinic()
    client = app.test_client()
    sign_in(client, clinic.front_desk)
    page = client.post(
        f"/patients/{clinic.patient.id}/courses/plan", data=plan_form(clinic, iv)
    ).get_data(as_text=True)
    assert (
        client.post(f"/patients/{clinic.patient.id}/courses/book", data=hidden(page)).status_code
        == 302
    )
    course = session.scalars(select(Course)).one()
    return clinic, client, course


def test_moving_a_dosing_session_moves_its_integration_session(app, make, iv, session):
    _clinic, client, course = book_iv_course(app, make, iv, session)
    appointments = session.scalars(
        select(Appointment)
        .where(Appointment.course_id == course.id)
        .order_by(Appointment.starts_at)
    ).all()
    third = [a for a in appointments if a.kind.value == "dosing"][2]
    pair = next(a for a in appointments if a.paired_with_id == third.id)
    pair_start = pair.starts_at
    url = f"/appointments/{third.id}/move"
    form = client.get(url).get_data(as_text=True)
    assert "Preview the move" in form
    local = third.starts_at.astimezone(dt.timezone(dt.timedelta(hours=-5)))  # New York, March
    later = local + dt.timedelta(days=2)
    preview = client.post(
        url, data={"day": later.date().isoformat(), "time": later.strftime("%H:%M"), "room_id": "0"}
    )
    text = preview.get_data(as_text=True)
    assert preview.status_code == 200, text[:3000]
    assert "the one you moved" in text and "its integration session follows" in text
    assert f'data-appointment="{pair.id}"' in text
    token = re.search(r'name="plan" value="([^"]+)"', text).group(1)
    applied = client.post(url + "/apply", data={"plan": html.unescape(token)})
    assert applied.status_code == 302
    session.expire_all()
    moved = session.get(Appointment, third.id)
    assert moved.starts_at.astimezone(later.tzinfo).date() == later.date()
    assert session.get(Appointment, pair.id).starts_at > pair_start
    assert "Moved" in client.get(f"/appointments/{third.id}").get_data(as_text=True)
    # The same preview cannot be applied twice: the course changed since.
    again = client.post(url + "/apply", data={"plan": html.unescape(token)})
    assert again.status_code == 302 and again.headers["Location"].endswith("/move")


def test_an_impossible_move_says_why(app, make, iv, session):
    _clinic, client, course = book_iv_course(app, make, iv, session)
    first = session.scalars(
        select(Appointment)
        .where(Appointment.course_id == course.id, Appointment.kind == "dosing")
        .order_by(Appointment.starts_at)
    ).first()
    response = client.post(
        f"/appointments/{first.id}/move",
        data={"day": "2026-03-07", "time": "03:00", "room_id": "0"},
    )
    assert response.status_code == 422
    assert "This move is not possible" in response.get_data(as_text=True)


def test_cancelling_a_dosing_session_can_take_its_integration_session_along(app, make, iv, session):
    _clinic, client, course = book_iv_course(app, make, iv, session)
    dosing = session.scalars(
        select(Appointment)
        .where(Appointment.course_id == course.id, Appointment.kind == "dosing")
        .order_by(Appointment.starts_at.desc())
    ).first()
    pair = session.scalars(select(Appointment).where(Appointment.paired_with_id == dosing.id)).one()
    page = client.get(f"/appointments/{dosing.id}").get_data(as_text=True)
    assert "Its integration session" in page
    client.post(
        f"/appointments/{dosing.id}/cancel",
        data={"reason": "Blood pressure too high", "pair": "cancel"},
    )
    session.expire_all()
    assert session.get(Appointment, dosing.id).status.value == "cancelled"
    assert session.get(Appointment, pair.id).status.value == "cancelled"


def test_cancelling_a_course_cancels_what_is_to_come(app, make, iv, session):
    _clinic, client, course = book_iv_course(app, make, iv, session)
    assert "Cancel this course" in client.get(f"/courses/{course.id}").get_data(as_text=True)
    client.post(f"/courses/{course.id}/cancel", data={"reason": ""})
    session.expire_all()
    assert session.get(Course, course.id).status.value == "active"
    client.post(f"/courses/{course.id}/cancel", data={"reason": "Patient moved away"})
    session.expire_all()
    assert session.get(Course, course.id).status.value == "cancelled"
    statuses = set(
        session.scalars(select(Appointment.status).where(Appointment.course_id == course.id))
    )
    assert {s.value for s in statuses} == {"cancelled"}
    assert "Patient moved away" in client.get(f"/courses/{course.id}").get_data(as_text=True)


def test_care_staff_read_their_patients_course_but_cannot_change_it(app, make, iv, session):
    clinic, _client, course = book_iv_course(app, make, iv, session)
    therapist = app.test_client()
    sign_in(therapist, clinic.therapist)
    assert therapist.get(f"/courses/{course.id}").status_code == 200
    assert therapist.post(f"/courses/{course.id}/cancel", data={"reason": "x"}).status_code == 403
    assert therapist.get(f"/patients/{clinic.patient.id}/courses/new").status_code == 403
    stranger = make.staff([clinic.therapist.roles.pop()], clinic.location)
    other = app.test_client()
    sign_in(other, stranger)
    assert other.get(f"/courses/{course.id}").status_code == 404


def test_moving_a_single_appointment_outside_a_course(app, scene, session):
    client = app.test_client()
    sign_in(client, scene.clinic.front_desk)
    url = f"/appointments/{scene.integration.id}/move"
    preview = client.post(url, data={"day": "2026-03-05", "time": "14:00", "room_id": "0"})
    text = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "the one you moved" in text
    token = re.search(r'name="plan" value="([^"]+)"', text).group(1)
    assert client.post(url + "/apply", data={"plan": html.unescape(token)}).status_code == 302
    session.expire_all()
    moved = session.get(Appointment, scene.integration.id)
    assert moved.starts_at == dt.datetime(2026, 3, 5, 19, tzinfo=dt.UTC)  # 14:00 in New York
    assert moved.revision == 2 and moved.uid == scene.integration.uid
    forged = client.post(url + "/apply", data={"plan": "not-a-token"})
    assert forged.status_code == 302 and forged.headers["Location"].endswith("/move")
