"""Moving a dosing session with its pair and the sessions whose spacing it breaks; cancelling
a session with or without its pair."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from sqlalchemy import select

from scheduler.audit import Action
from scheduler.booking import reschedule_appointment
from scheduler.courses import apply_moves, cancel_session, preview_move, read_token
from scheduler.db import write_transaction
from scheduler.errors import Conflict, ValidationFailed
from scheduler.models import Appointment, AppointmentStatus, AuditEntry

from .helpers import book

SECRET = "test-secret"


def _by_key(booked: list[Appointment]) -> dict[str, Appointment]:
    return {f"{a.step_key}-{a.sequence}": a for a in booked}


def test_moving_the_third_infusion_two_days_moves_its_pair_and_what_follows(
    session, course_clinic, now
):
    _course, booked, _ = book(session, course_clinic, "IV", now)
    appts = _by_key(booked)
    third = appts["dosing-3"]
    before = {a.id: (a.starts_at, a.revision) for a in booked}
    target = third.starts_at + dt.timedelta(days=2)
    preview = preview_move(session, third, starts_at=target, room_id=None, staff=None, now=now)
    moved = {m.appointment_id: m for m in preview.moves}
    assert moved[third.id].starts_at == target and moved[third.id].reason == "requested"
    pair = appts["integration-3"]
    assert moved[pair.id].reason == "pair"
    assert moved[pair.id].starts_at - target >= dt.timedelta(hours=18 + 100 / 60)
    assert moved[appts["dosing-4"].id].reason == "spacing"
    assert all(m.starts_at >= now for m in preview.moves)
    # Nothing was written by the preview.
    session.expire_all()
    assert all(session.get(Appointment, i).starts_at == s for i, (s, _) in before.items())

    approved = read_token(preview.token(SECRET), SECRET, third.id)
    action = Action("course.move", None, now)
    with write_transaction(session):
        changed = apply_moves(session, action, approved)
    assert {a.id for a in changed} == set(moved)
    for a in changed:
        assert a.revision == before[a.id][1] + 1
        assert a.starts_at == moved[a.id].starts_at
    entries = session.scalars(select(AuditEntry).where(AuditEntry.action_id == action.id)).all()
    assert sorted(e.entity_id for e in entries) == sorted(moved)
    assert {e.action for e in entries} == {"appointment.reschedule"}
    # The course still keeps every rule.
    doses = sorted(
        (a for a in booked if a.step_key == "dosing"),
        key=lambda a: a.sequence,  # type: ignore[arg-type]
    )
    for a, b in itertools.pairwise(doses):
        assert dt.timedelta(hours=48) <= b.starts_at - a.starts_at <= dt.timedelta(days=7)
    assert doses[-1].ends_at - doses[0].starts_at <= dt.timedelta(days=21)


def test_a_preview_is_stale_once_the_course_changed(session, course_clinic, now):
    _course, booked, _ = book(session, course_clinic, "IV", now)
    appts = _by_key(booked)
    third = appts["dosing-3"]
    preview = preview_move(
        session,
        third,
        starts_at=third.starts_at + dt.timedelta(days=2),
        room_id=None,
        staff=None,
        now=now,
    )
    last = appts["integration-6"]
    with write_transaction(session):
        reschedule_appointment(
            session,
            last,
            Action("t", None, now),
            starts_at=last.starts_at + dt.timedelta(hours=1),
        )
    with pytest.raises(Conflict) as caught, write_transaction(session):
        apply_moves(
            session, Action("m", None, now), read_token(preview.token(SECRET), SECRET, third.id)
        )
    assert caught.value.rule == "stale_preview" and str(last.id) in caught.value.message


def test_tokens_are_signed_and_bound_to_the_appointment(session, course_clinic, now):
    _course, booked, _ = book(session, course_clinic, "IV", now)
    third = _by_key(booked)["dosing-3"]
    preview = preview_move(
        session,
        third,
        starts_at=third.starts_at + dt.timedelta(days=2),
        room_id=None,
        staff=None,
        now=now,
    )
    with pytest.raises(ValidationFailed):
        read_token(preview.token(SECRET) + "x", SECRET, third.id)
    with pytest.raises(ValidationFailed):
        read_token(preview.token(SECRET), SECRET, third.id + 1)
    assert len(preview.fingerprint) == 64


def test_a_move_that_breaks_the_earlier_spacing_is_refused(session, course_clinic, now):
    _course, booked, _ = book(session, course_clinic, "IV", now)
    appts = _by_key(booked)
    third = appts["dosing-3"]
    too_soon = appts["dosing-2"].starts_at + dt.timedelta(hours=24)
    with pytest.raises(Conflict) as caught:
        preview_move(session, third, starts_at=too_soon, room_id=None, staff=None, now=now)
    assert caught.value.message.startswith("Cannot move dosing 3 of 6:")


def test_cancelling_a_dose_asks_about_its_pair(session, course_clinic, now):
    _course, booked, _ = book(session, course_clinic, "IV", now)
    appts = _by_key(booked)
    with pytest.raises(ValidationFailed) as caught, write_transaction(session):
        cancel_session(session, Action("c", None, now), appts["dosing-2"], "unwell", None)
    assert "keep_integration" in caught.value.fields
    with write_transaction(session):
        kept = cancel_session(session, Action("c", None, now), appts["dosing-2"], "unwell", True)
    assert [a.id for a in kept] == [appts["dosing-2"].id]
    assert appts["integration-2"].status == AppointmentStatus.SCHEDULED
    with write_transaction(session):
        both = cancel_session(session, Action("c", None, now), appts["dosing-4"], "unwell", False)
    assert {a.id for a in both} == {appts["dosing-4"].id, appts["integration-4"].id}
    assert all(a.status == AppointmentStatus.CANCELLED and a.revision == 2 for a in both)
