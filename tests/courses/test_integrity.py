"""Findings 4, 5 and 7 of the integrity review: what happens after booking keeps every rule,
or flags the session that breaks one, and ``GET /api/attention`` lists each flag."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from scheduler.audit import Action
from scheduler.booking import cancel_appointment
from scheduler.db import write_transaction
from scheduler.integrity import Scope, find_violations
from scheduler.models import Appointment, AppointmentKind, AppointmentStatus, Course, CourseStatus

from .helpers import book


def _flags(session) -> dict[int, str]:
    session.expire_all()
    return dict(
        session.execute(
            select(Appointment.id, Appointment.attention_rule).where(
                Appointment.attention_rule.is_not(None)
            )
        ).all()
    )


def _unflagged(session, now: dt.datetime) -> list[Any]:
    flagged = _flags(session)
    return [
        v
        for v in find_violations(session, Scope(everything=True), now)
        if v.appointment_id not in flagged
    ]


def _first(booked: list[Appointment], kind: AppointmentKind) -> Appointment:
    return min((a for a in booked if a.kind == kind), key=lambda a: a.starts_at)


def _time_off_over(appointment: Appointment) -> dict[str, Any]:
    return {
        "time_off": [
            {
                "starts_at": (appointment.starts_at - dt.timedelta(hours=1)).isoformat(),
                "ends_at": (appointment.ends_at + dt.timedelta(hours=1)).isoformat(),
                "reason": "ill",
            }
        ]
    }


def test_clinic_data_changed_after_booking_time_off_is_refused_listing_sessions(
    api, session, course_clinic, now
):
    _, booked, _ = book(session, course_clinic, "IV", now)
    integration = _first(booked, AppointmentKind.INTEGRATION)
    therapist = integration.participants[0].staff_id
    response = api.patch(f"/api/staff/{therapist}", json=_time_off_over(integration))
    assert response.status_code == 409, response.json
    assert response.json["rule"] == "impact"
    listed = {s["appointment_id"]: s for s in response.json["sessions"]}
    assert listed[integration.id]["rule"] == "time_off"
    assert set(response.json["choices"]) == {"replan", "flag"}
    assert api.get(f"/api/staff/{therapist}").json["time_off"] == []


def test_clinic_data_changed_after_booking_time_off_flagged_then_listed_and_cleared(
    api, session, course_clinic, now, runner
):
    _, booked, _ = book(session, course_clinic, "IV", now)
    integration = _first(booked, AppointmentKind.INTEGRATION)
    therapist = integration.participants[0].staff_id
    body = {**_time_off_over(integration), "on_conflict": "flag"}
    assert api.patch(f"/api/staff/{therapist}", json=body).status_code == 200
    shown = api.get(f"/api/appointments/{integration.id}").json["needs_attention"]
    assert shown["rule"] == "time_off" and "is off" in shown["message"]
    listed = api.get("/api/attention", "front_desk").json
    assert [a["id"] for a in listed] == [integration.id]
    result = runner.invoke(args=["check-schedule"])
    assert result.exit_code == 0, result.output
    assert "flagged" in result.output
    # The time off is withdrawn: the session is valid again and its flag clears.
    assert api.patch(f"/api/staff/{therapist}", json={"time_off": []}).status_code == 200
    assert api.get(f"/api/appointments/{integration.id}").json["needs_attention"] is None
    assert api.get("/api/attention").json == []


def test_clinic_data_changed_after_booking_time_off_replans_with_pair_spacing(
    api, session, course_clinic, now
):
    _, booked, _ = book(session, course_clinic, "IV", now)
    integration = _first(booked, AppointmentKind.INTEGRATION)
    dose = session.get(Appointment, integration.paired_with_id)
    therapist = integration.participants[0].staff_id
    off = _time_off_over(integration)
    body = {**off, "on_conflict": "replan"}
    response = api.patch(f"/api/staff/{therapist}", json=body)
    assert response.status_code == 200, response.json
    session.expire_all()
    moved = session.get(Appointment, integration.id)
    start = dt.datetime.fromisoformat(off["time_off"][0]["starts_at"])
    end = dt.datetime.fromisoformat(off["time_off"][0]["ends_at"])
    away = moved.ends_at <= start or moved.starts_at >= end
    assert away or moved.participants[0].staff_id != therapist
    after = moved.starts_at - dose.ends_at
    assert dt.timedelta(hours=18) <= after <= dt.timedelta(hours=72)
    assert _unflagged(session, now) == [] and _flags(session) == {}


def test_clinic_data_changed_after_booking_closure_flags_sessions(api, session, course_clinic, now):
    _, booked, _ = book(session, course_clinic, "IV", now)
    dose = _first(booked, AppointmentKind.DOSING)
    location = course_clinic.clinic.location
    day = dose.starts_at.astimezone(ZoneInfo(location.timezone)).date()
    closure = {"closures": [{"starts_on": day.isoformat(), "ends_on": day.isoformat()}]}
    response = api.patch(f"/api/locations/{location.id}", json=closure)
    assert response.status_code == 409
    assert dose.id in {s["appointment_id"] for s in response.json["sessions"]}
    response = api.patch(f"/api/locations/{location.id}", json={**closure, "on_conflict": "flag"})
    assert response.status_code == 200
    assert _flags(session)[dose.id] == "closure"
    assert _unflagged(session, now) == []


@pytest.mark.parametrize("change", ["inactive", "kind"])
def test_clinic_data_changed_after_booking_room_out_of_service_flags_doses(
    api, session, course_clinic, now, change
):
    _, booked, _ = book(session, course_clinic, "IV", now)
    dose = _first(booked, AppointmentKind.DOSING)
    body: dict[str, Any] = {"active": False} if change == "inactive" else {"kind": "therapy_room"}
    response = api.patch(f"/api/rooms/{dose.room_id}", json=body)
    assert response.status_code == 409
    assert (
        api.patch(f"/api/rooms/{dose.room_id}", json={**body, "on_conflict": "flag"}).status_code
        == 200
    )
    assert _flags(session)[dose.id] == "room"
    assert _unflagged(session, now) == []


def test_clinic_data_changed_after_booking_clinician_role_removed_flags_doses(
    api, session, course_clinic, now
):
    _, booked, _ = book(session, course_clinic, "IV", now)
    dose = _first(booked, AppointmentKind.DOSING)
    clinician = dose.participants[0].staff_id
    body = {"roles": ["therapist"], "on_conflict": "flag"}
    assert api.patch(f"/api/staff/{clinician}", json=body).status_code == 200
    flags = _flags(session)
    assert flags[dose.id] == "staff_role"
    assert _unflagged(session, now) == []


def test_clinic_data_changed_after_booking_opening_hours_moved_flags_sessions(
    api, session, course_clinic, now
):
    _, booked, _ = book(session, course_clinic, "IV", now)
    location = course_clinic.clinic.location
    late = [{"weekday": d, "opens": "19:00", "closes": "20:00"} for d in range(7)]
    response = api.patch(f"/api/locations/{location.id}", json={"opening_hours": late})
    assert response.status_code == 409
    assert len(response.json["sessions"]) == len([a for a in booked if a.starts_at >= now])
    body = {"opening_hours": late, "on_conflict": "flag"}
    assert api.patch(f"/api/locations/{location.id}", json=body).status_code == 200
    assert set(_flags(session).values()) == {"opening_hours"}
    assert _unflagged(session, now) == []


def test_plain_cancel_of_the_evaluation_flags_the_first_dose(session, course_clinic, now):
    _, booked, _ = book(session, course_clinic, "IV", now)
    evaluation = _first(booked, AppointmentKind.EVALUATION)
    with write_transaction(session):
        cancel_appointment(session, evaluation, Action("cancel", None, now), "patient unwell")
    first_dose = _first(booked, AppointmentKind.DOSING)
    assert _flags(session) == {first_dose.id: "prerequisite"}
    assert _unflagged(session, now) == []


def test_plain_cancel_of_an_integration_flags_its_dose(session, course_clinic, now):
    _, booked, _ = book(session, course_clinic, "IV", now)
    integration = _first(booked, AppointmentKind.INTEGRATION)
    with write_transaction(session):
        cancel_appointment(session, integration, Action("cancel", None, now), "therapist away")
    assert _flags(session) == {integration.paired_with_id: "pair_missing"}
    assert _unflagged(session, now) == []


def test_gaps_over_the_maximum_after_cancelling_doses_are_flagged(session, course_clinic, now):
    _, booked, _ = book(session, course_clinic, "IV", now)
    doses = sorted(
        (a for a in booked if a.kind == AppointmentKind.DOSING), key=lambda a: a.starts_at
    )
    pairs = {a.paired_with_id: a for a in booked if a.paired_with_id}
    with write_transaction(session):
        for dose in doses[2:4]:
            cancel_appointment(session, pairs[dose.id], Action("c", None, now), "away")
            cancel_appointment(session, dose, Action("c", None, now), "away")
    flags = _flags(session)
    assert doses[4].starts_at - doses[1].ends_at > dt.timedelta(days=7)
    assert flags.get(doses[4].id) == "protocol"
    assert _unflagged(session, now) == []


def test_course_with_every_session_held_or_cancelled_completes_by_itself(
    session, course_clinic, now
):
    course, booked, _ = book(session, course_clinic, "Booster", now)
    with write_transaction(session):
        for appointment in sorted(booked, key=lambda a: a.starts_at, reverse=True):
            cancel_appointment(session, appointment, Action("c", None, now), "moving away")
    session.expire_all()
    assert session.get(Course, course.id).status == CourseStatus.COMPLETED
    statuses = {a.status for a in session.scalars(select(Appointment))}
    assert statuses == {AppointmentStatus.CANCELLED}


def test_check_schedule_fails_on_an_unflagged_violation(session, course_clinic, now, runner):
    _, booked, _ = book(session, course_clinic, "IV", now)
    dose = _first(booked, AppointmentKind.DOSING)
    # Data changed behind the product's back (a raw import): nothing flagged it.
    with write_transaction(session):
        dose.room.active = False
    result = runner.invoke(args=["check-schedule"])
    assert result.exit_code == 1
    assert f"UNFLAGGED appointment {dose.id}: [room]" in result.output
    # The admin's repair: bring the flags up to date, and the front desk sees the session.
    result = runner.invoke(args=["check-schedule", "--flag"])
    assert result.exit_code == 0, result.output
    assert f"flagged   appointment {dose.id}: [room]" in result.output
    assert _flags(session)[dose.id] == "room"


def _cancel_dose_keeping_integration(api, dose_id: int) -> None:
    body = {"reason": "flu", "keep_integration": True}
    response = api.post(f"/api/appointments/{dose_id}/cancel", "front_desk", json=body)
    assert response.status_code == 200, response.json


def test_rebook_a_missed_dose_with_its_pair_delivers_the_count_again(
    api, session, course_clinic, now
):
    course, booked, _ = book(session, course_clinic, "IV", now)
    doses = sorted(
        (a for a in booked if a.kind == AppointmentKind.DOSING), key=lambda a: a.sequence
    )
    _cancel_dose_keeping_integration(api, doses[4].id)
    body = {"appointment_id": doses[4].id}
    response = api.post(f"/api/courses/{course.id}/rebook", "front_desk", json=body)
    assert response.status_code == 201, response.json
    session.expire_all()
    live = [
        a
        for a in session.scalars(select(Appointment).where(Appointment.course_id == course.id))
        if a.status != AppointmentStatus.CANCELLED
    ]
    new_doses = sorted(a.sequence for a in live if a.kind == AppointmentKind.DOSING)
    assert new_doses == [1, 2, 3, 4, 6, 7]
    replacement = next(a for a in live if a.kind == AppointmentKind.DOSING and a.sequence == 7)
    pair = next(a for a in live if a.paired_with_id == replacement.id)
    assert dt.timedelta(hours=18) <= pair.starts_at - replacement.ends_at <= dt.timedelta(hours=72)
    assert replacement.replaces_id == doses[4].id == pair.replaces_id
    assert _unflagged(session, now) == []
    # Planned after dose 6, shown as dose 5: the course delivers 6 again.
    shown = api.get(f"/api/courses/{course.id}", "front_desk").json
    numbers = sorted(
        (a["number"], a["status"]) for a in shown["appointments"] if a["kind"] == "dosing"
    )
    assert numbers == [
        ("1 of 6", "scheduled"),
        ("2 of 6", "scheduled"),
        ("3 of 6", "scheduled"),
        ("4 of 6", "scheduled"),
        ("5 of 6", "scheduled"),
        ("5 of 6 (cancelled)", "cancelled"),
        ("6 of 6", "scheduled"),
    ]


def test_rebook_past_the_window_is_refused_then_extended_with_a_reason(
    api, session, course_clinic, now
):
    course, booked, _ = book(session, course_clinic, "IV", now)
    dose = max((a for a in booked if a.kind == AppointmentKind.DOSING), key=lambda a: a.sequence)
    _cancel_dose_keeping_integration(api, dose.id)
    late = (now + dt.timedelta(days=40)).isoformat()
    body: dict[str, Any] = {"appointment_id": dose.id, "earliest_start": late}
    response = api.post(f"/api/courses/{course.id}/rebook", "front_desk", json=body)
    assert response.status_code == 409, response.json
    assert response.json["rule"] == "rebook_window"
    assert response.json["possible_from"] >= late[:10]
    body["extend_window_reason"] = "Patient travelled; clinician agrees to finish the series"
    response = api.post(f"/api/courses/{course.id}/rebook", "front_desk", json=body)
    assert response.status_code == 201, response.json
    session.expire_all()
    extension = session.get(Course, course.id).exceptions[-1]
    assert extension["rule"] == "window" and extension["appointment_key"] == "dosing-7"
    assert _unflagged(session, now) == []
