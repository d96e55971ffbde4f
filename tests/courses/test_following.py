"""Which sessions must follow a moved one: pure, on an IV induction course in memory."""

from __future__ import annotations

import datetime as dt

from scheduler.courses.following import sessions_that_follow, sessions_to_replan
from scheduler.models import Appointment, AppointmentStatus
from scheduler.planning import Shape, build_shape, to_epoch, wanted_for_new_course
from scheduler.protocols import parse_definition
from scheduler.protocols.seed import IV_INDUCTION

#: Monday 2 March 2026, 14:00 UTC.
DAY_ONE = dt.datetime(2026, 3, 2, 14, 0, tzinfo=dt.UTC)
HOUR = 3600


def _course() -> tuple[Shape, dict[int, Appointment]]:
    """The evaluation on day 0, dose k on day 2k, its integration session the day after."""
    definition = parse_definition(IV_INDUCTION)
    shape = build_shape(definition, wanted_for_new_course(definition, True, None))
    days = {
        "evaluation": lambda k: 0,
        "dosing": lambda k: 2 * k,
        "integration": lambda k: 2 * k + 1,
    }
    standing: dict[int, Appointment] = {}
    for element in shape.elements:
        start = DAY_ONE + dt.timedelta(days=days[element.step_key](element.sequence))
        standing[element.index] = Appointment(
            id=100 + element.index,
            status=AppointmentStatus.SCHEDULED,
            starts_at=start,
            ends_at=start + dt.timedelta(minutes=element.minutes),
            room_id=1,
            buffer_minutes=element.buffer_minutes,
        )
    return shape, standing


def _index(shape: Shape, step_key: str, sequence: int) -> int:
    element = shape.find(step_key, sequence)
    assert element is not None
    return element.index


def test_a_later_move_lets_the_pair_and_every_later_session_follow_by_the_same_shift() -> None:
    shape, standing = _course()
    third = _index(shape, "dosing", 3)
    pair = _index(shape, "integration", 3)
    new_start = standing[third].starts_at + dt.timedelta(days=2)

    following = sessions_that_follow(shape, standing, third, starts_at=new_start, now=DAY_ONE)

    assert following.pair == pair
    later = {i for i, a in standing.items() if a.starts_at > standing[third].starts_at}
    assert set(following.targets) == later
    assert all(following.targets[i] == to_epoch(standing[i].starts_at) + 48 * HOUR for i in later)
    # The pair is re-planned around its dose: it has an aim but no place to keep.
    assert set(following.current) == later - {pair}
    earlier = {i for i, a in standing.items() if a.starts_at < standing[third].starts_at}
    assert set(following.fixed) == earlier
    assert third not in following.fixed | following.current | following.targets


def test_an_earlier_move_lets_sessions_between_the_new_and_the_old_time_follow() -> None:
    shape, standing = _course()
    third = _index(shape, "dosing", 3)
    second_pair = _index(shape, "integration", 2)
    # Back 25 hours: integration 2, the day before dose 3, is now after the dose's new time.
    new_start = standing[third].starts_at - dt.timedelta(hours=25)

    following = sessions_that_follow(shape, standing, third, starts_at=new_start, now=DAY_ONE)

    assert following.current[second_pair].start == to_epoch(standing[second_pair].starts_at)
    assert following.targets[second_pair] == to_epoch(standing[second_pair].starts_at) - 25 * HOUR
    assert set(following.fixed) == {i for i, a in standing.items() if a.starts_at < new_start}


def test_past_or_checked_in_sessions_stay_even_when_they_would_follow() -> None:
    shape, standing = _course()
    third = _index(shape, "dosing", 3)
    pair = _index(shape, "integration", 3)
    fourth = _index(shape, "dosing", 4)
    fifth = _index(shape, "dosing", 5)
    standing[fifth].status = AppointmentStatus.CHECKED_IN
    # Dose 3 was missed without being recorded: its old time and its pair's are past.
    now = standing[pair].starts_at + dt.timedelta(hours=1)

    following = sessions_that_follow(
        shape, standing, third, starts_at=now + dt.timedelta(days=1), now=now
    )

    assert following.pair == pair
    assert pair in following.fixed and pair not in following.targets
    assert fifth in following.fixed and fifth not in following.targets
    assert fourth in following.current and fourth in following.targets


def test_a_session_without_a_pair_moves_with_no_pair_to_follow() -> None:
    shape, standing = _course()
    evaluation = _index(shape, "evaluation", 1)
    new_start = standing[evaluation].starts_at + dt.timedelta(hours=3)

    following = sessions_that_follow(
        shape, standing, evaluation, starts_at=new_start, now=DAY_ONE - dt.timedelta(days=1)
    )

    assert following.pair is None
    assert following.fixed == {}
    assert set(following.current) == set(following.targets) == set(standing) - {evaluation}


def test_a_replan_plans_the_broken_sessions_and_the_pair_anew_and_keeps_the_rest() -> None:
    shape, standing = _course()
    third = _index(shape, "dosing", 3)
    pair = _index(shape, "integration", 3)
    fifth = _index(shape, "dosing", 5)
    now = standing[_index(shape, "dosing", 2)].starts_at + dt.timedelta(hours=1)

    following = sessions_to_replan(shape, standing, third, broken=[fifth], now=now)

    assert following.pair == pair
    assert following.afresh == {third, pair, fifth}
    still_to_come = {i for i, a in standing.items() if a.starts_at >= now}
    assert set(following.targets) == still_to_come
    assert all(following.targets[i] == to_epoch(standing[i].starts_at) for i in still_to_come)
    assert set(following.current) == still_to_come - {third, pair, fifth}
    assert set(following.fixed) == set(standing) - still_to_come
