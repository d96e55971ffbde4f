"""Swapping a session of a proposal and asking for other times, through the API, on both
databases: what moves with a swap, what a time nobody can take answers, and each 4xx names
its field."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from scheduler.models import Appointment

WHO = "front_desk"


def _body(cc, **extra: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return {
        "patient_id": cc.clinic.patient.id,
        "location_id": cc.clinic.location.id,
        "protocol_id": cc.protocol("IV").id,
        **extra,
    }


def _items(proposal: dict[str, Any]) -> list[dict[str, Any]]:
    """A proposal's appointments as the client sends them back."""
    return [
        {
            "key": a["key"],
            "starts_at": a["starts_at"],
            "room_id": a["room_id"],
            "staff": [{"staff_id": s["staff_id"], "part": s["part"]} for s in a["staff"]],
        }
        for a in proposal["appointments"]
    ]


def _plan(api, cc) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    response = api.post("/api/courses/plan", WHO, json=_body(cc))
    assert response.status_code == 200, response.json
    return response.json  # type: ignore[no-any-return]


def _by_key(proposal: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {a["key"]: a for a in proposal["appointments"]}


def _instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def test_other_times_then_swap_moves_the_session_and_what_must_follow(api, course_clinic, session):
    proposal = _plan(api, course_clinic)
    before = session.scalar(select(func.count()).select_from(Appointment))
    offered = api.post(
        "/api/courses/plan/alternatives",
        WHO,
        json=_body(course_clinic, appointments=_items(proposal), key="dosing-3"),
    )
    assert offered.status_code == 200, offered.json
    assert offered.json["alternatives_for"] == "dosing-3"
    assert offered.json["appointments"] == proposal["appointments"]
    times = offered.json["alternatives"]
    assert times and all(t["room_name"] and t["staff"][0]["name"] for t in times)
    current = _by_key(proposal)["dosing-3"]["starts_at"]
    assert current not in {t["starts_at"] for t in times}
    chosen = next(t for t in times if not t["breaks"])

    swapped = api.post(
        "/api/courses/plan/swap",
        WHO,
        json=_body(
            course_clinic,
            appointments=_items(proposal),
            key="dosing-3",
            starts_at=chosen["starts_at"],
            room_id=chosen["room_id"],
            staff=[{"staff_id": s["staff_id"], "part": s["part"]} for s in chosen["staff"]],
        ),
    )
    assert swapped.status_code == 200, swapped.json
    answer = swapped.json
    assert answer["complete"] and answer["failure"] is None
    after = _by_key(answer)
    assert _instant(after["dosing-3"]["starts_at"]) == _instant(chosen["starts_at"])
    assert after["dosing-3"]["room_id"] == chosen["room_id"]
    assert "dosing-3" in answer["changed"]
    old = _by_key(proposal)
    # Everything not listed as changed stays exactly where it was proposed.
    for key, a in after.items():
        if key not in answer["changed"]:
            assert (a["starts_at"], a["room_id"]) == (old[key]["starts_at"], old[key]["room_id"])
    # Its integration session still follows it, within the protocol's 18-72 h.
    gap = _instant(after["integration-3"]["starts_at"]) - _instant(after["dosing-3"]["ends_at"])
    assert dt.timedelta(hours=18) <= gap <= dt.timedelta(hours=72)
    assert session.scalar(select(func.count()).select_from(Appointment)) == before

    booked = api.post("/api/courses", WHO, json=_body(course_clinic, appointments=_items(answer)))
    assert booked.status_code == 201, booked.json


def test_without_appointments_both_start_from_the_plan(api, course_clinic):
    proposal = _plan(api, course_clinic)
    offered = api.post(
        "/api/courses/plan/alternatives", WHO, json=_body(course_clinic, key="dosing-2")
    )
    assert offered.status_code == 200, offered.json
    assert offered.json["appointments"] == proposal["appointments"]
    later = _instant(_by_key(proposal)["dosing-2"]["starts_at"]) + dt.timedelta(hours=1)
    swapped = api.post(
        "/api/courses/plan/swap",
        WHO,
        json=_body(course_clinic, key="dosing-2", starts_at=later.isoformat()),
    )
    assert swapped.status_code == 200, swapped.json
    assert _instant(_by_key(swapped.json)["dosing-2"]["starts_at"]) == later
    assert "dosing-2" in swapped.json["changed"]


def test_a_time_the_session_cannot_take_is_422_naming_starts_at(api, course_clinic):
    proposal = _plan(api, course_clinic)
    first = _instant(_by_key(proposal)["dosing-2"]["starts_at"])
    night = first.astimezone(dt.timezone(dt.timedelta(hours=-5))).replace(hour=3, minute=0)
    response = api.post(
        "/api/courses/plan/swap",
        WHO,
        json=_body(
            course_clinic,
            appointments=_items(proposal),
            key="dosing-2",
            starts_at=night.isoformat(),
        ),
    )
    assert response.status_code == 422, response.json
    assert "Infusion 2 of 6" in response.json["errors"]["json"]["starts_at"][0]
    past = api.post(
        "/api/courses/plan/swap",
        WHO,
        json=_body(course_clinic, key="dosing-2", starts_at="2026-03-01T15:00:00+00:00"),
    )
    assert past.status_code == 422 and "starts_at" in past.json["errors"]["json"]


def test_each_refusal_names_its_field(api, course_clinic):
    proposal = _plan(api, course_clinic)
    start = _by_key(proposal)["dosing-2"]["starts_at"]
    swap = "/api/courses/plan/swap"
    cases = [
        (swap, {"key": "dosing-9", "starts_at": start}, "key"),
        (swap, {"key": "dosing-2", "starts_at": start, "room_id": 2**31 - 1}, "room_id"),
        (
            swap,
            {
                "key": "dosing-2",
                "starts_at": start,
                "staff": [{"staff_id": course_clinic.clinic.therapist.id, "part": "therapist"}],
            },
            "staff",
        ),
        (swap, {"key": "dosing-2"}, "starts_at"),
        (swap, {"key": "dosing-2", "starts_at": "2026-03-10T09:00:00"}, "starts_at"),
        (
            swap,
            {
                "key": "dosing-2",
                "starts_at": start,
                "appointments": [{**_items(proposal)[0], "key": "nothing-1"}],
            },
            "appointments.0.key",
        ),
        ("/api/courses/plan/alternatives", {"key": "dosing-9"}, "key"),
        ("/api/courses/plan/alternatives", {}, "key"),
    ]
    for path, extra, field in cases:
        response = api.post(path, WHO, json=_body(course_clinic, **extra))
        assert response.status_code == 422, (extra, response.json)
        assert field in response.json["errors"]["json"], (extra, response.json)

    items = _items(proposal)
    n = next(k for k, item in enumerate(items) if item["key"] == "integration-2")
    items[n]["starts_at"] = items[n - 1]["starts_at"]
    broken = api.post(
        "/api/courses/plan/alternatives",
        WHO,
        json=_body(course_clinic, appointments=items, key="dosing-3"),
    )
    assert broken.status_code == 422
    assert any(k.startswith(f"appointments.{n}") for k in broken.json["errors"]["json"])


def test_other_times_without_a_complete_plan_is_409(api, course_clinic):
    body = _body(course_clinic, preferences={"weekdays": [5, 6]}, key="dosing-1")
    response = api.post("/api/courses/plan/alternatives", WHO, json=body)
    assert response.status_code == 409 and response.json["rule"] == "no_plan"


def test_who_may_swap_and_ask(api, course_clinic):
    proposal = _plan(api, course_clinic)
    start = _by_key(proposal)["dosing-2"]["starts_at"]
    for path, extra in (
        ("/api/courses/plan/swap", {"key": "dosing-2", "starts_at": start}),
        ("/api/courses/plan/alternatives", {"key": "dosing-2"}),
    ):
        body = _body(course_clinic, **extra)
        assert api.post(path, "clinician", json=body).status_code == 403
        assert api.post(path, None, json=body).status_code == 401
