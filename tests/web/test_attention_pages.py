"""Deliverables 4 and 5 of issue 9 on the pages: an admin's change of clinic data shows the
sessions it would break first (refuse, re-plan or flag), and the front desk's "Needs
attention" list, the day and week views and the appointment page show each flag, with a
one-click re-plan with its pair (preview, then apply)."""

from __future__ import annotations

import datetime as dt
import html
import re
from zoneinfo import ZoneInfo

from flask.testing import FlaskClient
from sqlalchemy import select

from scheduler.db import write_transaction
from scheduler.models import Appointment, AppointmentKind, AppointmentStatus, StaffMember

from .conftest import sign_in
from .test_course_pages import book_iv_course, iv  # noqa: F401 (the fixture)

PLAN = re.compile(r'name="plan" value="([^"]+)"')


def first_integration(session, course) -> Appointment:  # type: ignore[no-untyped-def]
    session.expire_all()
    return session.scalars(
        select(Appointment)
        .where(Appointment.course_id == course.id, Appointment.kind == AppointmentKind.INTEGRATION)
        .order_by(Appointment.starts_at)
    ).first()


def local_day(appointment: Appointment) -> dt.date:
    return appointment.starts_at.astimezone(ZoneInfo(appointment.location.timezone)).date()


def time_off_over(appointment: Appointment, **extra: str) -> dict[str, str]:
    day = local_day(appointment).isoformat()
    return {"starts_on": day, "ends_on": day, "reason": "Ill with flu", **extra}


def therapist_of(appointment: Appointment) -> int:
    return appointment.participants[0].staff_id


def admin_client(app, clinic) -> FlaskClient:  # type: ignore[no-untyped-def]
    client = app.test_client()
    sign_in(client, clinic.admin)
    return client


def flagged_scene(app, make, iv, session):  # type: ignore[no-untyped-def]  # noqa: F811
    """An IV course booked at the front desk, then the therapist of its first integration
    session falls ill that day and the admin saves it, flagging the session."""
    clinic, desk, course = book_iv_course(app, make, iv, session)
    integration = first_integration(session, course)
    admin = admin_client(app, clinic)
    saved = admin.post(
        f"/admin/staff/{therapist_of(integration)}/time-off",
        data=time_off_over(integration, on_conflict="flag"),
    )
    assert saved.status_code == 302, saved.get_data(as_text=True)[:2000]
    sign_in(desk, clinic.front_desk)
    return clinic, desk, course, first_integration(session, course)


def test_the_list_shows_a_flagged_session_with_its_reason(app, make, iv, session):  # noqa: F811
    clinic, desk, _course, integration = flagged_scene(app, make, iv, session)
    assert integration.attention_rule == "time_off"
    page = html.unescape(desk.get("/desk/attention").get_data(as_text=True))
    assert "1 session needs attention" in page
    assert f'data-appointment="{integration.id}"' in page
    assert "Needs attention" in page and "Staff time off" in page
    assert integration.attention_message in page
    assert "Integration 1 of 6" in page and clinic.patient.name in page
    assert "Re-plan with its pair" in page
    # The front desk's navigation counts it on every page.
    nav = desk.get(f"/patients/{clinic.patient.id}").get_data(as_text=True)
    assert re.search(r'class="nav-count">1<span class="visually-hidden"> session<', nav)
    # Another location's list is empty.
    other = make.location(name="Elsewhere")
    elsewhere = desk.get(f"/desk/attention?location={other.id}").get_data(as_text=True)
    assert "Nothing needs attention at Elsewhere" in elsewhere


def test_replan_preview_then_apply_moves_it_and_empties_the_list(app, make, iv, session):  # noqa: F811
    _clinic, desk, _course, integration = flagged_scene(app, make, iv, session)
    ill_day = local_day(integration)
    preview = desk.post(f"/desk/attention/{integration.id}/replan")
    text = html.unescape(preview.get_data(as_text=True))
    assert preview.status_code == 200, text[:3000]
    assert "would change" in text and f'data-appointment="{integration.id}"' in text
    assert "the flagged one" in text
    token = PLAN.search(text).group(1)  # type: ignore[union-attr]
    applied = desk.post(f"/desk/attention/{integration.id}/replan/apply", data={"plan": token})
    assert applied.status_code == 302 and applied.headers["Location"].startswith("/desk/attention")
    after = desk.get(applied.headers["Location"]).get_data(as_text=True)
    assert "Re-planned: " in after and "Nothing needs attention" in after
    assert 'class="nav-count"' not in after
    session.expire_all()
    moved = session.get(Appointment, integration.id)
    assert moved.attention_rule is None
    assert local_day(moved) != ill_day or therapist_of(moved) != therapist_of(integration)
    dose = session.get(Appointment, moved.paired_with_id)
    assert moved.starts_at > dose.ends_at
    # The same preview cannot be applied twice: a refusal is a message, not an error page.
    again = desk.post(f"/desk/attention/{integration.id}/replan/apply", data={"plan": token})
    assert again.status_code == 302
    assert "Nothing was changed" in html.unescape(
        desk.get("/desk/attention").get_data(as_text=True)
    )


