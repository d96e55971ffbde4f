"""Protocol admin pages: list, view, create and edit with the protocol's validation messages."""

from __future__ import annotations

import copy
import json

import pytest
from sqlalchemy import select

from scheduler.audit import Action
from scheduler.db import write_transaction
from scheduler.models import Protocol, ProtocolVersion
from scheduler.protocols import seed_protocols
from scheduler.protocols.seed import IV_INDUCTION

from .conftest import sign_in


@pytest.fixture
def seeded(session, now):
    with write_transaction(session):
        seed_protocols(session, Action("test", None, now))
    return session.scalars(select(Protocol).where(Protocol.name == IV_INDUCTION["name"])).one()


def test_list_and_view_show_steps_and_pairing(app, scene, seeded):
    client = app.test_client()
    sign_in(client, scene.clinic.admin)
    listing = client.get("/admin/protocols").get_data(as_text=True)
    assert "IV ketamine induction series" in listing and "6 \u00d7 dosing" in listing
    page = client.get(f"/admin/protocols/{seeded.id}").get_data(as_text=True)
    assert "Ketamine infusion" in page and "Integration session" in page
    assert "at least 48 hours apart" in page or "48" in page


def test_an_impossible_edit_is_refused_with_its_field_path(app, scene, seeded, session):
    document = copy.deepcopy(IV_INDUCTION)
    document["steps"][1]["phases"][0]["max_gap"] = "1d"  # below the 48 h minimum
    client = app.test_client()
    sign_in(client, scene.clinic.admin)
    response = client.post(
        f"/admin/protocols/{seeded.id}/edit", data={"document": json.dumps(document)}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "The protocol was not saved" in page and "steps.1.phases.0" in page
    versions = session.scalars(
        select(ProtocolVersion).where(ProtocolVersion.protocol_id == seeded.id)
    ).all()
    assert len(versions) == 1


def test_a_valid_edit_adds_a_version(app, scene, seeded, session):
    document = copy.deepcopy(IV_INDUCTION)
    document["steps"][1]["buffer_minutes"] = 20
    client = app.test_client()
    sign_in(client, scene.clinic.admin)
    assert client.get(f"/admin/protocols/{seeded.id}/edit").status_code == 200
    response = client.post(
        f"/admin/protocols/{seeded.id}/edit", data={"document": json.dumps(document)}
    )
    assert response.status_code == 302
    page = client.get(f"/admin/protocols/{seeded.id}").get_data(as_text=True)
    assert "version 2" in page and "20 min turnover" in page


def test_create_reports_broken_json_and_then_creates(app, scene):
    client = app.test_client()
    sign_in(client, scene.clinic.admin)
    assert "New protocol" in client.get("/admin/protocols/new").get_data(as_text=True)
    broken = client.post("/admin/protocols/new", data={"document": '{"name": '})
    assert broken.status_code == 422 and "Not valid JSON" in broken.get_data(as_text=True)
    document = copy.deepcopy(IV_INDUCTION)
    document["name"] = "IV induction, twice weekly"
    created = client.post("/admin/protocols/new", data={"document": json.dumps(document)})
    assert created.status_code == 302
    assert "IV induction, twice weekly" in client.get("/admin/protocols").get_data(as_text=True)


def test_retire_and_offer_again(app, scene, seeded, session):
    client = app.test_client()
    sign_in(client, scene.clinic.admin)
    client.post(f"/admin/protocols/{seeded.id}/active", data={"active": "0"})
    session.expire_all()
    assert session.get(Protocol, seeded.id).active is False
    client.post(f"/admin/protocols/{seeded.id}/active", data={"active": "1"})
    session.expire_all()
    assert session.get(Protocol, seeded.id).active is True
