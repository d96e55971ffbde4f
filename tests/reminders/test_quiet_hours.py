"""Quiet hours in the patient's own zone: a reminder inside them moves earlier."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from scheduler.reminders.policy import avoid_quiet_hours, is_quiet, next_allowed

NIGHT = (dt.time(21), dt.time(8))


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def local(zone: str, *args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=ZoneInfo(zone))


@pytest.mark.parametrize(
    ("zone", "due", "expected"),
    [
        # 06:30 in New York moves to 21:00 the evening before.
        (
            "America/New_York",
            local("America/New_York", 2026, 3, 5, 6, 30),
            local("America/New_York", 2026, 3, 4, 21, 0),
        ),
        # 23:15 in Berlin moves to 21:00 the same evening.
        (
            "Europe/Berlin",
            local("Europe/Berlin", 2026, 3, 5, 23, 15),
            local("Europe/Berlin", 2026, 3, 5, 21, 0),
        ),
        # The same instant is mid-afternoon in Tokyo... and allowed there.
        ("Asia/Tokyo", utc(2026, 3, 5, 5, 0), utc(2026, 3, 5, 5, 0)),
        # ...but 03:00 in Los Angeles.
        (
            "America/Los_Angeles",
            utc(2026, 3, 5, 11, 0),
            local("America/Los_Angeles", 2026, 3, 4, 21, 0),
        ),
        # The boundaries themselves are allowed: 21:00 ends the day, 08:00 starts it.
        (
            "Europe/Berlin",
            local("Europe/Berlin", 2026, 3, 5, 21, 0),
            local("Europe/Berlin", 2026, 3, 5, 21, 0),
        ),
        (
            "Europe/Berlin",
            local("Europe/Berlin", 2026, 3, 5, 8, 0),
            local("Europe/Berlin", 2026, 3, 5, 8, 0),
        ),
        # Across the spring-forward night in New York (8 March 2026): 21:00 EST the day before.
        ("America/New_York", local("America/New_York", 2026, 3, 8, 7, 0), utc(2026, 3, 8, 2, 0)),
        # Across Europe's change (29 March 2026): 21:00 CET on the 28th is 20:00 UTC.
        ("Europe/Berlin", local("Europe/Berlin", 2026, 3, 29, 7, 30), utc(2026, 3, 28, 20, 0)),
    ],
)
def test_reminder_in_quiet_hours_moves_earlier(zone, due, expected):
    moved = avoid_quiet_hours(due.astimezone(dt.UTC), ZoneInfo(zone), *NIGHT)
    assert moved == expected
    assert moved.tzinfo is not None and not is_quiet(moved, ZoneInfo(zone), *NIGHT)


def test_daytime_quiet_hours_and_none():
    zone = ZoneInfo("Europe/Berlin")
    lunch = (dt.time(12), dt.time(14))
    due = local("Europe/Berlin", 2026, 3, 5, 13, 0).astimezone(dt.UTC)
    assert avoid_quiet_hours(due, zone, *lunch) == local("Europe/Berlin", 2026, 3, 5, 12, 0)
    assert avoid_quiet_hours(due, zone, dt.time(0), dt.time(0)) == due


def test_next_allowed_is_the_end_of_the_night():
    zone = ZoneInfo("America/New_York")
    late = local("America/New_York", 2026, 3, 5, 22, 30).astimezone(dt.UTC)
    early = local("America/New_York", 2026, 3, 5, 6, 0).astimezone(dt.UTC)
    noon = local("America/New_York", 2026, 3, 5, 12, 0).astimezone(dt.UTC)
    assert next_allowed(late, zone, *NIGHT) == local("America/New_York", 2026, 3, 6, 8, 0)
    assert next_allowed(early, zone, *NIGHT) == local("America/New_York", 2026, 3, 5, 8, 0)
    assert next_allowed(noon, zone, *NIGHT) == noon
