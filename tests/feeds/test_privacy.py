"""What each privacy level shows, and what no feed ever shows."""

from __future__ import annotations

import copy

import icalendar

from scheduler.audit import Action
from scheduler.clinic.patients import update_patient
from scheduler.clinic.staff import update_staff
from scheduler.db import write_transaction
from scheduler.feeds import render_appointment_ics, render_course_ics, staff_audience
from scheduler.feeds.privacy import StepInfo, step_info
from scheduler.models import AppointmentKind, FeedOwnerKind, FeedPrivacy
from scheduler.protocols import create_protocol, parse_definition
from scheduler.protocols.seed import ESKETAMINE, IV_INDUCTION
from tests.conftest import NOW

from .conftest import SECRETS, unfold


def summaries(body: bytes) -> list[str]:
    calendar = icalendar.Calendar.from_ical(body)
    return [str(e["SUMMARY"]) for e in calendar.walk("VEVENT")]


def descriptions(body: bytes) -> str:
    calendar = icalendar.Calendar.from_ical(body)
    return "\n".join(str(e.get("DESCRIPTION", "")) for e in calendar.walk("VEVENT"))


def test_minimal_shows_only_an_appointment_and_the_place(session, clinic, feed_token, fetch):
    clinic.avery.feed_privacy = FeedPrivacy.MINIMAL
    session.commit()
    body = fetch(feed_token(FeedOwnerKind.PATIENT, clinic.avery.id)).data
    names = summaries(body)
    assert set(names) == {"Clinic appointment"}
    calendar = icalendar.Calendar.from_ical(body)
    assert str(calendar["X-WR-CALNAME"]) == "Clinic appointments"
    places = {str(e["LOCATION"]) for e in calendar.walk("VEVENT")}
    assert places == {clinic.ny.location.address, clinic.ny.telehealth.video_url}
    # Everything a reader sees (UIDs are fixed at booking and not shown by calendar apps).
    lines = [line for line in unfold(body.decode()).split("\r\n") if not line.startswith("UID")]
    text = "\n".join(lines).lower()
    for word in ("treatment", "ketamine", "dana", "integration", "fast", "dosing"):
        assert word not in text


def test_standard_names_the_session_and_therapist(session, clinic, feed_token, fetch):
    body = fetch(feed_token(FeedOwnerKind.PATIENT, clinic.avery.id)).data
    names = summaries(body)
    for number in range(1, 7):
        assert f"Treatment session {number} of 6" in names
    assert "Integration session with Dana" in names
    assert "Evaluation with Casey" in names
    assert "No solid food" not in unfold(body.decode())


def test_detailed_adds_the_protocols_instructions(session, clinic, feed_token, fetch):
    clinic.avery.feed_privacy = FeedPrivacy.DETAILED
    session.commit()
    text = descriptions(fetch(feed_token(FeedOwnerKind.PATIENT, clinic.avery.id)).data)
    assert "No solid food for 6 hours before your infusion" in text
    assert "Arrange a driver to take you home" in text
    # Blake's appointments have no course: the clinic's default dosing instructions.
    blake = descriptions(fetch(feed_token(FeedOwnerKind.PATIENT, clinic.blake.id)).data)
    assert "drive you home" in blake


def test_telehealth_sessions_carry_the_video_link(session, clinic, feed_token, fetch):
    body = fetch(feed_token(FeedOwnerKind.PATIENT, clinic.blake.id)).data
    calendar = icalendar.Calendar.from_ical(body)
    (video,) = [e for e in calendar.walk("VEVENT") if "Integration" in str(e["SUMMARY"])]
    assert str(video["LOCATION"]) == clinic.ny.telehealth.video_url
    assert clinic.ny.telehealth.video_url in str(video["DESCRIPTION"])


def test_staff_see_initials_unless_they_opt_into_names(session, clinic, feed_token, fetch):
    token = feed_token(FeedOwnerKind.STAFF, clinic.ny.therapist.id)
    text = unfold(fetch(token).data.decode())
    assert "A.P." in text and "B.O." in text
    assert "Avery" not in text and "Okafor" not in text
    update_staff(session, Action("t", None, NOW), clinic.ny.therapist, {"feed_full_names": True})
    session.commit()
    text = unfold(fetch(token).data.decode())
    assert "Blake Okafor" in text and clinic.avery.name in text
    # Room and location feeds always use initials.
    room = unfold(fetch(feed_token(FeedOwnerKind.ROOM, clinic.ny.chair.id)).data.decode())
    assert "A.P." in room and "Avery" not in room


def test_no_feed_carries_a_note_a_dose_or_a_diagnosis(session, clinic, feed_token, fetch):
    for member in clinic.staff:
        member.feed_full_names = True
    session.commit()
    bodies = []
    for level in FeedPrivacy:
        for patient in clinic.patients:
            patient.feed_privacy = level
        session.commit()
        for patient in clinic.patients:
            bodies.append(fetch(feed_token(FeedOwnerKind.PATIENT, patient.id)).data)
        for appointment in clinic.appointments:
            bodies.append(render_appointment_ics(session, appointment))
        bodies.append(render_course_ics(session, clinic.course))
    for member in clinic.staff:
        bodies.append(fetch(feed_token(FeedOwnerKind.STAFF, member.id)).data)
        bodies.append(render_course_ics(session, clinic.course, audience=staff_audience(member)))
    for room in (clinic.ny.chair, clinic.ny.telehealth, clinic.berlin_chair):
        bodies.append(fetch(feed_token(FeedOwnerKind.ROOM, room.id)).data)
    for location in (clinic.ny.location, clinic.berlin):
        bodies.append(fetch(feed_token(FeedOwnerKind.LOCATION, location.id)).data)
    for body in bodies:
        text = unfold(body.decode())
        for secret in SECRETS:
            assert secret not in text
        assert "mg" not in text and "diagnos" not in text.lower()


