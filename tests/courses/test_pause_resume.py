"""Issue 9, finding 3: a paused and resumed course keeps its protocol.

The course's clock stands still while it is paused: phase weeks count from the course start
plus the paused days, the minimum gap to the last held dose holds in real time, and every rule
holds among the resumed sessions. Only a maximum reaching back across the pause may be relaxed,
and then it is listed with its reason.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from scheduler.audit import Action
from scheduler.booking import progress_appointment
from scheduler.courses import course_view, pause_course, preview_move, resume_course
from scheduler.courses.pauses import relaxed_rules
from scheduler.db import write_transaction
from scheduler.models import Appointment, AppointmentStatus, Course, CourseStatus
from scheduler.planning import Wanted, build_shape
from scheduler.planning.constraints import After, InWeeks, PerWeek, Within
from scheduler.planning.shape import Element
from scheduler.protocols import parse_definition
from scheduler.protocols.seed import ESKETAMINE, IV_INDUCTION
from scheduler.protocols.spans import Span

from .conftest import CourseClinic
from .helpers import book

#: Days from the pause to the resume; New York's clocks change inside them (8 March 2026).
PAUSE_DAYS = 10
#: Wall-clock spans may lose or gain an hour across a clock change.
HOUR = dt.timedelta(hours=1)


def _hold(session: Session, appointment: Appointment) -> None:
    """Check in and complete ``appointment``, as the front desk does on the day."""
    later = appointment.starts_at + dt.timedelta(minutes=5)
    with write_transaction(session):
        progress_appointment(session, appointment, Action("t", None, later), "check_in")
        progress_appointment(session, appointment, Action("t", None, later), "complete")


def _doses(appointments: list[Appointment]) -> list[Appointment]:
    return sorted(
        (a for a in appointments if a.step_key == "dosing" and a.is_live),
        key=lambda a: a.sequence or 0,
    )


def _hold_two_and_pause(session: Session, course: Course, booked: list[Appointment]) -> dt.datetime:
    """Hold the evaluation and doses 1-2 (and what falls between), pause an hour after dose 2
    ends; returns the pause's time."""
    held_until = _doses(booked)[1].ends_at
    for a in sorted(booked, key=lambda a: a.starts_at):
        if a.ends_at <= held_until:
            _hold(session, a)
    paused_at = held_until + HOUR
    with write_transaction(session):
        pause_course(session, Action("p", None, paused_at), course, "Travelling")
    assert course.status == CourseStatus.PAUSED
    return paused_at


def _resume(session: Session, course: Course, resumed_at: dt.datetime) -> list[Appointment]:
    with write_transaction(session):
        _plan, new = resume_course(session, Action("r", None, resumed_at), course, None)
    assert course.status == CourseStatus.ACTIVE
    return new


def _pause_after_two_doses(
    session: Session, course: Course, booked: list[Appointment], resume_in: dt.timedelta
) -> tuple[dt.datetime, dt.datetime, list[Appointment]]:
    """Hold two doses, pause, resume ``resume_in`` later: the pause, the resume, what is new."""
    paused_at = _hold_two_and_pause(session, course, booked)
    resumed_at = paused_at + resume_in
    return paused_at, resumed_at, _resume(session, course, resumed_at)


def _shifted_week(first: dt.datetime, moment: dt.datetime, tz: ZoneInfo, paused: int) -> int:
    """Course week of ``moment`` counted from ``first``'s day plus ``paused`` days."""
    a = first.astimezone(tz).date()
    b = moment.astimezone(tz).date()
    return ((b - a).days - paused) // 7 + 1


def test_esketamine_pause_then_resume_keeps_phases(
    session: Session, course_clinic: CourseClinic, now: dt.datetime
) -> None:
    course, booked, _ = book(session, course_clinic, "Esketamine", now)
    tz = ZoneInfo(course.location.timezone)
    paused_at, resumed_at, new = _pause_after_two_doses(
        session, course, booked, dt.timedelta(days=PAUSE_DAYS)
    )
    paused = (resumed_at.astimezone(tz).date() - paused_at.astimezone(tz).date()).days
    doses = _doses(course_view(session, course).appointments)
    assert [d.sequence for d in doses] == list(range(1, 15))
    held, resumed = doses[:2], doses[2:]
    assert all(d.status == AppointmentStatus.COMPLETED for d in held)
    assert all(d.starts_at >= resumed_at for d in resumed)
    assert {a.id for a in resumed} <= {a.id for a in new}

    # Minimum gap to the last held dose (48 h), in real time.
    assert resumed[0].starts_at - held[-1].starts_at >= dt.timedelta(hours=48)
    # Each phase's gaps among the resumed doses: 48 h-7 d, then 5-10 d, then 7-14 d.
    gaps = {1: (dt.timedelta(hours=48), dt.timedelta(days=7))}
    gaps |= {n: (dt.timedelta(days=5), dt.timedelta(days=10)) for n in range(9, 13)}
    gaps |= {n: (dt.timedelta(days=7), dt.timedelta(days=14)) for n in range(13, 15)}
    for a, b in itertools.pairwise(resumed):
        low, high = gaps.get(b.sequence or 0, gaps[1])
        assert low - HOUR <= b.starts_at - a.starts_at <= high + HOUR, (a.sequence, b.sequence)

    week = {d.sequence: _shifted_week(doses[0].starts_at, d.starts_at, tz, paused) for d in resumed}
    week |= {d.sequence: _shifted_week(doses[0].starts_at, d.starts_at, tz, 0) for d in held}
    # Twice a week in (shifted) weeks 1-4: never three in one week, held doses included.
    per_week = Counter(week[n] for n in range(1, 9))
    assert max(per_week.values()) <= 2, per_week
    assert all(1 <= week[n] <= 4 for n in range(1, 9)), week
    # Weekly in weeks 5-8, at most one a week; maintenance from week 9.
    assert all(5 <= week[n] <= 8 for n in range(9, 13)), week
    assert len({week[n] for n in range(9, 13)}) == 4
    assert week[13] >= 9 and week[14] >= 9, week
    # Never three doses within six days, whatever the weeks say.
    starts = [d.starts_at for d in doses]
    assert all(c - a > dt.timedelta(days=6) for a, c in zip(starts, starts[2:], strict=False))


