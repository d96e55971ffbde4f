"""Feeds follow appointment changes: stable UIDs, rising SEQUENCE, departures, counters."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from scheduler.audit import Action
from scheduler.booking import reschedule_appointment
from scheduler.clinic.patients import update_patient
from scheduler.clinic.rooms import update_room
from scheduler.clinic.staff import update_staff
from scheduler.db import write_transaction
from scheduler.feeds import touch_owner
from scheduler.models import AppointmentKind, FeedOwnerKind, FeedVersion, StaffPart
from tests.conftest import NOW

from .conftest import feed_events, local


def versions(session) -> dict[tuple[str, int], int]:
    session.expire_all()
    return {(v.owner_kind, v.owner_id): v.version for v in session.scalars(select(FeedVersion))}


def test_reschedule_keeps_the_uid_and_raises_sequence(session, clinic, feed_token, fetch):
    token = feed_token(FeedOwnerKind.PATIENT, clinic.avery.id)
    before = feed_events(fetch(token).data)
    dosing = next(a for a in clinic.appointments if a.kind == AppointmentKind.DOSING)
    old = before[dosing.uid]
    with write_transaction(session):
        reschedule_appointment(
            session,
            dosing,
            Action("t", None, NOW),
            starts_at=local(clinic.ny.location, dt.date(2026, 3, 4), 10),
        )
    after = feed_events(fetch(token).data)
    assert set(after) == set(before)  # no duplicate, no orphan
    moved = after[dosing.uid]
    assert int(moved["SEQUENCE"]) == int(old["SEQUENCE"]) + 1
    assert moved.decoded("DTSTART") == local(clinic.ny.location, dt.date(2026, 3, 4), 10)
    assert moved.decoded("DTSTAMP") == dosing.updated_at
    assert moved.decoded("LAST-MODIFIED") == dosing.updated_at
    for uid, event in after.items():
        if uid != dosing.uid:
            assert event.to_ical() == before[uid].to_ical()


def test_reassigned_staff_see_the_event_cancelled(session, clinic, feed_token, fetch, make):
    from scheduler.models import Role

    ny = clinic.ny
    new_therapist = make.staff([Role.THERAPIST], ny.location, name="Sam Standin")
    old_token = feed_token(FeedOwnerKind.STAFF, ny.therapist.id)
    new_token = feed_token(FeedOwnerKind.STAFF, new_therapist.id)
    session_ = next(a for a in clinic.appointments if a.kind == AppointmentKind.INTEGRATION)
    assert str(feed_events(fetch(old_token).data)[session_.uid]["STATUS"]) == "TENTATIVE"
    with write_transaction(session):
        reschedule_appointment(
            session,
            session_,
            Action("t", None, NOW),
            staff=[(new_therapist.id, StaffPart.THERAPIST)],
        )
    gone = feed_events(fetch(old_token).data)[session_.uid]
    assert str(gone["STATUS"]) == "CANCELLED"
    assert int(gone["SEQUENCE"]) == session_.revision
    assert str(feed_events(fetch(new_token).data)[session_.uid]["STATUS"]) == "TENTATIVE"
    # Patients keep seeing it, now with the new therapist.
    avery = feed_events(fetch(feed_token(FeedOwnerKind.PATIENT, clinic.avery.id)).data)
    assert "with Sam" in str(avery[session_.uid]["SUMMARY"])
    # Back to the first therapist: live again in their feed, gone from the stand-in's.
    with write_transaction(session):
        reschedule_appointment(
            session,
            session_,
            Action("t", None, NOW),
            staff=[(ny.therapist.id, StaffPart.THERAPIST)],
        )
    assert str(feed_events(fetch(old_token).data)[session_.uid]["STATUS"]) == "TENTATIVE"
    assert str(feed_events(fetch(new_token).data)[session_.uid]["STATUS"]) == "CANCELLED"


def test_counters_of_every_affected_owner_rise_with_the_change(session, clinic, make):
    from scheduler.models import Role, RoomKind

    ny = clinic.ny
    other_room = make.room(ny.location, RoomKind.THERAPY_ROOM, "Therapy 2")
    other = make.staff([Role.THERAPIST], ny.location, name="Other Therapist")
    moved = next(a for a in clinic.appointments if a.kind == AppointmentKind.INTEGRATION)
    old_room = moved.room_id
    seen = versions(session)
    with write_transaction(session):
        reschedule_appointment(
            session,
            moved,
            Action("t", None, NOW),
            room_id=other_room.id,
            staff=[(other.id, StaffPart.THERAPIST)],
        )
    now = versions(session)
    raised = {owner for owner in now if now[owner] > seen.get(owner, 0)}
    assert raised == {
        ("patient", clinic.avery.id),
        ("location", ny.location.id),
        ("room", old_room),
        ("room", other_room.id),
        ("staff", ny.therapist.id),
        ("staff", other.id),
    }
    # Once per owner per transaction, however many flushes it took.
    assert all(now[o] == seen.get(o, 0) + 1 for o in raised)


def test_edits_outside_booking_raise_the_right_counters(session, clinic):
    seen = versions(session)
    update_patient(session, Action("t", None, NOW), clinic.avery, {"feed_privacy": "detailed"})
    session.commit()
    assert versions(session)[("patient", clinic.avery.id)] == seen[("patient", clinic.avery.id)] + 1
    update_staff(session, Action("t", None, NOW), clinic.ny.clinician, {"feed_full_names": True})
    session.commit()
    staff_key = ("staff", clinic.ny.clinician.id)
    assert versions(session)[staff_key] == seen[staff_key] + 1
    clinic_before = versions(session).get(("clinic", 0), 0)
    update_room(
        session,
        Action("t", None, NOW),
        clinic.ny.telehealth,
        {"video_url": "https://video.example.org/new"},
    )
    session.commit()
    assert versions(session)[("clinic", 0)] == clinic_before + 1
    with write_transaction(session):
        touch_owner(session, "room", clinic.berlin_chair.id)
    assert (
        versions(session)[("room", clinic.berlin_chair.id)]
        == seen.get(("room", clinic.berlin_chair.id), 0) + 1
    )
    # Unrelated edits leave every counter alone.
    quiet = versions(session)
    update_patient(session, Action("t", None, NOW), clinic.avery, {"phone": "+15550199"})
    session.commit()
    assert versions(session) == quiet


def test_rebuilds_after_changes_equal_a_build_from_scratch(session, clinic, feed_token, fetch):
    """Rebuilds re-read only the appointments whose revision moved; the result must be the
    bytes a full build gives."""
    from scheduler.booking import cancel_appointment, progress_appointment
    from scheduler.clock import now
    from scheduler.feeds import resolve_feed
    from scheduler.feeds.render import FeedSettings, build_feed

    ny = clinic.ny
    tokens = [
        feed_token(FeedOwnerKind.STAFF, ny.therapist.id),
        feed_token(FeedOwnerKind.STAFF, ny.clinician.id),
        feed_token(FeedOwnerKind.ROOM, ny.telehealth.id),
        feed_token(FeedOwnerKind.LOCATION, ny.location.id),
    ]
    integration = [a for a in clinic.appointments if a.kind == AppointmentKind.INTEGRATION]
    dosing = [a for a in clinic.appointments if a.kind == AppointmentKind.DOSING]
    changes = [
        lambda: reschedule_appointment(
            session, integration[1], Action("t", None, NOW), room_id=ny.therapy_room.id
        ),
        lambda: cancel_appointment(session, integration[2], Action("t", None, NOW), "ill"),
        lambda: progress_appointment(session, dosing[2], Action("t", None, NOW), "confirm"),
        lambda: reschedule_appointment(
            session,
            dosing[3],
            Action("t", None, NOW),
            starts_at=dosing[3].starts_at + dt.timedelta(hours=3),
        ),
    ]
    settings = FeedSettings()
    for token in tokens:
        fetch(token)
    for change in changes:
        with write_transaction(session):
            change()
        for token in tokens:
            served = fetch(token).data
            state = resolve_feed(session, token)
            scratch = build_feed(session, state, settings.window(now()), settings)
            assert served == scratch.body
