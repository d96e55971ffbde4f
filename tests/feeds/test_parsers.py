"""Every patient's and staff member's feed parses with icalendar and with independent parsers
(vobject, recurring-ical-events), and holds exactly the database's appointments at the right
instants and local times, VTIMEZONE included."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events
import vobject

from scheduler.models import AppointmentStatus, FeedOwnerKind

from .conftest import expected_appointments, feed_events


def renamed_zones(body: bytes) -> str:
    """The feed with its TZIDs renamed, so parsers must use the feed's VTIMEZONE blocks rather
    than their own copy of the zone."""
    text = body.decode()
    for zone in ("America/New_York", "Europe/Berlin"):
        text = text.replace(f"TZID:{zone}", f"TZID:Clinic {zone[-6:]}")
        text = text.replace(f"TZID={zone}:", f"TZID=Clinic {zone[-6:]}:")
    return text


def check_feed(session, body: bytes, expected) -> None:
    by_id = {a.uid: a for a in expected}
    # icalendar
    events = feed_events(body)
    assert set(events) == set(by_id)
    for uid, event in events.items():
        appointment = by_id[uid]
        zone = ZoneInfo(appointment.location.timezone)
        start, end = event.decoded("DTSTART"), event.decoded("DTEND")
        assert start == appointment.starts_at and end == appointment.ends_at
        assert str(start.tzinfo) == appointment.location.timezone
        local = appointment.starts_at.astimezone(zone)
        assert event["DTSTART"].to_ical().decode() == local.strftime("%Y%m%dT%H%M%S")
        assert int(event["SEQUENCE"]) == appointment.revision
        cancelled = appointment.status == AppointmentStatus.CANCELLED
        assert (str(event["STATUS"]) == "CANCELLED") == cancelled

    renamed = renamed_zones(body)
    # vobject: builds tzinfos from the VTIMEZONE blocks (dateutil).
    calendar = vobject.readOne(renamed)
    parsed = {str(e.uid.value): e for e in getattr(calendar, "vevent_list", [])}
    assert set(parsed) == set(by_id)
    for uid, event in parsed.items():
        assert event.dtstart.value.astimezone(dt.UTC) == by_id[uid].starts_at
        assert event.dtend.value.astimezone(dt.UTC) == by_id[uid].ends_at
        local = by_id[uid].starts_at.astimezone(ZoneInfo(by_id[uid].location.timezone))
        assert event.dtstart.value.replace(tzinfo=None) == local.replace(tzinfo=None)

    # recurring-ical-events over icalendar, with the renamed zones.
    occurrences = recurring_ical_events.of(icalendar.Calendar.from_ical(renamed)).between(
        dt.datetime(2025, 1, 1, tzinfo=dt.UTC), dt.datetime(2028, 1, 1, tzinfo=dt.UTC)
    )
    found = {str(e["UID"]): e for e in occurrences}
    assert set(found) == set(by_id) and len(occurrences) == len(by_id)
    for uid, event in found.items():
        assert event.decoded("DTSTART").astimezone(dt.UTC) == by_id[uid].starts_at


def test_every_feed_parses_with_the_databases_events(session, clinic, feed_token, fetch):
    for patient in clinic.patients:
        response = fetch(feed_token(FeedOwnerKind.PATIENT, patient.id))
        assert response.status_code == 200
        expected = expected_appointments(session, lambda a, p=patient: a.patient_id == p.id)
        assert expected
        check_feed(session, response.data, expected)
    for member in clinic.staff:
        response = fetch(feed_token(FeedOwnerKind.STAFF, member.id))
        assert response.status_code == 200
        expected = expected_appointments(session, lambda a, m=member: m.id in a.staff_ids)
        assert expected
        check_feed(session, response.data, expected)
    for room in (clinic.ny.chair, clinic.ny.telehealth, clinic.berlin_therapy):
        response = fetch(feed_token(FeedOwnerKind.ROOM, room.id))
        expected = expected_appointments(session, lambda a, r=room: a.room_id == r.id)
        check_feed(session, response.data, expected)
    for location in (clinic.ny.location, clinic.berlin):
        response = fetch(feed_token(FeedOwnerKind.LOCATION, location.id))
        expected = expected_appointments(session, lambda a, loc=location: a.location_id == loc.id)
        check_feed(session, response.data, expected)


def test_series_across_daylight_saving_keeps_local_time(session, clinic, feed_token, fetch):
    body = fetch(feed_token(FeedOwnerKind.PATIENT, clinic.avery.id)).data
    events = feed_events(body)
    dosing = sorted(
        (e.decoded("DTSTART") for e in events.values() if "Treatment" in str(e["SUMMARY"])),
    )
    # 09:00 in New York: 14:00 UTC in EST (before Sunday 8 March), 13:00 UTC in EDT.
    assert [d.astimezone(dt.UTC).hour for d in dosing] == [14, 14, 13, 13, 13, 13]
    assert {d.astimezone(ZoneInfo("America/New_York")).hour for d in dosing} == {9}

    calendar = vobject.readOne(
        renamed_zones(fetch(feed_token(FeedOwnerKind.PATIENT, clinic.emile.id)).data)
    )
    starts = sorted(
        e.dtstart.value.astimezone(dt.UTC)
        for e in calendar.vevent_list
        if e.dtstart.value.astimezone(ZoneInfo("Europe/Berlin")).hour == 10
    )
    # 10:00 in Berlin: 09:00 UTC in CET (19 and 26 March), 08:00 UTC in CEST (2 April).
    assert [s.hour for s in starts] == [9, 9, 8]


def test_patient_in_another_zone_sees_the_clinic_time(session, clinic, feed_token, fetch):
    body = fetch(feed_token(FeedOwnerKind.PATIENT, clinic.blake.id)).data
    calendar = icalendar.Calendar.from_ical(body)
    assert str(calendar["X-WR-TIMEZONE"]) == "America/Los_Angeles"
    (dosing,) = [e for e in calendar.walk("VEVENT") if "Treatment" in str(e["SUMMARY"])]
    start = dosing.decoded("DTSTART")
    # Booked at 11:00 in New York: 08:00 in Los Angeles, the same instant.
    assert start.astimezone(ZoneInfo("America/New_York")).hour == 11
    assert start.astimezone(ZoneInfo("America/Los_Angeles")).hour == 8
    assert "TZID=America/New_York" in body.decode()
    assert [c["TZID"] for c in calendar.walk("VTIMEZONE")] == ["America/New_York"]
