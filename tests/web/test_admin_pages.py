"""Admin pages: locations with hours, closures and rooms; staff with roles, working hours and
time off; the audit log with filters. Changes go through scheduler.clinic and are audited."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from scheduler.models import Location, Role, Room, StaffMember

from .conftest import sign_in


def admin(app, scene):  # type: ignore[no-untyped-def]
    client = app.test_client()
    sign_in(client, scene.clinic.admin)
    return client


def hours_form(prefix: str = "", **days: tuple[str, str]) -> dict[str, str]:
    data: dict[str, str] = {}
    for i in range(7):
        starts, ends = days.get(str(i), ("", ""))
        data[f"{prefix}days-{i}-starts"] = starts
        data[f"{prefix}days-{i}-ends"] = ends
    return data


def test_location_with_hours_closure_and_room(app, scene, session):
    client = admin(app, scene)
    bad = client.post("/admin/locations", data={"name": "", "timezone": "Europe/Berlin"})
    assert bad.status_code == 422
    created = client.post(
        "/admin/locations",
        data={"name": "Hamburg", "timezone": "Europe/Berlin", "address": "Alster 1", "active": "y"},
    )
    assert created.status_code == 302
    location = session.scalars(select(Location).where(Location.name == "Hamburg")).one()
    base = f"/admin/locations/{location.id}"
    wrong = client.post(base + "/hours", data=hours_form(**{"0": ("18:00", "08:00")}))
    assert wrong.status_code == 422 and "Must be after the start" in wrong.get_data(as_text=True)
    saved = client.post(
        base + "/hours", data=hours_form(**{"0": ("08:00", "17:00"), "2": ("09:00", "13:00")})
    )
    assert saved.status_code == 302
    client.post(
        base + "/closures",
        data={"starts_on": "2026-12-24", "ends_on": "2026-12-26", "reason": "Weihnachten"},
    )
    client.post(base + "/rooms", data={"name": "Sessel 1", "kind": "infusion_chair", "active": "y"})
    no_link = client.post(base + "/rooms", data={"name": "Video", "kind": "telehealth"})
    assert "needs its video link" in no_link.get_data(as_text=True)
    page = client.get(base).get_data(as_text=True)
    assert "Weihnachten" in page and "Sessel 1" in page
    session.expire_all()
    fresh = session.get(Location, location.id)
    assert [(h.weekday, h.opens) for h in fresh.opening_hours] == [
        (0, dt.time(8)),
        (2, dt.time(9)),
    ]
    closure = fresh.closures[0]
    client.post(f"{base}/closures/{closure.id}/delete")
    session.expire_all()
    assert session.get(Location, location.id).closures == []
    room = session.scalars(select(Room).where(Room.name == "Sessel 1")).one()
    client.post(f"/admin/rooms/{room.id}", data={"name": "Sessel 1", "kind": "infusion_chair"})
    session.expire_all()
    assert session.get(Room, room.id).active is False


def test_staff_roles_hours_and_time_off(app, scene, session):
    client = admin(app, scene)
    no_password = client.post(
        "/admin/staff", data={"name": "Kim Lee", "email": "kim@example.org", "roles": "therapist"}
    )
    assert "needs a password" in no_password.get_data(as_text=True)
    client.post(
        "/admin/staff",
        data={
            "name": "Kim Lee",
            "email": "kim@example.org",
            "roles": ["therapist", "clinician"],
            "password": "long-enough-passphrase",
            "active": "y",
        },
    )
    member = session.scalars(
        select(StaffMember).where(StaffMember.email == "kim@example.org")
    ).one()
    assert member.roles == {Role.THERAPIST, Role.CLINICIAN}
    location = scene.clinic.location
    prefix = f"loc{location.id}-"
    saved = client.post(
        f"/admin/staff/{member.id}/hours/{location.id}",
        data={
            **hours_form(prefix, **{"1": ("09:00", "17:00")}),
            f"{prefix}location_id": location.id,
        },
    )
    assert saved.status_code == 302
    client.post(
        f"/admin/staff/{member.id}/time-off",
        data={"starts_on": "2026-04-06", "ends_on": "2026-04-10", "reason": "Holiday"},
    )
    session.expire_all()
    fresh = session.get(StaffMember, member.id)
    assert [(h.weekday, h.starts) for h in fresh.working_hours] == [(1, dt.time(9))]
    off = fresh.time_off[0]
    assert off.starts_at == dt.datetime(2026, 4, 6, 4, tzinfo=dt.UTC)  # New York midnight
    assert off.ends_at == dt.datetime(2026, 4, 11, 4, tzinfo=dt.UTC)
    page = client.get(f"/admin/staff/{member.id}").get_data(as_text=True)
    assert "Holiday" in page
    client.post(f"/admin/staff/{member.id}/time-off/{off.id}/delete")
    session.expire_all()
    assert session.get(StaffMember, member.id).time_off == []


def test_the_last_admin_cannot_drop_their_role(app, scene, session):
    client = admin(app, scene)
    me = scene.clinic.admin
    response = client.post(
        f"/admin/staff/{me.id}",
        data={"name": me.name, "email": me.email, "roles": "therapist", "active": "y"},
    )
    assert response.status_code == 422
    assert "without an active admin" in response.get_data(as_text=True)


def test_audit_log_filters(app, scene):
    client = admin(app, scene)
    everything = client.get("/admin/audit").get_data(as_text=True)
    assert "appointment.create" in everything
    assert f'<span class="account-name">{scene.clinic.admin.name}</span>' in everything
    only = client.get(f"/admin/audit?entity=appointment&entity_id={scene.integration.id}").get_data(
        as_text=True
    )
    assert "1 entry" in only
    none = client.get("/admin/audit?action=appointment.cancel").get_data(as_text=True)
    assert "No entries match" in none
    dated = client.get("/admin/audit?from=2030-01-01").get_data(as_text=True)
    assert "No entries match" in dated
    assert client.get("/admin/audit?actor=abc&from=nope&page=-3").status_code == 200