def test_cancelled_events_say_so_and_lose_their_alarms(session, clinic, feed_token, fetch):
    body = fetch(feed_token(FeedOwnerKind.PATIENT, clinic.emile.id)).data
    calendar = icalendar.Calendar.from_ical(body)
    event = next(e for e in calendar.walk("VEVENT") if e["UID"] == clinic.cancelled.uid)
    assert str(event["STATUS"]) == "CANCELLED"
    assert str(event["SUMMARY"]).startswith("Cancelled: ")
    assert not event.walk("VALARM")
    live = [e for e in calendar.walk("VEVENT") if e["UID"] != clinic.cancelled.uid]
    assert all(e.walk("VALARM") for e in live)


def test_alarms_follow_the_patients_reminder_preferences(session, clinic, feed_token, fetch):
    token = feed_token(FeedOwnerKind.PATIENT, clinic.blake.id)

    def triggers() -> dict[str, list[str]]:
        calendar = icalendar.Calendar.from_ical(fetch(token).data)
        return {
            "dosing" if "Treatment" in str(e["SUMMARY"]) else "integration": sorted(
                a["TRIGGER"].to_ical().decode() for a in e.walk("VALARM")
            )
            for e in calendar.walk("VEVENT")
        }

    # Dosing 11:00 New York (08:00 where Blake lives, Los Angeles): 48 h and 2 h before. 2 h
    # before is 06:00 in Los Angeles, inside Blake's quiet hours (21:00-08:00), so that
    # reminder moves to 21:00 the evening before: 11 h before the start.
    found = triggers()
    assert found["dosing"] == ["-P2D", "-PT11H"]
    assert found["integration"] == ["-P1D", "-PT1H"]
    update_patient(
        session, Action("t", None, NOW), clinic.blake, {"reminder_overrides": {"integration": [3]}}
    )
    session.commit()
    assert triggers()["integration"] == ["-PT3H"]
    # Staff feeds never carry alarms.
    staff = fetch(feed_token(FeedOwnerKind.STAFF, clinic.ny.therapist.id)).data
    assert b"VALARM" not in staff


def test_appointment_ics_for_email(session, clinic):
    appointment = next(a for a in clinic.appointments if a.kind == AppointmentKind.DOSING)
    body = render_appointment_ics(session, appointment)
    calendar = icalendar.Calendar.from_ical(body)
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert "X-WR-CALNAME" not in calendar and "REFRESH-INTERVAL" not in calendar
    (event,) = calendar.walk("VEVENT")
    assert event["UID"] == appointment.uid and int(event["SEQUENCE"]) == appointment.revision
    assert [c["TZID"] for c in calendar.walk("VTIMEZONE")] == ["America/New_York"]
    course = icalendar.Calendar.from_ical(render_course_ics(session, clinic.course))
    uids = {str(e["UID"]) for e in course.walk("VEVENT")}
    assert uids == {a.uid for a in clinic.appointments if a.course_id == clinic.course.id}
    with write_transaction(session):
        from scheduler.booking import cancel_appointment

        cancel_appointment(session, appointment, Action("t", None, appointment.updated_at), "x")
    (event,) = icalendar.Calendar.from_ical(render_appointment_ics(session, appointment)).walk(
        "VEVENT"
    )
    assert str(event["STATUS"]) == "CANCELLED" and int(event["SEQUENCE"]) == 2


def test_step_numbers_count_the_typed_steps_and_pairings():
    iv, esketamine = parse_definition(IV_INDUCTION), parse_definition(ESKETAMINE)
    assert step_info(iv, "dosing") == StepInfo(total=6)
    assert step_info(iv, "integration") == StepInfo(total=6)  # the pairing counts its step's
    assert step_info(iv, "evaluation") == StepInfo(total=1)
    assert step_info(esketamine, "dosing") == StepInfo(total=None)  # open-ended maintenance
    assert step_info(iv, "unknown") == StepInfo() == step_info(None, "dosing")


def test_a_patients_calendar_follows_the_courses_protocol_version(session, clinic):
    document = copy.deepcopy(IV_INDUCTION)
    document["name"] = "IV induction (eight)"
    dosing = document["steps"][1]
    dosing["phases"][0]["count"] = 8
    dosing["window"] = "28d"
    dosing["pairing"]["reminder_hours"] = [28]
    dosing["pairing"]["instructions"] = "Bring headphones."
    with write_transaction(session):
        protocol = create_protocol(session, Action("test", None, NOW), document)
        clinic.course.protocol_version = protocol.versions[-1]
        clinic.avery.feed_privacy = FeedPrivacy.DETAILED
    calendar = icalendar.Calendar.from_ical(render_course_ics(session, clinic.course))
    events = calendar.walk("VEVENT")
    assert "Treatment session 3 of 8" in {str(e["SUMMARY"]) for e in events}
    integrations = [e for e in events if str(e["SUMMARY"]).startswith("Integration")]
    assert len(integrations) == 6
    for event in integrations:
        assert "Bring headphones." in str(event["DESCRIPTION"])
        triggers = [a["TRIGGER"].to_ical().decode() for a in event.walk("VALARM")]
        assert triggers == ["-P1DT4H"]
