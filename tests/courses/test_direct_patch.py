"""A plain PATCH of a course session moves it only when its course stays whole."""

from __future__ import annotations

import datetime as dt

from .test_api import WHO, _book


def _by_key(course):  # type: ignore[no-untyped-def]
    return {f"{a['step_key']}-{a['sequence']}": a for a in course["appointments"]}


def test_patch_that_would_drag_others_along_is_refused_with_what_would_move(api, course_clinic):
    course = _book(api, course_clinic)
    third = _by_key(course)["dosing-3"]
    target = dt.datetime.fromisoformat(third["starts_at"]) + dt.timedelta(days=2)
    response = api.patch(
        f"/api/appointments/{third['id']}", WHO, json={"starts_at": target.isoformat()}
    )
    assert response.status_code == 409, response.json
    assert response.json["rule"] == "course_moves"
    followers = {c["appointment_id"] for c in response.json["conflicts"]}
    assert _by_key(course)["integration-3"]["id"] in followers
    hint = f"(POST /api/appointments/{third['id']}/reschedule/preview, then /reschedule)."
    assert response.json["message"].startswith("Moving this session moves ")
    assert response.json["message"].endswith(f"Preview and apply the move together {hint}")
    assert set(response.json) == {"code", "status", "message", "rule", "conflicts"}
    assert all(
        set(c) == {"appointment_id", "reason", "starts_at", "ends_at"}
        for c in response.json["conflicts"]
    )
    unchanged = api.get(f"/api/appointments/{third['id']}", WHO).json
    assert unchanged["starts_at"] == third["starts_at"] and unchanged["revision"] == 1


def test_patch_that_keeps_the_course_whole_moves_just_that_session(api, course_clinic):
    course = _book(api, course_clinic)
    pair = _by_key(course)["integration-2"]
    start = dt.datetime.fromisoformat(pair["starts_at"])
    for hours in (1, -1, 2, -2, 3):
        target = start + dt.timedelta(hours=hours)
        response = api.patch(
            f"/api/appointments/{pair['id']}", WHO, json={"starts_at": target.isoformat()}
        )
        if response.status_code == 200:
            break
    assert response.status_code == 200, response.json
    assert dt.datetime.fromisoformat(response.json["starts_at"]) == target
    assert response.json["revision"] == 2
    others = [
        a
        for a in api.get(f"/api/courses/{course['id']}", WHO).json["appointments"]
        if a["id"] != pair["id"]
    ]
    assert all(a["revision"] == 1 for a in others)
