"""The course API end to end, on both databases: plan and book every seeded protocol as the
front desk, move the third infusion by two days and watch what follows, and the rest."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select

from scheduler.models import Appointment, AuditEntry

from .helpers import meet_preconditions

WHO = "front_desk"


def _body(cc, prefix: str, **extra: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return {
        "patient_id": cc.clinic.patient.id,
        "location_id": cc.clinic.location.id,
        "protocol_id": cc.protocol(prefix).id,
        **extra,
    }


def _book(api, cc, prefix: str = "IV", **extra: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    response = api.post("/api/courses", WHO, json=_body(cc, prefix, **extra))
    assert response.status_code == 201, response.json
    return response.json  # type: ignore[no-any-return]


@pytest.mark.parametrize("prefix", ["IV", "IM", "Esketamine", "Booster"])
def test_plan_then_book_each_seeded_protocol(api, course_clinic, session, now, prefix):
    meet_preconditions(session, course_clinic, course_clinic.protocol(prefix), now)
    planned = api.post("/api/courses/plan", WHO, json=_body(course_clinic, prefix))
    assert planned.status_code == 200, planned.json
    proposal = planned.json
    assert proposal["complete"] and proposal["failure"] is None
    items = [
        {"key": a["key"], "starts_at": a["starts_at"], "room_id": a["room_id"], "staff": a["staff"]}
        for a in proposal["appointments"]
    ]
    for item in items:
        item["staff"] = [{"staff_id": s["staff_id"], "part": s["part"]} for s in item["staff"]]
    booked = api.post("/api/courses", WHO, json=_body(course_clinic, prefix, appointments=items))
    assert booked.status_code == 201, booked.json
    course = booked.json
    assert course["status"] == "active"
    assert course["progress"] == {"done": 0, "total": len(items)}
    starts = [a["starts_at"] for a in course["appointments"]]
    assert starts == sorted(starts)
    assert sorted(starts) == sorted(a["starts_at"] for a in proposal["appointments"])


def test_proposal_names_rooms_staff_and_pairs(api, course_clinic):
    proposal = api.post("/api/courses/plan", WHO, json=_body(course_clinic, "IV")).json
    first = next(a for a in proposal["appointments"] if a["key"] == "dosing-1")
    assert first["title"] == "dosing 1 of 6" and first["pair_key"] == "integration-1"
    assert first["room_name"] and first["staff"][0]["name"]
    assert first["local_starts_at"].endswith("-05:00")
    assert proposal["completes_at"] is not None and proposal["timezone"] == "America/New_York"


def test_move_the_third_infusion_by_two_days(api, course_clinic, session):
    course = _book(api, course_clinic)
    by_key = {f"{a['step_key']}-{a['sequence']}": a for a in course["appointments"]}
    third = by_key["dosing-3"]
    target = (dt.datetime.fromisoformat(third["starts_at"]) + dt.timedelta(days=2)).isoformat()
    preview = api.post(
        f"/api/appointments/{third['id']}/reschedule/preview", WHO, json={"starts_at": target}
    )
    assert preview.status_code == 200, preview.json
    moves = {m["appointment_id"]: m for m in preview.json["moves"]}
    assert moves[third["id"]]["reason"] == "requested"
    assert moves[by_key["integration-3"]["id"]]["reason"] == "pair"
    assert moves[by_key["dosing-4"]["id"]]["reason"] == "spacing"
    assert dt.datetime.fromisoformat(moves[third["id"]]["to"]["starts_at"]) == (
        dt.datetime.fromisoformat(target)
    )
    applied = api.post(
        f"/api/appointments/{third['id']}/reschedule",
        WHO,
        json={"token": preview.json["token"]},
    )
    assert applied.status_code == 200, applied.json
    moved = {a["id"]: a for a in applied.json["moved"]}
    assert set(moved) == set(moves)
    for appointment_id, item in moved.items():
        assert item["revision"] == moves[appointment_id]["revision"] + 1
        assert item["starts_at"] == moves[appointment_id]["to"]["starts_at"]
    action_ids = session.scalars(
        select(AuditEntry.action_id).where(AuditEntry.action == "appointment.reschedule")
    ).all()
    assert len(action_ids) == len(moves) and len(set(action_ids)) == 1
    again = api.post(
        f"/api/appointments/{third['id']}/reschedule",
        WHO,
        json={"token": preview.json["token"]},
    )
    assert again.status_code == 409 and again.json["rule"] == "stale_preview"


def test_booking_is_all_or_nothing(api, course_clinic, session, make):
    proposal = api.post("/api/courses/plan", WHO, json=_body(course_clinic, "IV")).json
    items = [
        {
            "key": a["key"],
            "starts_at": a["starts_at"],
            "room_id": a["room_id"],
            "staff": [{"staff_id": s["staff_id"], "part": s["part"]} for s in a["staff"]],
        }
        for a in proposal["appointments"]
    ]
    _book(api, course_clinic)  # the same patient books the same times meanwhile
    before = session.scalar(select(func.count()).select_from(Appointment))
    response = api.post("/api/courses", WHO, json=_body(course_clinic, "IV", appointments=items))
    assert response.status_code == 409
    # The patient's first course now stands in the way as a whole, named with its id.
    assert response.json["rule"] == "other_course"
    assert "would interleave with the patient's course" in response.json["message"]
    assert response.json["other_courses"]
    assert session.scalar(select(func.count()).select_from(Appointment)) == before


def test_a_proposal_breaking_the_protocol_is_422_naming_the_item(api, course_clinic):
    proposal = api.post("/api/courses/plan", WHO, json=_body(course_clinic, "IV")).json
    items = [
        {
            "key": a["key"],
            "starts_at": a["starts_at"],
            "room_id": a["room_id"],
            "staff": [{"staff_id": s["staff_id"], "part": s["part"]} for s in a["staff"]],
        }
        for a in proposal["appointments"]
    ]
    n = next(k for k, item in enumerate(items) if item["key"] == "integration-2")
    items[n]["starts_at"] = items[n - 1]["starts_at"]
    response = api.post("/api/courses", WHO, json=_body(course_clinic, "IV", appointments=items))
    assert response.status_code == 422
    assert any(k.startswith(f"appointments.{n}") for k in response.json["errors"]["json"])


def test_course_reads_lists_and_permissions(api, course_clinic):
    course = _book(api, course_clinic)
    for role in ("admin", "front_desk", "clinician", "therapist"):
        got = api.get(f"/api/courses/{course['id']}", role)
        assert got.status_code == 200, (role, got.json)
    listed = api.get(f"/api/courses?patient_id={course_clinic.clinic.patient.id}", "clinician")
    assert [c["id"] for c in listed.json] == [course["id"]]
    assert (
        api.post("/api/courses/plan", "clinician", json=_body(course_clinic, "IV")).status_code
        == 403
    )
    assert (
        api.post(
            f"/api/courses/{course['id']}/pause", "therapist", json={"reason": "x"}
        ).status_code
        == 403
    )
    assert api.get("/api/courses/999999").status_code == 404
    assert api.get("/api/courses/1", None).status_code == 401


def test_pause_resume_cancel_and_extend(api, course_clinic, session, now):
    meet_preconditions(session, course_clinic, course_clinic.protocol("Booster"), now)
    course = _book(api, course_clinic, "Booster")
    cid = course["id"]
    extended = api.post(f"/api/courses/{cid}/extend", WHO, json={"sessions": 2})
    assert extended.status_code == 200, extended.json
    assert extended.json["progress"]["total"] == 6
    paused = api.post(f"/api/courses/{cid}/pause", WHO, json={"reason": "Travelling"})
    assert paused.status_code == 200 and paused.json["status"] == "paused"
    assert paused.json["progress"]["total"] == 0
    resumed = api.post(f"/api/courses/{cid}/resume", WHO, json={})
    assert resumed.status_code == 200, resumed.json
    assert resumed.json["status"] == "active" and resumed.json["progress"]["total"] == 6
    cancelled = api.post(f"/api/courses/{cid}/cancel", WHO, json={"reason": "Moved away"})
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    assert all(a["status"] == "cancelled" for a in cancelled.json["appointments"])
    assert api.post(f"/api/courses/{cid}/cancel", WHO, json={"reason": "x"}).status_code == 409
    iv = _book(api, course_clinic, "IV", earliest_start="2026-05-04T09:00:00-04:00")
    refused = api.post(f"/api/courses/{iv['id']}/extend", WHO, json={"sessions": 1})
    assert refused.status_code == 409 and refused.json["rule"] == "not_extendable"


def test_cancel_a_dose_with_or_without_its_pair(api, course_clinic):
    course = _book(api, course_clinic)
    by_key = {f"{a['step_key']}-{a['sequence']}": a for a in course["appointments"]}
    dose = by_key["dosing-2"]
    path = f"/api/courses/{course['id']}/appointments/{dose['id']}/cancel"
    asked = api.post(path, WHO, json={"reason": "Unwell"})
    assert asked.status_code == 422 and "keep_integration" in asked.json["errors"]["json"]
    done = api.post(path, WHO, json={"reason": "Unwell", "keep_integration": False})
    assert done.status_code == 200
    assert {a["id"] for a in done.json["cancelled"]} == {dose["id"], by_key["integration-2"]["id"]}


def test_plan_failure_is_described(api, course_clinic):
    body = _body(course_clinic, "IV", preferences={"weekdays": [5, 6]})
    response = api.post("/api/courses/plan", WHO, json=body)
    assert response.status_code == 200
    assert response.json["complete"] is False
    assert "is closed on Saturdays and Sundays" in response.json["failure"]["message"]
    booked = api.post("/api/courses", WHO, json=body)
    assert booked.status_code == 409 and booked.json["rule"] == "no_plan"