def test_esketamine_pause_records_the_relaxed_maximum(
    session: Session, course_clinic: CourseClinic, now: dt.datetime
) -> None:
    course, booked, _ = book(session, course_clinic, "Esketamine", now)
    paused_at, resumed_at, _new = _pause_after_two_doses(
        session, course, booked, dt.timedelta(days=PAUSE_DAYS)
    )
    doses = _doses(course_view(session, course).appointments)
    assert doses[2].starts_at - doses[1].starts_at > dt.timedelta(days=7)
    tz = ZoneInfo(course.location.timezone)
    reason = (
        f"paused from {paused_at.astimezone(tz).date().isoformat()} "
        f"to {resumed_at.astimezone(tz).date().isoformat()}"
    )
    rules = relaxed_rules(session, course)
    assert {(r["rule"], r["appointment_key"], r["reason"]) for r in rules} == {
        ("max_gap", "dosing-3", reason)
    }


def test_resumed_esketamine_session_moves_on_the_course_clock(
    session: Session, course_clinic: CourseClinic, now: dt.datetime
) -> None:
    """After the resume, moves judge weeks on the course's clock too: dose 8 stays in the
    twice-weekly phase (shifted week 4), though by the calendar it is in week 5 or 6."""
    course, booked, _ = book(session, course_clinic, "Esketamine", now)
    _paused_at, resumed_at, _new = _pause_after_two_doses(
        session, course, booked, dt.timedelta(days=PAUSE_DAYS)
    )
    doses = _doses(course_view(session, course).appointments)
    eighth = doses[7]
    tz = ZoneInfo(course.location.timezone)
    target = eighth.starts_at + dt.timedelta(days=1)
    assert _shifted_week(doses[0].starts_at, target, tz, 0) > 4
    assert _shifted_week(doses[0].starts_at, target, tz, PAUSE_DAYS) == 4
    preview = preview_move(
        session, eighth, starts_at=target, room_id=None, staff=None, now=resumed_at
    )
    moved = {m.appointment_id: m for m in preview.moves}
    assert moved[eighth.id].starts_at == target


def test_short_pause_relaxes_nothing(
    session: Session, course_clinic: CourseClinic, now: dt.datetime
) -> None:
    course, booked, _ = book(session, course_clinic, "Esketamine", now)
    _pause_after_two_doses(session, course, booked, dt.timedelta(hours=2))
    doses = _doses(course_view(session, course).appointments)
    assert doses[2].starts_at - doses[1].starts_at <= dt.timedelta(days=7)
    assert relaxed_rules(session, course) == []


def test_iv_induction_pause_then_resume_keeps_spacing_and_pairs(
    session: Session, course_clinic: CourseClinic, now: dt.datetime
) -> None:
    course, booked, _ = book(session, course_clinic, "IV", now)
    paused_at, resumed_at, new = _pause_after_two_doses(
        session, course, booked, dt.timedelta(days=PAUSE_DAYS)
    )
    appointments = course_view(session, course).appointments
    doses = _doses(appointments)
    assert [d.sequence for d in doses] == [1, 2, 3, 4, 5, 6]
    resumed = doses[2:]
    assert all(d.starts_at >= resumed_at for d in resumed)
    assert resumed[0].starts_at - doses[1].starts_at >= dt.timedelta(hours=48)
    for a, b in itertools.pairwise(resumed):
        assert dt.timedelta(hours=48) <= b.starts_at - a.starts_at <= dt.timedelta(days=7) + HOUR
    # All six within 21 days of the first, the paused days not counted.
    paused = resumed_at - paused_at
    assert resumed[-1].ends_at - doses[0].starts_at <= dt.timedelta(days=21) + paused + HOUR
    # Every dose keeps its integration 18-72 h after it: the one of dose 2, due after the
    # pause began, was kept; the resumed doses got new ones.
    integrations = {a.paired_with_id: a for a in appointments if a.is_live and a.paired_with_id}
    for dose in doses:
        pair = integrations[dose.id]
        assert (pair in new) == (dose in resumed)
        assert dt.timedelta(hours=18) <= pair.starts_at - dose.ends_at <= dt.timedelta(hours=72)


