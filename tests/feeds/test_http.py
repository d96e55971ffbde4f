"""The feed over HTTP: headers, conditional requests, gzip, misses and their rate limit."""

from __future__ import annotations

import datetime as dt
import gzip

import pytest

from scheduler.audit import Action
from scheduler.booking import cancel_appointment, reschedule_appointment
from scheduler.clinic.locations import update_location
from scheduler.clinic.patients import update_patient
from scheduler.clinic.staff import update_staff
from scheduler.db import write_transaction
from scheduler.models import AppointmentKind, FeedOwnerKind, FeedPrivacy, StaffPart
from tests.conftest import NOW

from .conftest import build_clinic, feed_events, local


@pytest.fixture
def small(session, make):
    clinic = make.clinic()
    day = dt.date(2026, 3, 3)
    first = make.appointment(clinic, start=make.local(clinic.location, day, 9))
    second = make.appointment(
        clinic,
        kind=AppointmentKind.INTEGRATION,
        start=make.local(clinic.location, day + dt.timedelta(days=1), 9),
        minutes=50,
    )
    return clinic, first, second


def test_headers_and_repeatable_bytes(small, feed_token, fetch):
    clinic, _first, _second = small
    token = feed_token(FeedOwnerKind.PATIENT, clinic.patient.id)
    one = fetch(token)
    assert one.status_code == 200
    assert one.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert one.headers["Cache-Control"] == "private"
    etag = one.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert one.headers["Last-Modified"].endswith("GMT")
    assert "Accept-Encoding" in one.headers["Vary"]
    two = fetch(token)
    assert two.data == one.data and two.headers["ETag"] == etag
    text = one.data.decode()
    for line in (
        "VERSION:2.0",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
        "X-PUBLISHED-TTL:PT1H",
        "X-WR-TIMEZONE:America/New_York",
    ):
        assert f"\r\n{line}\r\n" in text
    assert "\r\nPRODID:" in text and "\r\nX-WR-CALNAME:" in text


