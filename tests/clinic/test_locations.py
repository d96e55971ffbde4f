"""Locations with nested opening hours and closures: happy paths, validation, deletion."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from scheduler.models import AuditEntry

NEW = {
    "name": "Berlin Mitte",
    "timezone": "Europe/Berlin",
    "address": "Torstraße 1",
    "opening_hours": [
        {"weekday": 0, "opens": "08:00", "closes": "12:00"},
        {"weekday": 0, "opens": "13:00", "closes": "18:30"},
        {"weekday": 2, "opens": "09:00", "closes": "17:00"},
    ],
    "closures": [{"starts_on": "2026-12-24", "ends_on": "2026-12-26", "reason": "Holidays"}],
}


def test_create_read_update_delete(api, session):
    created = api.post("/api/locations", json=NEW)
    assert created.status_code == 201
    body = created.json
    assert body["timezone"] == "Europe/Berlin" and body["active"] is True
    assert body["opening_hours"][1] == {"weekday": 0, "opens": "13:00", "closes": "18:30"}
    assert body["closures"][0]["reason"] == "Holidays" and body["closures"][0]["id"] > 0

    location_id = body["id"]
    assert api.get(f"/api/locations/{location_id}").json == body
    assert [loc["name"] for loc in api.get("/api/locations").json] == ["Berlin Mitte", "Location 1"]

    hours = [{"weekday": 4, "opens": "07:30", "closes": "15:00"}]
    changed = api.patch(f"/api/locations/{location_id}", json={"opening_hours": hours})
    assert changed.status_code == 200
    assert changed.json["opening_hours"] == [{"weekday": 4, "opens": "07:30", "closes": "15:00"}]
    assert changed.json["closures"] == body["closures"]  # lists not given are kept

    assert api.delete(f"/api/locations/{location_id}").status_code == 204
    assert api.get(f"/api/locations/{location_id}").status_code == 404
    actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions[-3:] == ["location.create", "location.update", "location.delete"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"timezone": "../../etc/passwd"}, "timezone"),
        ({"name": ""}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"opening_hours": [{"weekday": 7, "opens": "08:00", "closes": "09:00"}]}, "opening_hours"),
        ({"opening_hours": [{"weekday": 1, "opens": "25:00", "closes": "26:00"}]}, "opening_hours"),
        ({"opening_hours": [{"weekday": 1, "opens": "8am", "closes": "09:00"}]}, "opening_hours"),
        (
            {"opening_hours": [{"weekday": 1, "opens": "08:00+02:00", "closes": "09:00"}]},
            "opening_hours",
        ),
        ({"opening_hours": [{"weekday": 1, "opens": "10:00", "closes": "09:00"}]}, "opening_hours"),
        (
            {
                "opening_hours": [
                    {"weekday": 1, "opens": "08:00", "closes": "12:00"},
                    {"weekday": 1, "opens": "11:00", "closes": "14:00"},
                ]
            },
            "opening_hours",
        ),
        ({"closures": [{"starts_on": "2026-05-02", "ends_on": "2026-05-01"}]}, "closures"),
        ({"closures": [{"starts_on": "0001-01-01", "ends_on": "2026-05-01"}]}, "closures"),
        ({"active": "yes"}, "active"),
    ],
)
def test_invalid_fields_are_422_naming_the_field(api, clinic, change, field):
    response = api.patch(f"/api/locations/{clinic.location.id}", json=change)
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]["json"]


def test_duplicate_name_is_422(api, clinic):
    response = api.post("/api/locations", json={**NEW, "name": clinic.location.name.upper()})
    assert response.status_code == 422
    assert response.json["errors"]["json"]["name"] == ["another location has this name"]


def test_location_in_use_cannot_be_deleted_but_can_be_deactivated(api, clinic):
    response = api.delete(f"/api/locations/{clinic.location.id}")
    assert response.status_code == 409
    assert response.json["rule"] == "in_use"
    assert "deactivate" in response.json["message"]
    deactivated = api.patch(f"/api/locations/{clinic.location.id}", json={"active": False})
    assert deactivated.status_code == 200 and deactivated.json["active"] is False


def test_unknown_and_out_of_range_ids_are_404(api):
    assert api.get("/api/locations/999").status_code == 404
    assert api.get(f"/api/locations/{2**63}").status_code == 404
    assert api.patch(f"/api/locations/{2**40}", json={"phone": "1"}).status_code == 404