def test_iv_pause_relaxes_the_gap_across_it_only_when_no_plan_keeps_it(
    session: Session, course_clinic: CourseClinic, make, now: dt.datetime
) -> None:  # type: ignore[no-untyped-def]
    """A closure right after the resume leaves no time for dose 3 within 7 days of dose 2 even
    on the course's clock: only that maximum (and the 21-day window) give way, and say so."""
    course, booked, _ = book(session, course_clinic, "IV", now)
    paused_at = _hold_two_and_pause(session, course, booked)
    tz = ZoneInfo(course.location.timezone)
    # Four days: dose 2's integration (at most 72 h after it) is over before the closure.
    resumed_at = paused_at + dt.timedelta(days=4)
    reopen = resumed_at.astimezone(tz).date() + dt.timedelta(days=9)
    make.closure(course.location, resumed_at.astimezone(tz).date(), reopen - dt.timedelta(days=1))
    _resume(session, course, resumed_at)
    doses = _doses(course_view(session, course).appointments)
    resumed = doses[2:]
    assert resumed[0].starts_at.astimezone(tz).date() >= reopen
    for a, b in itertools.pairwise(resumed):
        assert dt.timedelta(hours=48) <= b.starts_at - a.starts_at <= dt.timedelta(days=7) + HOUR
    rules = relaxed_rules(session, course)
    assert ("max_gap", "dosing-3") in {(r["rule"], r["appointment_key"]) for r in rules}
    assert {r["rule"] for r in rules} <= {"max_gap", "window"}
    assert {r["appointment_key"] for r in rules if r["rule"] == "max_gap"} == {"dosing-3"}
    assert all(r["reason"].startswith("paused from ") for r in rules)


def test_resumed_course_api_lists_the_relaxed_maximum(
    session: Session, course_clinic: CourseClinic, now: dt.datetime, api
) -> None:  # type: ignore[no-untyped-def]
    course, booked, _ = book(session, course_clinic, "Esketamine", now)
    _pause_after_two_doses(session, course, booked, dt.timedelta(days=PAUSE_DAYS))
    body = api.get(f"/api/courses/{course.id}", "front_desk").json
    relaxed = [e for e in body["exceptions"] if e["rule"] in ("max_gap", "window")]
    assert [(e["rule"], e["appointment_key"]) for e in relaxed] == [("max_gap", "dosing-3")]
    assert relaxed[0]["reason"].startswith("paused from ")
    assert "7 days after dosing 2" in relaxed[0]["detail"]


def _rule(element: Element | None, kind: type) -> object:
    assert element is not None
    return next(c for c in element.constraints if isinstance(c, kind))


def test_shape_counts_weeks_and_maxima_across_a_pause_on_the_course_clock() -> None:
    """The planner's side, without a database: sessions 3 on come 10 paused days later."""
    esketamine = parse_definition(ESKETAMINE)
    sessions = {"evaluation": [1], "dosing": list(range(1, 15))}
    paused = {f"dosing-{n}": 10 for n in range(3, 15)}
    shape = build_shape(esketamine, Wanted(sessions, {}, paused))
    third, fourth, ninth = (shape.find("dosing", n) for n in (3, 4, 9))
    across = _rule(third, After)
    assert isinstance(across, After)
    assert (across.low, across.upper, across.paused) == (Span(48, "h"), Span(17, "d"), 10)
    assert "(+10 paused days)" in across.describe(shape.titles)
    among = _rule(fourth, After)
    assert isinstance(among, After) and (among.upper, among.paused) == (Span(7, "d"), 0)
    weeks = _rule(ninth, InWeeks)
    assert isinstance(weeks, InWeeks) and (weeks.low, weeks.high, weeks.paused) == (5, 8, 10)
    per_week = _rule(fourth, PerWeek)
    assert isinstance(per_week, PerWeek)
    assert (per_week.paused, per_week.peer_paused) == (10, (0, 0, 10))

    # When no plan keeps them, only the maxima spanning the pause give way.
    loose = build_shape(esketamine, Wanted(sessions, {}, paused), across_pauses=True)
    across = _rule(loose.find("dosing", 3), After)
    among = _rule(loose.find("dosing", 4), After)
    assert isinstance(across, After) and across.upper is None and across.low == Span(48, "h")
    assert isinstance(among, After) and among.upper == Span(7, "d")
    assert isinstance(_rule(loose.find("dosing", 9), InWeeks), InWeeks)

    iv = parse_definition(IV_INDUCTION)
    window = _rule(
        build_shape(iv, Wanted({"dosing": list(range(1, 7))}, {}, {"dosing-6": 3})).find(
            "dosing", 6
        ),
        Within,
    )
    assert isinstance(window, Within) and window.length == Span(24, "d")