def test_conditional_requests(small, feed_token, fetch, session):
    clinic, first, _second = small
    token = feed_token(FeedOwnerKind.PATIENT, clinic.patient.id)
    one = fetch(token)
    etag, modified = one.headers["ETag"], one.headers["Last-Modified"]
    again = fetch(token, **{"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag
    assert fetch(token, **{"If-None-Match": f'"other", {etag}'}).status_code == 304
    assert fetch(token, **{"If-None-Match": '"other"'}).status_code == 200
    assert fetch(token, **{"If-Modified-Since": modified}).status_code == 304
    # If-None-Match wins over If-Modified-Since.
    stale = {"If-None-Match": '"other"', "If-Modified-Since": modified}
    assert fetch(token, **stale).status_code == 200

    with write_transaction(session):
        reschedule_appointment(
            session,
            first,
            Action("test", None, NOW),
            starts_at=first.starts_at + dt.timedelta(hours=2),
        )
    fresh = fetch(token, **{"If-None-Match": etag})
    assert fresh.status_code == 200 and fresh.headers["ETag"] != etag
    assert fetch(token, **{"If-Modified-Since": modified}).status_code == 200
    assert fetch(token, **{"If-None-Match": fresh.headers["ETag"]}).status_code == 304


def test_gzip_when_accepted(small, feed_token, fetch):
    clinic, _first, _second = small
    token = feed_token(FeedOwnerKind.STAFF, clinic.therapist.id)
    plain = fetch(token)
    packed = fetch(token, **{"Accept-Encoding": "gzip, deflate"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.data) == plain.data
    assert packed.headers["ETag"] != plain.headers["ETag"]
    assert fetch(token, **{"Accept-Encoding": "gzip"}).data == packed.data
    # Either tag names the same content.
    conditional = {"Accept-Encoding": "gzip", "If-None-Match": plain.headers["ETag"]}
    assert fetch(token, **conditional).status_code == 304
    refused = fetch(token, **{"Accept-Encoding": "gzip;q=0, identity"})
    assert "Content-Encoding" not in refused.headers and refused.data == plain.data


def test_new_etag_after_each_kind_of_change(small, feed_token, fetch, session, clock):
    clinic, first, second = small
    patient_token = feed_token(FeedOwnerKind.PATIENT, clinic.patient.id)
    staff_token = feed_token(FeedOwnerKind.STAFF, clinic.therapist.id)
    seen = {fetch(patient_token).headers["ETag"]}
    staff_seen = {fetch(staff_token).headers["ETag"]}

    def patient_changed() -> None:
        tag = fetch(patient_token).headers["ETag"]
        assert tag not in seen
        seen.add(tag)

    def staff_changed() -> None:
        tag = fetch(staff_token).headers["ETag"]
        assert tag not in staff_seen
        staff_seen.add(tag)

    update_patient(
        session, Action("test", None, NOW), clinic.patient, {"feed_privacy": FeedPrivacy.DETAILED}
    )
    session.commit()
    patient_changed()
    # "with Robin" in standard+ summaries
    update_staff(session, Action("test", None, NOW), clinic.therapist, {"name": "Robin Therapist"})
    session.commit()
    patient_changed()
    staff_changed()
    update_staff(session, Action("test", None, NOW), clinic.therapist, {"feed_full_names": True})
    session.commit()
    staff_changed()
    update_location(
        session, Action("test", None, NOW), clinic.location, {"address": "2 Other Street"}
    )
    session.commit()
    patient_changed()
    with write_transaction(session):
        cancel_appointment(session, second, Action("test", None, NOW), "patient asked")
    patient_changed()
    staff_changed()
    # A new day moves the window: a new tag even with the same events.
    clock.set(NOW + dt.timedelta(days=1))
    patient_changed()
    # An event leaving the window (90 days after it ended).
    clock.set(first.ends_at + dt.timedelta(days=92))
    body = fetch(patient_token).data
    assert first.uid not in feed_events(body)
    patient_changed()


def test_cancelled_stays_30_days_then_leaves(small, feed_token, fetch, session, clock):
    clinic, first, _second = small
    token = feed_token(FeedOwnerKind.PATIENT, clinic.patient.id)
    before = feed_events(fetch(token).data)[first.uid]
    with write_transaction(session):
        cancel_appointment(session, first, Action("test", None, NOW), "unwell")
    event = feed_events(fetch(token).data)[first.uid]
    assert str(event["STATUS"]) == "CANCELLED"
    assert int(event["SEQUENCE"]) > int(before["SEQUENCE"])
    assert "VALARM" not in event.to_ical().decode()
    clock.set(NOW + dt.timedelta(days=29))
    assert first.uid in feed_events(fetch(token).data)
    clock.set(NOW + dt.timedelta(days=31))
    assert first.uid not in feed_events(fetch(token).data)


def test_misses_are_plain_404s_and_rate_limited(configure):
    app = configure(FEED_MISS_LIMIT="3 per minute")
    client = app.test_client()
    for path in ("/feeds/" + "x" * 43 + ".ics", "/feeds/short.ics", "/feeds/a/b"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.mimetype == "text/plain"
        assert b"<" not in response.data and len(response.data) < 20
    limited = client.get("/feeds/" + "y" * 43 + ".ics")
    assert limited.status_code == 429 and limited.mimetype == "text/plain"
    assert "Retry-After" in limited.headers
    # Another client address is not affected.
    other = client.get("/feeds/short.ics", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 404


def test_hits_do_not_count_against_the_miss_budget(small, configure, session):
    from scheduler.feeds import issue_feed_token

    clinic, _first, _second = small
    with write_transaction(session):
        token = issue_feed_token(
            session, FeedOwnerKind.PATIENT, clinic.patient.id, Action("t", None, NOW)
        )
    app = configure(FEED_MISS_LIMIT="2 per minute")
    client = app.test_client()
    for _ in range(5):
        assert client.get(f"/feeds/{token}.ics").status_code == 200
    assert client.get("/feeds/nope.ics").status_code == 404


@pytest.mark.committing
def test_two_processes_never_serve_a_stale_body(fresh_app, session, make):
    """Two app instances stand in for two worker processes sharing the database."""
    from scheduler.feeds import issue_feed_token, revoke_feed_tokens

    fc = build_clinic(session, make)
    with write_transaction(session):
        token = issue_feed_token(
            session, FeedOwnerKind.STAFF, fc.ny.therapist.id, Action("t", None, NOW)
        )
    # As in production: lookups on each worker's own driver connections (PostgreSQL).
    apps = [fresh_app(FEED_LOOKUP_CONNECTIONS=True) for _ in "ab"]
    worker_a, worker_b = (a.test_client() for a in apps)
    a1 = worker_a.get(f"/feeds/{token}.ics")
    b1 = worker_b.get(f"/feeds/{token}.ics")
    assert a1.data == b1.data and a1.headers["ETag"] == b1.headers["ETag"]
    moved = next(a for a in fc.appointments if a.kind == AppointmentKind.INTEGRATION)
    with write_transaction(session):
        reschedule_appointment(
            session,
            moved,
            Action("t", None, NOW),
            starts_at=local(fc.ny.location, dt.date(2026, 3, 20), 10),
            staff=[(fc.ny.therapist.id, StaffPart.THERAPIST)],
        )
    a2 = worker_a.get(f"/feeds/{token}.ics", headers={"If-None-Match": a1.headers["ETag"]})
    b2 = worker_b.get(f"/feeds/{token}.ics")
    assert a2.status_code == 200 and a2.data == b2.data
    assert "20260320T100000" in a2.data.decode()
    with write_transaction(session):
        revoke_feed_tokens(session, FeedOwnerKind.STAFF, fc.ny.therapist.id, Action("t", None, NOW))
    assert worker_a.get(f"/feeds/{token}.ics").status_code == 404
    assert worker_b.get(f"/feeds/{token}.ics").status_code == 404
