"""How planning answers through the API and the pages: a request that can never fit is refused
at once with the cause and a fix as data, what a complete plan could not honour is said, and
the pages turn each fix into one click."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from scheduler.models import Role
from tests.web.conftest import sign_in

WHO = "front_desk"


def _body(cc, prefix: str = "IV", **extra: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return {
        "patient_id": cc.clinic.patient.id,
        "location_id": cc.clinic.location.id,
        "protocol_id": cc.protocol(prefix).id,
        **extra,
    }


def test_an_impossible_request_is_answered_with_its_cause_and_fix(api, course_clinic):
    body = _body(course_clinic, preferences={"latest_time": "09:00"})
    answer = api.post("/api/courses/plan", WHO, json=body)
    assert answer.status_code == 200, answer.json
    proposal = answer.json
    assert (proposal["complete"], proposal["status"]) == (False, "impossible")
    assert proposal["appointments"] == []
    assert proposal["failure"]["reasons"] == [
        {
            "code": "latest_time",
            "step": "dosing-1",
            "cause": "A 100-minute infusion can't end by 09:00; the earliest end is 09:40.",
            "fix": "Allow appointments to end at 09:40 or later.",
            "change": {"latest_time": "09:40"},
        }
    ]
    booked = api.post("/api/courses", WHO, json=body)
    assert booked.status_code == 409 and booked.json["rule"] == "no_plan"
    assert "can't end by 09:00" in booked.json["message"]
    fixed = api.post(
        "/api/courses/plan", WHO, json={**body, "preferences": {"latest_time": "09:40"}}
    )
    assert fixed.json["status"] == "complete"


def test_a_preferred_therapist_working_elsewhere_is_named(api, course_clinic, make):
    elsewhere = make.location("Uptown")
    member = make.staff([Role.THERAPIST], elsewhere, name="Dr. Only Uptown")
    body = _body(course_clinic, preferences={"therapist_id": member.id})
    proposal = api.post("/api/courses/plan", WHO, json=body).json
    assert proposal["status"] == "complete"
    (notice,) = proposal["notices"]
    assert notice["code"] == "preferred_staff_elsewhere"
    assert notice["cause"].startswith("Dr. Only Uptown works only at Uptown; planned with ")
    assert notice["change"] == {"therapist_id": None}


def test_a_closure_that_pushes_the_start_is_said(api, course_clinic, make, now):
    location = course_clinic.clinic.location
    today = now.astimezone(dt.UTC).date()
    make.closure(location, today, today + dt.timedelta(days=20), reason="Renovation")
    proposal = api.post("/api/courses/plan", WHO, json=_body(course_clinic)).json
    assert proposal["status"] == "complete"
    (notice,) = proposal["notices"]
    assert notice["code"] == "closure"
    assert notice["cause"].startswith(f"Closed {today.day} {today:%b %Y} to ")
    first = min(a["starts_at"] for a in proposal["appointments"])
    assert dt.datetime.fromisoformat(first).date() > today + dt.timedelta(days=20)


def _adjust(client, cc, preferences: dict[str, Any], change: dict[str, Any]):  # type: ignore[no-untyped-def]
    """The proposal page's one-click fix: the request it carried, and the change."""
    clinic = cc.clinic
    sign_in(client, clinic.front_desk)
    request_data = {
        "protocol_id": cc.protocol("IV").id,
        "location_id": clinic.location.id,
        "earliest": "2026-03-02",
        "preferences": preferences,
    }
    return client.post(
        f"/patients/{clinic.patient.id}/courses/adjust",
        data={"request": json.dumps(request_data), "change": json.dumps(change)},
    )


def test_the_page_offers_each_fix_and_one_click_plans_with_it(client, course_clinic):
    page = _adjust(client, course_clinic, {"weekdays": [6]}, {})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "is closed on Sundays." in html
    assert "Ask for Monday, Tuesday, Wednesday, Thursday or Friday." in html
    assert "Allow any day" in html
    assert "Below: what could be planned" not in html  # nothing was
    fixed = _adjust(client, course_clinic, {"weekdays": [6]}, {"weekdays": None})
    assert fixed.status_code == 200
    assert "Confirm and book" in fixed.get_data(as_text=True)


def test_an_unknown_change_is_refused(client, course_clinic):
    page = _adjust(client, course_clinic, {}, {"patient_id": 1})
    assert page.status_code == 422


def test_no_transaction_is_open_while_the_planner_searches(api, course_clinic, monkeypatch):
    from scheduler.db import db
    from scheduler.planning import planner

    open_during_search: list[bool] = []
    solve = planner.solve

    def watched(problem, context, *, quality=True):  # type: ignore[no-untyped-def]
        open_during_search.append(db.session().in_transaction())
        result = solve(problem, context, quality=quality)
        open_during_search.append(db.session().in_transaction())
        return result

    monkeypatch.setattr(planner, "solve", watched)
    proposal = api.post("/api/courses/plan", WHO, json=_body(course_clinic)).json
    assert proposal["status"] == "complete"
    assert open_during_search and not any(open_during_search)
