"""Finding 8 of issue 9: preconditions as live rules. Boosters were booked for patients who
never had an induction, esketamine for patients with no REMS enrollment on record. Protocols
now declare ``requires`` (and ``counts_as``); planning and booking refuse with 409 naming what
is missing unless an admin overrides it with a reason, recorded on the course and audited."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest
from sqlalchemy import event, func, select

from scheduler.audit import Action
from scheduler.booking import progress_appointment
from scheduler.courses import new_course
from scheduler.courses.preconditions import Missing, missing_preconditions
from scheduler.db import write_transaction
from scheduler.errors import Conflict, ValidationFailed
from scheduler.models import (
    Appointment,
    AppointmentKind,
    AuditEntry,
    Course,
    CourseStatus,
    Protocol,
    ProtocolVersion,
)
from scheduler.planning import Preferences
from scheduler.protocols import (
    Requirement,
    create_protocol,
    current_version,
    definition_document,
    definition_of,
    parse_definition,
    seed_protocols,
)
from scheduler.protocols.seed import BOOSTER, ESKETAMINE, IV_INDUCTION
from tests.web.conftest import sign_in

from .conftest import CourseClinic
from .helpers import book

WHO = "front_desk"


def _body(cc: CourseClinic, prefix: str, **extra: Any) -> dict[str, Any]:
    return {
        "patient_id": cc.clinic.patient.id,
        "location_id": cc.clinic.location.id,
        "protocol_id": cc.protocol(prefix).id,
        **extra,
    }


def _definition(session, cc: CourseClinic, prefix: str):  # type: ignore[no-untyped-def]
    return definition_of(current_version(session, cc.protocol(prefix)))


def _missing(session, cc: CourseClinic, prefix: str, now: dt.datetime) -> list[Missing]:  # type: ignore[no-untyped-def]
    return missing_preconditions(
        session,
        patient_id=cc.clinic.patient.id,
        definition=_definition(session, cc, prefix),
        now=now,
    )


def _enroll(session, cc: CourseClinic, on: dt.date, number: str = "REMS-123456") -> None:  # type: ignore[no-untyped-def]
    with write_transaction(session):
        cc.clinic.patient.rems_enrolled_on = on
        cc.clinic.patient.rems_number = number


def _hold_doses(session, booked: list[Appointment], first: int, last: int) -> None:  # type: ignore[no-untyped-def]
    """Check in and complete doses ``first`` to ``last`` (1-based), as on their days."""
    doses = sorted(
        (a for a in booked if a.kind == AppointmentKind.DOSING), key=lambda a: a.starts_at
    )
    with write_transaction(session):
        for dose in doses[first - 1 : last]:
            later = dose.starts_at + dt.timedelta(minutes=5)
            progress_appointment(session, dose, Action("t", None, later), "check_in")
            progress_appointment(session, dose, Action("t", None, later), "complete")


def _count(session, model) -> int:  # type: ignore[no-untyped-def]
    return session.scalar(select(func.count()).select_from(model))


# -- the findings -------------------------------------------------------------------------


def test_booster_for_patient_without_induction_is_refused(api, course_clinic, session, now):
    missing = _missing(session, course_clinic, "Booster", now)
    assert missing == [
        Missing(
            "precondition:completed_course",
            "A booster needs a completed induction course; this patient has none",
        )
    ]
    with pytest.raises(Conflict) as refused:
        new_course(
            session,
            patient_id=course_clinic.clinic.patient.id,
            location_id=course_clinic.clinic.location.id,
            protocol_id=course_clinic.protocol("Booster").id,
            protocol_version_id=None,
            preferences=Preferences(),
            earliest=None,
            now=now,
        )
    assert refused.value.rule == "precondition"
    for path in ("/api/courses/plan", "/api/courses"):
        response = api.post(path, WHO, json=_body(course_clinic, "Booster"))
        assert response.status_code == 409, response.json
        assert response.json["rule"] == "precondition"
        assert "A booster needs a completed induction course" in response.json["message"]
        assert [m["rule"] for m in response.json["missing"]] == ["precondition:completed_course"]
    assert _count(session, Course) == 0 and _count(session, Appointment) == 0


def test_esketamine_without_rems_enrollment_is_refused(api, course_clinic, session, now):
    response = api.post("/api/courses/plan", WHO, json=_body(course_clinic, "Esketamine"))
    assert response.status_code == 409
    assert response.json["missing"] == [
        {
            "rule": "precondition:rems_enrollment",
            "message": "Esketamine needs the patient's REMS enrollment (date and number) on "
            "record before the first session",
        }
    ]
    assert api.post("/api/courses", WHO, json=_body(course_clinic, "Esketamine")).status_code == 409
    assert _count(session, Course) == 0

    _enroll(session, course_clinic, now.date() - dt.timedelta(days=3))
    assert _missing(session, course_clinic, "Esketamine", now) == []
    planned = api.post("/api/courses/plan", WHO, json=_body(course_clinic, "Esketamine"))
    assert planned.status_code == 200 and planned.json["complete"], planned.json
    assert planned.json["overrides"] == []


def test_rems_enrollment_dated_after_today_does_not_count(session, course_clinic, now):
    # Written straight to the row: the API and the pages refuse such a date.
    _enroll(session, course_clinic, now.date() + dt.timedelta(days=10))
    (missing,) = _missing(session, course_clinic, "Esketamine", now)
    assert missing.rule == "precondition:rems_enrollment" and "is after today" in missing.message


def test_admin_override_with_reason_is_recorded(api, course_clinic, session, now):
    override = {"rule": "precondition:completed_course", "reason": "Induction at another clinic"}
    planned = api.post(
        "/api/courses/plan", "admin", json=_body(course_clinic, "Booster", override=override)
    )
    assert planned.status_code == 200, planned.json
    assert planned.json["overrides"] == [override]

    booked = api.post(
        "/api/courses", "admin", json=_body(course_clinic, "Booster", override=[override])
    )
    assert booked.status_code == 201, booked.json
    admin = course_clinic.clinic.admin
    course = session.get(Course, booked.json["id"])
    assert course.exceptions == [{**override, "by": admin.id, "at": now.isoformat()}]
    assert booked.json["exceptions"] == course.exceptions
    created = session.scalars(
        select(AuditEntry).where(
            AuditEntry.entity_type == "course", AuditEntry.entity_id == course.id
        )
    ).one()
    assert created.actor_id == admin.id and created.after["exceptions"] == course.exceptions


def test_override_only_by_an_admin_and_only_with_a_reason(api, course_clinic, session):
    override = {"rule": "precondition:completed_course", "reason": "Induction elsewhere"}
    for path in ("/api/courses/plan", "/api/courses"):
        response = api.post(path, WHO, json=_body(course_clinic, "Booster", override=override))
        assert response.status_code == 403
    no_reason = api.post(
        "/api/courses",
        "admin",
        json=_body(course_clinic, "Booster", override={"rule": "precondition:completed_course"}),
    )
    assert no_reason.status_code == 422
    assert "reason" in no_reason.json["errors"]["json"]["override"]["0"]
    blank = api.post(
        "/api/courses",
        "admin",
        json=_body(
            course_clinic,
            "Booster",
            override={"rule": "precondition:completed_course", "reason": "  "},
        ),
    )
    assert blank.status_code == 422
    unknown = api.post(
        "/api/courses",
        "admin",
        json=_body(course_clinic, "Booster", override={"rule": "anything", "reason": "x"}),
    )
    assert unknown.status_code == 422
    assert "rule" in unknown.json["errors"]["json"]["override"]["0"]
    assert _count(session, Course) == 0


def test_an_override_for_another_precondition_does_not_cover_the_missing_one(
    api, course_clinic, session
):
    override = {"rule": "precondition:rems_enrollment", "reason": "Wrong rule"}
    response = api.post(
        "/api/courses", "admin", json=_body(course_clinic, "Booster", override=override)
    )
    assert response.status_code == 409 and response.json["rule"] == "precondition"


def test_an_override_that_is_not_needed_is_not_recorded(api, course_clinic, session, now):
    _enroll(session, course_clinic, now.date())
    override = {"rule": "precondition:rems_enrollment", "reason": "Not needed"}
    booked = api.post(
        "/api/courses", "admin", json=_body(course_clinic, "Esketamine", override=override)
    )
    assert booked.status_code == 201, booked.json
    assert session.get(Course, booked.json["id"]).exceptions == []


# -- what "a completed induction" means ---------------------------------------------------


def test_booster_after_an_induction_with_every_dose_held(session, course_clinic, now):
    _course, booked, _ = book(session, course_clinic, "IV", now)
    _hold_doses(session, booked, 1, 5)
    (missing,) = _missing(session, course_clinic, "Booster", now)
    assert missing.message == (
        "A booster needs a completed induction course; this patient's induction course "
        "(IV ketamine induction series) is not completed: 5 of 6 doses held"
    )
    _hold_doses(session, booked, 6, 6)
    assert _missing(session, course_clinic, "Booster", now) == []


@pytest.mark.parametrize(
    ("status", "counts"),
    [(CourseStatus.COMPLETED, True), (CourseStatus.CANCELLED, False), (CourseStatus.ACTIVE, False)],
)
def test_course_status_and_kind_decide_what_counts(session, course_clinic, now, status, counts):
    for prefix in ("Booster", "IV"):  # A completed booster is no induction.
        with write_transaction(session):
            session.add(
                Course(
                    patient_id=course_clinic.clinic.patient.id,
                    location_id=course_clinic.clinic.location.id,
                    protocol_version_id=current_version(session, course_clinic.protocol(prefix)).id,
                    status=status if prefix == "IV" else CourseStatus.COMPLETED,
                    preferences={},
                )
            )
    assert (_missing(session, course_clinic, "Booster", now) == []) is counts


def test_integrity_check_call_leaves_the_course_out_and_costs_two_queries(
    session, course_clinic, now
):
    """The integrity checker calls it for a booked course: the course itself is no induction
    for itself, and the check stays cheap."""
    with write_transaction(session):
        induction = Course(
            patient_id=course_clinic.clinic.patient.id,
            location_id=course_clinic.clinic.location.id,
            protocol_version_id=current_version(session, course_clinic.protocol("IV")).id,
            status=CourseStatus.COMPLETED,
            preferences={},
        )
        session.add(induction)
    definition = parse_definition(
        {**BOOSTER, "requires": BOOSTER["requires"] + [{"rule": "rems_enrollment"}]}
    )
    session.expire_all()
    statements: list[str] = []
    engine = session.get_bind()
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        found = missing_preconditions(
            session, patient_id=course_clinic.clinic.patient.id, definition=definition, now=now
        )
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert [m.rule for m in found] == ["precondition:rems_enrollment"]
    assert len([s for s in statements if s.startswith("SELECT")]) <= 2, statements
    left_out = missing_preconditions(
        session,
        patient_id=course_clinic.clinic.patient.id,
        definition=definition,
        now=now,
        exclude_course_id=induction.id,
    )
    assert [m.rule for m in left_out] == [
        "precondition:completed_course",
        "precondition:rems_enrollment",
    ]


# -- the protocol document ----------------------------------------------------------------


def test_seeds_declare_what_they_count_as_and_require():
    assert parse_definition(IV_INDUCTION).counts_as == ("induction",)
    assert parse_definition(ESKETAMINE).counts_as == ("induction",)
    assert parse_definition(ESKETAMINE).requires == (Requirement("rems_enrollment"),)
    booster = parse_definition(BOOSTER)
    assert booster.counts_as == ("booster",)
    assert booster.requires == (Requirement("completed_course", "induction"),)
    assert definition_document(booster)["requires"] == [
        {"rule": "completed_course", "of": "induction"}
    ]


def test_a_stored_document_without_the_fields_loads_with_no_requirements():
    old = {k: v for k, v in BOOSTER.items() if k not in ("counts_as", "requires")}
    definition = parse_definition(old)
    assert definition.counts_as == () and definition.requires == ()
    assert definition_document(definition)["requires"] == []


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"requires": [{"rule": "completed_course"}]}, "requires.0.of"),
        ({"requires": [{"rule": "rems_enrollment", "of": "induction"}]}, "requires.0.of"),
        ({"requires": [{"rule": "blood_test"}]}, "requires.0.rule"),
        ({"requires": [{"rule": "completed_course", "of": "inductoin"}]}, "requires.0.of"),
        ({"requires": [{"rule": "rems_enrollment", "why": "x"}]}, "requires.0.why"),
        ({"requires": {"rule": "rems_enrollment"}}, "requires"),
        ({"counts_as": ["induction", "tune_up"]}, "counts_as.1"),
        ({"counts_as": "induction"}, "counts_as"),
        (
            {"requires": [{"rule": "rems_enrollment"}, {"rule": "rems_enrollment"}]},
            "requires.1",
        ),
    ],
)
def test_requirement_errors_name_the_field(change, path):
    document = {**copy.deepcopy(BOOSTER), **change}
    with pytest.raises(ValidationFailed) as error:
        parse_definition(document)
    assert path in error.value.fields, error.value.fields


def test_protocol_api_refuses_a_bad_requirement_with_its_path(api):
    document = {**copy.deepcopy(BOOSTER), "name": "Tune-up", "requires": [{"rule": "x"}]}
    response = api.post("/api/protocols", "admin", json=document)
    assert response.status_code == 422
    assert "rule" in response.json["errors"]["json"]["requires"]["0"]
    document["requires"] = [{"rule": "rems_enrollment"}, {"rule": "rems_enrollment"}]
    response = api.post("/api/protocols", "admin", json=document)
    assert response.status_code == 422
    assert response.json["errors"]["json"]["requires.1"] == ["this requirement is listed twice"]


def test_seeding_an_older_database_keeps_its_versions_and_says_what_they_lack(session, now):
    """A database seeded before preconditions were checked keeps its stored versions; the
    seed reports that they lack the new fields instead of rewriting them."""
    old = {k: v for k, v in BOOSTER.items() if k not in ("counts_as", "requires")}
    with write_transaction(session):
        protocol = create_protocol(session, Action("old seed", None, now), old)
        # As stored before the fields existed (documents are normalized on write now).
        current_version(session, protocol).definition = old
    with write_transaction(session):
        seeded = seed_protocols(session, Action("seed", None, now))
    booster = next(s for s in seeded if s.protocol.name == BOOSTER["name"])
    assert not booster.created and booster.lacks == ("counts_as", "requires")
    versions = session.scalars(
        select(ProtocolVersion).where(ProtocolVersion.protocol_id == booster.protocol.id)
    ).all()
    assert len(versions) == 1 and versions[0].definition == old
    assert definition_of(versions[0]).requires == ()
    assert all(s.created and not s.lacks for s in seeded if s is not booster)
    assert _count(session, Protocol) == 4


# -- the pages ----------------------------------------------------------------------------


def test_start_page_names_the_missing_precondition(app, course_clinic, session):
    client = app.test_client()
    sign_in(client, course_clinic.clinic.front_desk)
    patient = course_clinic.clinic.patient
    response = client.post(
        f"/patients/{patient.id}/courses/plan",
        data={
            "protocol_id": course_clinic.protocol("Esketamine").id,
            "location_id": course_clinic.clinic.location.id,
            "earliest": "2026-03-03",
            "telehealth_ok": "y",
            "clinician_id": "0",
            "therapist_id": "0",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "A precondition of this protocol is missing" in page
    assert "REMS enrollment (date and number)" in page
    assert f"/patients/{patient.id}/edit" in page
    assert _count(session, Course) == 0


def test_rems_enrollment_stays_off_feeds_and_reminders(api, app, course_clinic, session, now):
    """Staff-only data: the enrollment number never reaches the patient's calendar or the
    reminders planned for the course."""
    import json

    from scheduler.feeds.tokens import issue_feed_token
    from scheduler.models import FeedOwnerKind, Reminder

    _enroll(session, course_clinic, now.date() - dt.timedelta(days=2), "SPR-PRIVATE-4711")
    booked = api.post("/api/courses", WHO, json=_body(course_clinic, "Esketamine"))
    assert booked.status_code == 201, booked.json
    patient = course_clinic.clinic.patient
    with write_transaction(session):
        token = issue_feed_token(session, FeedOwnerKind.PATIENT, patient.id, Action("t", None, now))
    feed = app.test_client().get(f"/feeds/{token}.ics")
    assert feed.status_code == 200 and b"BEGIN:VEVENT" in feed.data
    assert b"SPR-PRIVATE-4711" not in feed.data
    reminders = session.scalars(select(Reminder).where(Reminder.patient_id == patient.id)).all()
    assert reminders
    assert "SPR-PRIVATE-4711" not in json.dumps([r.context for r in reminders], default=str)


def test_patient_edit_page_records_the_rems_enrollment(app, course_clinic, session):
    client = app.test_client()
    sign_in(client, course_clinic.clinic.front_desk)
    patient = course_clinic.clinic.patient
    page = client.get(f"/patients/{patient.id}").get_data(as_text=True)
    assert "Not enrolled on record" in page
    form = client.get(f"/patients/{patient.id}/edit").get_data(as_text=True)
    assert 'name="rems_enrolled_on"' in form and 'name="rems_number"' in form
    data = {
        "first_name": patient.first_name,
        "last_name": patient.last_name,
        "date_of_birth": patient.date_of_birth.isoformat(),
        "timezone": patient.timezone,
        "email": patient.email or "avery@example.org",
        "remind_by_email": "y",
    }
    half = client.post(
        f"/patients/{patient.id}/edit", data={**data, "rems_enrolled_on": "2026-02-01"}
    )
    assert half.status_code == 422
    assert "needs both its date and its number" in half.get_data(as_text=True)
    saved = client.post(
        f"/patients/{patient.id}/edit",
        data={**data, "rems_enrolled_on": "2026-02-01", "rems_number": "SPR-55"},
    )
    assert saved.status_code == 302
    session.expire_all()
    assert (patient.rems_enrolled_on, patient.rems_number) == (dt.date(2026, 2, 1), "SPR-55")
    assert "SPR-55" in client.get(f"/patients/{patient.id}").get_data(as_text=True)
