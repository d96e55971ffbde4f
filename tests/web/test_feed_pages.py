"""Calendar-feed links on the patient page and on my week: issue (shown once, with a QR code
for patients), rotate (the old link stops working) and switch off."""

from __future__ import annotations

import re

from .conftest import sign_in

LINK = re.compile(r'value="(https?://[^"]+/feeds/[A-Za-z0-9_-]+\.ics)"')


def test_front_desk_issues_and_rotates_a_patient_link_with_qr(app, scene):
    client = app.test_client()
    sign_in(client, scene.clinic.front_desk)
    patient = scene.clinic.patient
    page = client.get(f"/patients/{patient.id}").get_data(as_text=True)
    assert "No calendar link yet" in page
    issued = client.post(f"/patients/{patient.id}/feed").get_data(as_text=True)
    first = LINK.search(issued).group(1)
    assert 'value="webcal://' in issued and 'src="data:image/svg+xml;base64,' in issued
    assert client.get(first.replace("https://clinic.example.org", "")).status_code == 200
    later = client.get(f"/patients/{patient.id}").get_data(as_text=True)
    assert "Active" in later and first not in later  # shown once only
    rotated = client.post(f"/patients/{patient.id}/feed").get_data(as_text=True)
    second = LINK.search(rotated).group(1)
    assert second != first
    assert client.get(first.replace("https://clinic.example.org", "")).status_code == 404
    client.post(f"/patients/{patient.id}/feed/revoke")
    assert client.get(second.replace("https://clinic.example.org", "")).status_code == 404
    assert "No calendar link yet" in client.get(f"/patients/{patient.id}").get_data(as_text=True)


def test_care_staff_cannot_issue_patient_links(app, scene):
    client = app.test_client()
    sign_in(client, scene.clinic.therapist)
    assert client.post(f"/patients/{scene.clinic.patient.id}/feed").status_code == 403


def test_a_therapist_gets_the_subscribe_link_of_their_week(app, scene):
    client = app.test_client()
    sign_in(client, scene.clinic.therapist)
    assert "Get my subscribe link" in client.get("/my/week").get_data(as_text=True)
    page = client.post("/my/feed").get_data(as_text=True)
    link = LINK.search(page).group(1)
    feed = client.get(link.replace("https://clinic.example.org", ""))
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    client.post("/my/feed/revoke")
    assert client.get(link.replace("https://clinic.example.org", "")).status_code == 404
