"""Who may open which page: 200, 403, or the sign-in page, for every role (table-driven)."""

from __future__ import annotations

import pytest

from .conftest import Scene, sign_in

OK, FORBIDDEN, SIGN_IN = 200, 403, "sign-in"

ROLES = ["admin", "front_desk", "clinician", "therapist"]


def pages(scene: Scene) -> list[tuple[str, dict[str, int]]]:
    """(url, expected status per role). The patient's only dosing session is with the
    clinician and the integration session with the therapist, so both treat the patient."""
    c = scene.clinic
    everyone = dict.fromkeys(ROLES, OK)
    booking = {"admin": OK, "front_desk": OK, "clinician": FORBIDDEN, "therapist": FORBIDDEN}
    admin = {"admin": OK, "front_desk": FORBIDDEN, "clinician": FORBIDDEN, "therapist": FORBIDDEN}
    return [
        ("/desk/day", booking),
        (f"/desk/day?location={c.location.id}&date=2026-03-03", booking),
        ("/my/day", everyone),
        ("/my/week", everyone),
        ("/my/week?date=2026-03-04", everyone),
        (f"/staff/{c.therapist.id}/week", {**booking, "therapist": OK}),
        (f"/staff/{c.clinician.id}/day", {**booking, "clinician": OK}),
        ("/patients", everyone),
        ("/patients/new", booking),
        (f"/patients/{c.patient.id}", everyone),
        (f"/patients/{c.patient.id}/edit", booking),
        (f"/appointments/{scene.dosing.id}", everyone),
        (f"/appointments/{scene.integration.id}", everyone),
        (f"/appointments/{scene.dosing.id}/move", booking),
        (f"/appointments/{scene.dosing.id}.ics", everyone),
        (f"/patients/{c.patient.id}/courses/new", booking),
        ("/admin", admin),
        ("/admin/locations", admin),
        (f"/admin/locations/{c.location.id}", admin),
        (f"/admin/rooms/{c.chair.id}", admin),
        ("/admin/staff", admin),
        (f"/admin/staff/{c.therapist.id}", admin),
        ("/admin/audit", admin),
        ("/admin/outbox", admin),
        ("/admin/protocols", admin),
        ("/admin/protocols/new", admin),
        ("/admin/templates", admin),
        ("/admin/templates/dosing_preparation", admin),
    ]


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_its_pages_and_403_elsewhere(app, scene, role):
    client = app.test_client()
    member = getattr(scene.clinic, role)
    sign_in(client, member)
    wrong = []
    for url, expected in pages(scene):
        status = client.get(url).status_code
        if status != expected[role]:
            wrong.append(f"{url}: {status}, expected {expected[role]}")
    assert not wrong, "\n".join(wrong)


def test_signed_out_visitors_are_sent_to_sign_in(app, scene):
    client = app.test_client()
    for url, _expected in pages(scene):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/sign-in?next="), url


def test_a_stranger_to_the_patient_gets_404_and_others_pages_403(app, make, scene):
    from scheduler.models import Role

    other = make.staff([Role.THERAPIST], scene.clinic.location, name="Other Therapist")
    client = app.test_client()
    sign_in(client, other)
    # A patient's record one may not see answers as if it did not exist.
    for url in (f"/patients/{scene.clinic.patient.id}", f"/appointments/{scene.dosing.id}"):
        assert client.get(url).status_code == 404, url
    assert client.get(f"/staff/{scene.clinic.therapist.id}/week").status_code == 403


@pytest.mark.parametrize(
    ("role", "start"),
    [
        ("front_desk", "/desk/day"),
        ("therapist", "/my/week"),
        ("clinician", "/my/week"),
        ("admin", "/admin"),
    ],
)
def test_home_sends_each_role_to_its_start_page(app, scene, role, start):
    client = app.test_client()
    assert client.get("/").headers["Location"] == "/sign-in"
    sign_in(client, getattr(scene.clinic, role))
    assert client.get("/").headers["Location"] == start


def test_unknown_ids_are_404_pages(app, scene):
    client = app.test_client()
    sign_in(client, scene.clinic.admin)
    for url in (
        "/appointments/999999",
        "/patients/999999",
        "/admin/locations/999999",
        "/admin/staff/999999",
        "/appointments/99999999999",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert b"Not Found" in response.data


def test_error_pages_name_no_patient(app, make, scene):
    from scheduler.models import Role

    other = make.staff([Role.THERAPIST], scene.clinic.location, name="Other Therapist")
    client = app.test_client()
    sign_in(client, other)
    patient = scene.clinic.patient
    for url in (f"/patients/{patient.id}", f"/appointments/{scene.dosing.id}"):
        page = client.get(url).get_data(as_text=True)
        assert "404" in page
        assert patient.last_name not in page and patient.email not in page
