"""The protocol API: everyone reads, admins create and add versions; impossible protocols are a
422 naming the field path."""

from __future__ import annotations

import copy

import pytest

from scheduler.protocols.seed import IV_INDUCTION


@pytest.fixture
def api(app, client, session, make, now):  # type: ignore[no-untyped-def]
    from tests.clients import Api, token_for

    clinic = make.clinic()
    members = {
        "admin": clinic.admin,
        "front_desk": clinic.front_desk,
        "clinician": clinic.clinician,
        "therapist": clinic.therapist,
    }
    return Api(client, {role: token_for(session, m, now, 24) for role, m in members.items()})


def test_create_read_and_version(api):
    created = api.post("/api/protocols", "admin", json=IV_INDUCTION)
    assert created.status_code == 201, created.json
    pid = created.json["id"]
    assert created.json["current_version"]["number"] == 1
    assert created.json["definition"]["steps"][1]["phases"][0]["min_gap"] == "48h"
    for role in ("front_desk", "clinician", "therapist"):
        assert api.get("/api/protocols", role).status_code == 200
        assert api.post("/api/protocols", role, json=IV_INDUCTION).status_code == 403
    edited = copy.deepcopy(IV_INDUCTION)
    edited["steps"][1]["window"] = "24d"
    version = api.post(f"/api/protocols/{pid}/versions", "admin", json=edited)
    assert version.status_code == 201 and version.json["number"] == 2
    first = api.get(f"/api/protocols/{pid}/versions/1", "clinician")
    assert first.json["definition"]["steps"][1]["window"] == "21d"
    assert api.get(f"/api/protocols/{pid}").json["current_version"]["number"] == 2
    retired = api.patch(f"/api/protocols/{pid}", "admin", json={"active": False})
    assert retired.status_code == 200 and retired.json["active"] is False
    assert api.get(f"/api/protocols/{pid}/versions/9").status_code == 404


def test_impossible_protocol_is_422_naming_the_field(api):
    bad = copy.deepcopy(IV_INDUCTION)
    bad["steps"][1]["phases"][0]["max_gap"] = "24h"
    response = api.post("/api/protocols", "admin", json=bad)
    assert response.status_code == 422
    assert response.json["errors"]["json"]["steps.1.phases.0.max_gap"] == [
        "max_gap (24h) is below min_gap (48h)"
    ]
    bad["steps"][1]["phases"][0]["max_gap"] = "soon"
    response = api.post("/api/protocols", "admin", json=bad)
    assert response.status_code == 422
