"""Cancelling, pausing, resuming and extending courses."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from scheduler.audit import Action
from scheduler.booking import progress_appointment
from scheduler.courses import (
    cancel_course,
    course_view,
    extend_course,
    pause_course,
    resume_course,
)
from scheduler.db import write_transaction
from scheduler.errors import Conflict, ValidationFailed
from scheduler.models import AppointmentStatus, CourseStatus

from .helpers import book


def _complete_first(session, booked, now):  # type: ignore[no-untyped-def]
    """Mark the first appointment completed, as if the clock had reached it."""
    first = min(booked, key=lambda a: a.starts_at)
    later = first.starts_at + dt.timedelta(minutes=5)
    with write_transaction(session):
        progress_appointment(session, first, Action("t", None, later), "check_in")
        progress_appointment(session, first, Action("t", None, later), "complete")
    return first


def test_view_shows_progress_and_pairs(session, course_clinic, now):
    course, booked, _ = book(session, course_clinic, "IV", now)
    _complete_first(session, booked, now)
    view = course_view(session, course)
    assert (view.done, view.total) == (1, 13)
    assert [a.starts_at for a in view.appointments] == sorted(a.starts_at for a in booked)
    doses = [a for a in booked if a.step_key == "dosing"]
    assert all(view.pairs[d.id] for d in doses)
    assert {s.key: (s.done, s.booked, s.planned) for s in view.steps} == {
        "evaluation": (1, 1, 1),
        "dosing": (0, 12, 6),
    }


def test_cancel_keeps_history(session, course_clinic, now):
    course, booked, _ = book(session, course_clinic, "IV", now)
    done = _complete_first(session, booked, now)
    later = done.ends_at + dt.timedelta(hours=1)
    with pytest.raises(ValidationFailed), write_transaction(session):
        cancel_course(session, Action("c", None, later), course, " ")
    with write_transaction(session):
        cancelled = cancel_course(session, Action("c", None, later), course, "Moved away")
    assert len(cancelled) == 12
    assert done.status == AppointmentStatus.COMPLETED
    assert course.status == CourseStatus.CANCELLED and course.cancel_reason == "Moved away"
    assert all(a.cancel_reason == "Course cancelled: Moved away" for a in cancelled)
    with pytest.raises(Conflict), write_transaction(session):
        cancel_course(session, Action("c", None, later), course, "again")


def test_pause_then_resume_plans_what_is_left(session, course_clinic, now):
    course, booked, _ = book(session, course_clinic, "IV", now)
    done = _complete_first(session, booked, now)
    later = done.ends_at + dt.timedelta(hours=1)
    with write_transaction(session):
        paused = pause_course(session, Action("p", None, later), course, "Travelling")
    assert len(paused) == 12 and course.status == CourseStatus.PAUSED
    resume_at = later + dt.timedelta(days=14)
    with write_transaction(session):
        _plan, new = resume_course(session, Action("r", None, resume_at), course, None)
    assert course.status == CourseStatus.ACTIVE
    assert len(new) == 12 and all(a.starts_at >= resume_at for a in new)
    view = course_view(session, course)
    assert (view.done, view.total) == (1, 13)
    doses = sorted((a for a in new if a.step_key == "dosing"), key=lambda a: a.sequence)
    assert [a.sequence for a in doses] == [1, 2, 3, 4, 5, 6]
    assert doses[-1].ends_at - doses[0].starts_at <= dt.timedelta(days=21)


def test_extend_a_maintenance_course(session, course_clinic, now):
    course, booked, _ = book(session, course_clinic, "Booster", now)
    assert len(booked) == 2
    with write_transaction(session):
        _plan, new = extend_course(session, Action("x", None, now), course, 2)
    doses = sorted((a for a in [*booked, *new] if a.step_key == "dosing"), key=lambda a: a.sequence)
    assert [a.sequence for a in doses] == [1, 2, 3]
    for a, b in itertools.pairwise(doses):
        assert dt.timedelta(weeks=2) - dt.timedelta(hours=1) <= b.starts_at - a.starts_at
        assert b.starts_at - a.starts_at <= dt.timedelta(weeks=6) + dt.timedelta(hours=1)
    assert sum(a.step_key == "integration" for a in new) == 2
    assert all(a.paired_with_id for a in new if a.step_key == "integration")


def test_only_open_ended_courses_extend(session, course_clinic, now):
    course, _, _ = book(session, course_clinic, "IV", now)
    with pytest.raises(Conflict) as caught, write_transaction(session):
        extend_course(session, Action("x", None, now), course, 2)
    assert caught.value.rule == "not_extendable"
    with pytest.raises(ValidationFailed), write_transaction(session):
        extend_course(session, Action("x", None, now), course, 0)
