"""Appointments through the API: booking, listing, reading, moving, cancelling, progressing."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select

from scheduler.models import Appointment, AppointmentKind, AuditEntry, RoomKind, StaffPart
from tests.clients import TOMORROW, booking


def test_book_returns_utc_and_local_times(api, clinic, at):
    response = api.post(
        "/api/appointments", role="front_desk", json=booking(clinic, at(9), internal_note="IV 2")
    )
    assert response.status_code == 201
    body = response.json
    assert body["starts_at"] == "2026-03-03T14:00:00+00:00"
    assert body["ends_at"] == "2026-03-03T15:40:00+00:00"
    assert body["local_starts_at"] == "2026-03-03T09:00:00-05:00"
    assert body["local_ends_at"] == "2026-03-03T10:40:00-05:00"
    assert body["timezone"] == "America/New_York"
    assert body["status"] == "scheduled" and body["revision"] == 1
    assert body["location_id"] == clinic.location.id  # from the room
    assert body["staff"] == [
        {
            "staff_id": clinic.clinician.id,
            "name": "Casey Clinician",
            "part": "evaluating_clinician",
        }
    ]
    assert body["uid"].endswith("@clinic-scheduler")
    assert body["internal_note"] == "IV 2"
    assert body["course_id"] is None and body["paired_with_id"] is None


def test_end_can_be_given_instead_of_duration(api, clinic, at):
    body = booking(clinic, at(9), ends_at=at(10, 30))
    del body["duration_minutes"]
    response = api.post("/api/appointments", json=body)
    assert response.status_code == 201
    assert response.json["local_ends_at"] == "2026-03-03T10:30:00-05:00"


def test_offsets_other_than_utc_are_converted(api, clinic):
    response = api.post("/api/appointments", json=booking(clinic, "2026-03-03T15:00:00+01:00"))
    assert response.status_code == 201
    assert response.json["starts_at"] == "2026-03-03T14:00:00+00:00"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"starts_at": "2026-03-03T09:00:00"}, "starts_at"),  # naive
        ({"starts_at": "tomorrow at nine"}, "starts_at"),
        ({"starts_at": "9999-12-31T23:59:59+00:00"}, "starts_at"),
        ({"starts_at": "2026-03-01T09:00:00-05:00"}, "starts_at"),  # in the past
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"duration_minutes": 10**30}, "duration_minutes"),
        ({"duration_minutes": "100"}, "duration_minutes"),
        ({"ends_at": "2026-03-03T10:00:00-05:00"}, "duration_minutes"),  # both given
        ({"patient_id": 424242}, "patient_id"),
        ({"patient_id": 2**31}, "patient_id"),
        ({"patient_id": -1}, "patient_id"),
        ({"room_id": 424242}, "room_id"),
        ({"location_id": 424242}, "location_id"),
        ({"staff": [{"staff_id": 424242, "part": "administering_clinician"}]}, "staff"),
        ({"staff": [{"staff_id": 1, "part": "anesthetist"}]}, "staff"),
        ({"kind": "massage"}, "kind"),
        ({"buffer_minutes": 241}, "buffer_minutes"),
        ({"internal_note": "x" * 5001}, "internal_note"),
        ({"uid": "mine"}, "uid"),
    ],
)
def test_invalid_bookings_are_422_naming_the_field(api, clinic, at, change, field, session):
    body = {**booking(clinic, at(9)), **change}
    if "ends_at" in change:
        body["duration_minutes"] = 60
    response = api.post("/api/appointments", json=body)
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]["json"]
    assert session.scalar(select(func.count()).select_from(Appointment)) == 0


def test_missing_end_is_422(api, clinic, at):
    body = booking(clinic, at(9))
    del body["duration_minutes"]
    response = api.post("/api/appointments", json=body)
    assert response.status_code == 422
    assert "duration_minutes" in response.json["errors"]["json"]


@pytest.mark.parametrize(
    ("hour", "overrides", "rule"),
    [
        (9, {}, "overlap"),
        (17, {}, "opening_hours"),
        (11, {"room_id": "chair"}, "room_kind"),
        (11, {"staff": []}, "staff_role"),
    ],
)
def test_broken_booking_rules_are_409_naming_the_rule(api, clinic, make, at, hour, overrides, rule):
    make.appointment(
        clinic, kind=AppointmentKind.EVALUATION, start=make.local(clinic.location, TOMORROW, 9)
    )
    if overrides.get("room_id") == "chair":
        overrides = {"room_id": clinic.chair.id}
    response = api.post("/api/appointments", json=booking(clinic, at(hour), **overrides))
    assert response.status_code == 409
    assert response.json["rule"] == rule
    assert response.json["code"] == 409 and response.json["message"]
    if rule == "overlap":
        assert {c["resource"] for c in response.json["conflicts"]} == {"patient", "room", "staff"}
        assert "Avery" not in response.json["message"]


def test_list_filters_and_paging(api, clinic, make, at):
    first = make.appointment(clinic, start=make.local(clinic.location, TOMORROW, 8))
    therapy = make.room(clinic.location, RoomKind.THERAPY_ROOM)
    second = make.appointment(
        clinic,
        kind=AppointmentKind.INTEGRATION,
        room=therapy,
        staff=[(clinic.therapist, StaffPart.THERAPIST)],
        start=make.local(clinic.location, TOMORROW, 14),
        minutes=50,
    )

    def ids(query: str) -> list[int]:
        response = api.get(f"/api/appointments{query}")
        assert response.status_code == 200, response.json
        return [a["id"] for a in response.json]

    assert ids("") == [first.id, second.id]
    assert ids(f"?staff_id={clinic.therapist.id}") == [second.id]
    assert ids(f"?room_id={clinic.chair.id}") == [first.id]
    assert ids(f"?patient_id={clinic.patient.id}&kind=dosing") == [first.id]
    assert ids(f"?location_id={clinic.location.id}&status=scheduled") == [first.id, second.id]
    assert ids("?status=cancelled") == []
    window = f"?from={at(12).replace('+', '%2B')}&to={at(18).replace('+', '%2B')}"
    assert ids(window) == [second.id]
    page = api.get("/api/appointments?page_size=1&page=2")
    assert [a["id"] for a in page.json] == [second.id]
    assert json.loads(page.headers["X-Pagination"])["total"] == 2
    assert api.get("/api/appointments?from=2026-03-03T09:00:00").status_code == 422
    reversed_window = f"?from={at(18).replace('+', '%2B')}&to={at(12).replace('+', '%2B')}"
    assert api.get(f"/api/appointments{reversed_window}").status_code == 422
    assert api.get("/api/appointments?colour=red").status_code == 422


def test_clinicians_list_only_what_they_may_see(api, clinic, make):
    mine = make.appointment(clinic)
    assert [a["id"] for a in api.get("/api/appointments", role="clinician").json] == [mine.id]
    assert api.get("/api/appointments", role="therapist").json == []
    assert api.get(f"/api/appointments/{mine.id}", role="therapist").status_code == 404


def test_reschedule_keeps_the_uid_and_bumps_the_revision(api, clinic, make, at, session):
    booked = make.appointment(clinic, start=make.local(clinic.location, TOMORROW, 9))
    other_chair = make.room(clinic.location, RoomKind.INFUSION_CHAIR, "Chair 2")
    response = api.patch(
        f"/api/appointments/{booked.id}",
        role="front_desk",
        json={"starts_at": at(13), "room_id": other_chair.id, "revision": 1},
    )
    assert response.status_code == 200, response.json
    body = response.json
    assert body["uid"] == booked.uid and body["revision"] == 2
    assert body["local_starts_at"] == "2026-03-03T13:00:00-05:00"
    assert body["local_ends_at"] == "2026-03-03T14:40:00-05:00"  # duration kept
    assert body["room_id"] == other_chair.id

    stale = api.patch(f"/api/appointments/{booked.id}", json={"starts_at": at(9), "revision": 1})
    assert stale.status_code == 409 and stale.json["rule"] == "revision"

    shorter = api.patch(f"/api/appointments/{booked.id}", json={"duration_minutes": 60})
    assert shorter.json["local_ends_at"] == "2026-03-03T14:00:00-05:00"
    assert shorter.json["revision"] == 3
    actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions.count("appointment.reschedule") == 2


def test_reschedule_into_a_conflict_changes_nothing(api, clinic, make, at):
    # Evaluations: two doses of one patient that day would break the dosing interval anyway.
    evaluation = AppointmentKind.EVALUATION
    make.appointment(clinic, kind=evaluation, start=make.local(clinic.location, TOMORROW, 9))
    later = make.appointment(
        clinic, kind=evaluation, start=make.local(clinic.location, TOMORROW, 13)
    )
    response = api.patch(f"/api/appointments/{later.id}", json={"starts_at": at(10)})
    assert response.status_code == 409 and response.json["rule"] == "overlap"
    again = api.get(f"/api/appointments/{later.id}").json
    assert again["revision"] == 1 and again["local_starts_at"].startswith("2026-03-03T13:00")


def test_change_staff(api, clinic, make):
    booked = make.appointment(clinic)
    colleague = make.staff(roles=["clinician"], location=clinic.location, name="Kim Clinician")
    response = api.patch(
        f"/api/appointments/{booked.id}",
        json={"staff": [{"staff_id": colleague.id, "part": "administering_clinician"}]},
    )
    assert response.status_code == 200
    assert response.json["staff"][0]["name"] == "Kim Clinician"
    wrong_role = api.patch(
        f"/api/appointments/{booked.id}",
        json={"staff": [{"staff_id": clinic.therapist.id, "part": "administering_clinician"}]},
    )
    assert wrong_role.status_code == 409 and wrong_role.json["rule"] == "staff_role"


def test_cancel_needs_a_reason_and_frees_the_slot(api, clinic, make, at):
    booked = make.appointment(clinic, start=make.local(clinic.location, TOMORROW, 9))
    no_reason = api.post(f"/api/appointments/{booked.id}/cancel", json={"reason": "   "})
    assert no_reason.status_code == 422 and "reason" in no_reason.json["errors"]["json"]
    cancelled = api.post(f"/api/appointments/{booked.id}/cancel", json={"reason": "Unwell"})
    assert cancelled.status_code == 200
    assert cancelled.json["status"] == "cancelled" and cancelled.json["cancel_reason"] == "Unwell"
    assert cancelled.json["uid"] == booked.uid and cancelled.json["revision"] == 2
    twice = api.post(f"/api/appointments/{booked.id}/cancel", json={"reason": "Again"})
    assert twice.status_code == 409 and twice.json["rule"] == "status"
    moved = api.patch(f"/api/appointments/{booked.id}", json={"starts_at": at(13)})
    assert moved.status_code == 409
    assert api.post("/api/appointments", json=booking(clinic, at(9))).status_code == 201


def test_progress_through_the_day(app, api, clinic, make, now):
    today = now.date()  # 02:00 in New York: the appointment at 09:00 is later today
    booked = make.appointment(clinic, start=make.local(clinic.location, today, 9))
    path = f"/api/appointments/{booked.id}"
    assert api.post(f"{path}/complete").status_code == 409  # not checked in yet
    assert api.post(f"{path}/confirm").json["status"] == "confirmed"
    assert api.post(f"{path}/confirm").status_code == 409
    checked_in = api.post(f"{path}/check-in", role="front_desk")
    assert checked_in.status_code == 200 and checked_in.json["status"] == "checked_in"
    done = api.post(f"{path}/complete")
    assert done.json["status"] == "completed" and done.json["revision"] == 4


def test_check_in_only_on_the_day_and_no_show_only_after_the_start(app, api, clinic, make, now):
    tomorrow = make.appointment(clinic, start=make.local(clinic.location, TOMORROW, 9))
    early = api.post(f"/api/appointments/{tomorrow.id}/check-in")
    assert early.status_code == 409 and early.json["rule"] == "check_in_day"
    today = make.appointment(
        clinic, kind=AppointmentKind.EVALUATION, start=make.local(clinic.location, now.date(), 9)
    )
    too_soon = api.post(f"/api/appointments/{today.id}/no-show")
    assert too_soon.status_code == 409 and too_soon.json["rule"] == "no_show_time"
    app.config["CLOCK"] = lambda: today.starts_at + dt.timedelta(minutes=20)
    assert api.post(f"/api/appointments/{today.id}/no-show").json["status"] == "no_show"


def test_unknown_appointment_is_404(api):
    for method, suffix in [("GET", ""), ("PATCH", ""), ("POST", "/cancel"), ("POST", "/confirm")]:
        body = {"reason": "x"} if suffix == "/cancel" else {}
        assert api.call(method, f"/api/appointments/999{suffix}", json=body).status_code == 404
        huge = api.call(method, f"/api/appointments/{10**20}{suffix}", json=body)
        assert huge.status_code == 404


def test_internal_note_goes_to_staff_who_may_see_the_patient(api, clinic, make, session):
    booked = make.appointment(clinic)
    booked.internal_note = "Needs a smaller cannula"
    session.commit()
    assert api.get(f"/api/appointments/{booked.id}", role="clinician").json["internal_note"] == (
        "Needs a smaller cannula"
    )
    assert api.get(f"/api/appointments/{booked.id}").json["internal_note"] == (
        "Needs a smaller cannula"
    )
