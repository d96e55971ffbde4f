"""Rooms: CRUD, filters, telehealth links, deactivation instead of deletion."""

from __future__ import annotations

from scheduler.models import RoomKind
from tests.clients import booking


def test_create_filter_update_delete(api, clinic):
    body = {"name": "Chair 2", "kind": "infusion_chair", "location_id": clinic.location.id}
    created = api.post("/api/rooms", json=body)
    assert created.status_code == 201
    room = created.json
    assert room["active"] is True and room["video_url"] is None

    chairs = api.get(f"/api/rooms?kind=infusion_chair&location_id={clinic.location.id}").json
    assert [r["name"] for r in chairs] == ["Chair 1", "Chair 2"]
    assert [r["name"] for r in api.get("/api/rooms?kind=telehealth").json] == ["Video 1"]

    renamed = api.patch(f"/api/rooms/{room['id']}", json={"name": "Chair 2 (window)"})
    assert renamed.json["name"] == "Chair 2 (window)"
    assert api.delete(f"/api/rooms/{room['id']}").status_code == 204
    assert api.get(f"/api/rooms/{room['id']}").status_code == 404


def test_telehealth_room_needs_a_valid_link(api, clinic):
    body = {"name": "Video 2", "kind": "telehealth", "location_id": clinic.location.id}
    missing = api.post("/api/rooms", json=body)
    assert missing.status_code == 422 and "video_url" in missing.json["errors"]["json"]
    bad = api.post("/api/rooms", json={**body, "video_url": "javascript:alert(1)"})
    assert bad.status_code == 422 and "video_url" in bad.json["errors"]["json"]
    good = api.post("/api/rooms", json={**body, "video_url": "https://video.example.org/2"})
    assert good.status_code == 201


def test_unknown_location_and_kind_are_422(api, clinic):
    response = api.post("/api/rooms", json={"name": "X", "kind": "sauna", "location_id": 99})
    assert response.status_code == 422
    assert set(response.json["errors"]["json"]) == {"kind"}
    response = api.post(
        "/api/rooms", json={"name": "X", "kind": "infusion_chair", "location_id": 99}
    )
    assert response.status_code == 422
    assert response.json["errors"]["json"] == {"location_id": ["no location 99"]}


def test_room_with_appointments_is_deactivated_not_deleted(api, clinic, make):
    make.appointment(clinic)
    response = api.delete(f"/api/rooms/{clinic.chair.id}")
    assert response.status_code == 409 and response.json["rule"] == "in_use"
    other = make.location(name="Elsewhere")
    moved = api.patch(f"/api/rooms/{clinic.chair.id}", json={"location_id": other.id})
    assert moved.status_code == 409
    # Its booked session would be left in a room out of service: refused, listing it, unless
    # the admin chooses to flag (or re-plan) it.
    off = api.patch(f"/api/rooms/{clinic.chair.id}", json={"active": False})
    assert off.status_code == 409 and off.json["rule"] == "impact"
    off = api.patch(f"/api/rooms/{clinic.chair.id}", json={"active": False, "on_conflict": "flag"})
    assert off.status_code == 200 and off.json["active"] is False
    assert api.get("/api/rooms?active=false").json[0]["id"] == clinic.chair.id


def test_inactive_room_cannot_be_booked(api, clinic, make, at):
    room = make.room(clinic.location, RoomKind.INFUSION_CHAIR, active=False)
    response = api.post("/api/appointments", json=booking(clinic, at(9), room_id=room.id))
    assert response.status_code == 409 and response.json["rule"] == "room_kind"