def test_a_session_that_cannot_be_replanned_says_why(app, make, iv, session):  # noqa: F811
    _clinic, desk, _course, integration = flagged_scene(app, make, iv, session)
    with write_transaction(session):
        session.get(Appointment, integration.id).status = AppointmentStatus.COMPLETED
    refused = desk.post(f"/desk/attention/{integration.id}/replan")
    assert refused.status_code == 302
    page = html.unescape(desk.get(refused.headers["Location"]).get_data(as_text=True))
    assert "Cannot re-plan this session" in page


def test_day_week_and_appointment_pages_show_the_flag(app, make, iv, session):  # noqa: F811
    clinic, desk, _course, integration = flagged_scene(app, make, iv, session)
    day = local_day(integration).isoformat()
    page = html.unescape(
        desk.get(f"/desk/day?location={clinic.location.id}&date={day}").get_data(as_text=True)
    )
    card = page[page.index(f'data-appointment="{integration.id}"') :][:1500]
    assert "appt-flagged" in page and "Needs attention" in card and "Staff time off" in card
    therapist = session.get(StaffMember, therapist_of(integration))
    week = html.unescape(desk.get(f"/staff/{therapist.id}/week?date={day}").get_data(as_text=True))
    assert "Needs attention" in week and "Staff time off" in week
    shown = html.unescape(desk.get(f"/appointments/{integration.id}").get_data(as_text=True))
    assert "Needs attention: Staff time off" in shown
    assert integration.attention_message in shown and "Re-plan with its pair" in shown


def test_time_off_over_a_booked_session_shows_its_impact_and_keeps_the_input(
    app,
    make,
    iv,  # noqa: F811
    session,
):
    clinic, _desk, course = book_iv_course(app, make, iv, session)
    integration = first_integration(session, course)
    admin = admin_client(app, clinic)
    url = f"/admin/staff/{therapist_of(integration)}/time-off"
    refused = admin.post(url, data=time_off_over(integration))
    page = html.unescape(refused.get_data(as_text=True))
    assert refused.status_code == 422
    assert "This change touches 1 session of 1 patient" in page
    assert f'data-appointment="{integration.id}"' in page and "Staff time off" in page
    day = local_day(integration).isoformat()
    assert f'value="{day}"' in page and 'value="Ill with flu"' in page
    assert 'name="on_conflict" value="replan"' in page and 'name="on_conflict" value="flag"' in page
    session.expire_all()
    assert session.get(StaffMember, therapist_of(integration)).time_off == []
    assert first_integration(session, course).attention_rule is None

    flagged = admin.post(url, data=time_off_over(integration, on_conflict="flag"))
    assert flagged.status_code == 302
    assert "Needs attention" in admin.get(flagged.headers["Location"]).get_data(as_text=True)
    session.expire_all()
    assert len(session.get(StaffMember, therapist_of(integration)).time_off) == 1
    assert first_integration(session, course).attention_rule == "time_off"


def test_time_off_with_replan_moves_the_session_with_its_pair(app, make, iv, session):  # noqa: F811
    clinic, _desk, course = book_iv_course(app, make, iv, session)
    integration = first_integration(session, course)
    ill_day = local_day(integration)
    admin = admin_client(app, clinic)
    url = f"/admin/staff/{therapist_of(integration)}/time-off"
    replanned = admin.post(url, data=time_off_over(integration, on_conflict="replan"))
    assert replanned.status_code == 302, replanned.get_data(as_text=True)[:3000]
    session.expire_all()
    moved = session.get(Appointment, integration.id)
    assert moved.attention_rule is None
    assert local_day(moved) != ill_day or therapist_of(moved) != therapist_of(integration)
    assert len(session.get(StaffMember, therapist_of(integration)).time_off) == 1
    flags = session.scalars(select(Appointment).where(Appointment.attention_rule.is_not(None)))
    assert flags.all() == []


def test_a_room_taken_out_of_service_shows_its_impact(app, make, iv, session):  # noqa: F811
    clinic, _desk, course = book_iv_course(app, make, iv, session)
    dose = session.scalars(
        select(Appointment)
        .where(Appointment.course_id == course.id, Appointment.kind == AppointmentKind.DOSING)
        .order_by(Appointment.starts_at)
    ).first()
    admin = admin_client(app, clinic)
    room = dose.room
    data = {"name": room.name, "kind": room.kind.value}  # "active" unticked: out of service
    refused = admin.post(f"/admin/rooms/{room.id}", data=data)
    page = html.unescape(refused.get_data(as_text=True))
    assert refused.status_code == 422 and "This change touches" in page
    assert f'value="{room.name}"' in page
    session.expire_all()
    assert session.get(type(room), room.id).active is True
