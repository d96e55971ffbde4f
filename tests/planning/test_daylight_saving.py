"""Courses across the 2026 clock changes, New York and Berlin, spring and autumn: "weekly" keeps
the local weekday and time; "18-72 h after" counts real hours."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from scheduler.models import Role, RoomKind
from scheduler.planning import Preferences, plan_course
from scheduler.planning.index import Calendar
from scheduler.protocols import parse_definition

from .builders import ClinicBuilder

EVERY_DAY = (0, 1, 2, 3, 4, 5, 6)


def _clinic(tz: str) -> ClinicBuilder:
    clinic = ClinicBuilder(timezone=tz, hours=(dt.time(8), dt.time(20)), weekdays=EVERY_DAY)
    clinic.room(RoomKind.INFUSION_CHAIR)
    clinic.room(RoomKind.THERAPY_ROOM)
    clinic.member(Role.CLINICIAN)
    clinic.member(Role.THERAPIST)
    return clinic


def _protocol(phase: dict[str, Any], pairing: dict[str, Any] | None = None) -> Any:
    step: dict[str, Any] = {
        "key": "dosing",
        "kind": "dosing",
        "label": "Infusion",
        "administration_minutes": 45,
        "monitoring_minutes": 55,
        "room_kinds": ["infusion_chair"],
        "staff": ["administering_clinician"],
        "phases": [phase],
    }
    if pairing:
        step["pairing"] = {
            "key": "integration",
            "label": "Integration",
            "minutes": 50,
            "staff": ["therapist"],
            "room_kinds": ["therapy_room"],
            **pairing,
        }
    return parse_definition({"name": "DST", "route": "iv", "steps": [step]})


@pytest.mark.parametrize(
    ("tz", "first_day", "hours"),
    [
        ("America/New_York", dt.date(2026, 3, 2), 167),  # clocks forward Sun 8 Mar
        ("America/New_York", dt.date(2026, 10, 26), 169),  # clocks back Sun 1 Nov
        ("Europe/Berlin", dt.date(2026, 3, 23), 167),  # forward Sun 29 Mar
        ("Europe/Berlin", dt.date(2026, 10, 19), 169),  # back Sun 25 Oct
    ],
)
def test_weekly_keeps_the_local_weekday_and_time(tz, first_day, hours):
    clinic = _clinic(tz)
    definition = _protocol({"count": 3, "min_gap": "7d", "max_gap": "7d"})
    start = clinic.at(first_day, 10)
    plan = plan_course(
        definition,
        clinic.availability(start, start + dt.timedelta(days=30)),
        Preferences(earliest_time=dt.time(10)),
        start,
    )
    assert plan.complete, plan.failure
    zone = ZoneInfo(tz)
    local = [a.starts_at.astimezone(zone) for a in plan.appointments]
    assert [(t.weekday(), t.time()) for t in local] == [(first_day.weekday(), dt.time(10))] * 3
    # Aware datetimes in one zone subtract by the wall clock; real time is in UTC.
    assert plan.appointments[1].starts_at - plan.appointments[0].starts_at == dt.timedelta(
        hours=hours
    )


@pytest.mark.parametrize(
    ("tz", "saturday", "expected"),
    [
        # The infusion ends Sat 15:40 local; 18 real hours later is Sun 10:40 after the clocks
        # went forward (09:40 by the wall clock would be 17 hours), 08:40 after they went back.
        ("America/New_York", dt.date(2026, 3, 7), dt.time(10, 45)),
        ("America/New_York", dt.date(2026, 10, 31), dt.time(8, 45)),
        ("Europe/Berlin", dt.date(2026, 3, 28), dt.time(10, 45)),
        ("Europe/Berlin", dt.date(2026, 10, 24), dt.time(8, 45)),
    ],
)
def test_hours_after_a_dose_are_elapsed_hours(tz, saturday, expected):
    clinic = _clinic(tz)
    definition = _protocol({"count": 1}, {"min_after": "18h", "max_after": "72h"})
    start = clinic.at(saturday, 14)
    plan = plan_course(
        definition, clinic.availability(start, start + dt.timedelta(days=10)), Preferences(), start
    )
    assert plan.complete, plan.failure
    zone = ZoneInfo(tz)
    dose, pair = plan.appointments
    assert dose.starts_at.astimezone(zone).time() == dt.time(14)
    assert pair.starts_at.astimezone(zone).time() == expected
    assert pair.starts_at.astimezone(zone).date() == saturday + dt.timedelta(days=1)
    assert pair.starts_at - dose.ends_at >= dt.timedelta(hours=18)


@pytest.mark.parametrize(
    ("tz", "day", "hours"),
    [
        ("America/New_York", dt.date(2026, 3, 8), 23),
        ("America/New_York", dt.date(2026, 11, 1), 25),
        ("Europe/Berlin", dt.date(2026, 3, 29), 23),
        ("Europe/Berlin", dt.date(2026, 10, 25), 25),
    ],
)
def test_grid_on_the_day_the_clocks_change(tz, day, hours):
    clinic = ClinicBuilder(timezone=tz, hours=(dt.time(0), dt.time(0)), weekdays=EVERY_DAY)
    start = clinic.at(day, 0)
    calendar = Calendar(clinic.availability(start, start + dt.timedelta(days=2)), 60)
    found = calendar.day(day)
    assert (found.end - found.start) // 3600 == hours
    zone = ZoneInfo(tz)
    walls = [dt.datetime.fromtimestamp(s, zone) for s in found.slots]
    assert len(found.slots) == hours
    # Every slot exists on the wall clock; an autumn day has its repeated hour twice.
    assert all(w.minute == 0 and w.date() == day for w in walls)
    assert found.slots == sorted(set(found.slots))


def test_days_after_count_on_the_wall_clock():
    clinic = _clinic("America/New_York")
    definition = parse_definition(
        {
            "name": "Eval then dose",
            "route": "iv",
            "steps": [
                {
                    "key": "evaluation",
                    "kind": "evaluation",
                    "label": "Evaluation",
                    "administration_minutes": 60,
                    "room_kinds": ["therapy_room"],
                    "staff": ["evaluating_clinician"],
                    "phases": [{"count": 1}],
                },
                {
                    "key": "dosing",
                    "kind": "dosing",
                    "label": "Infusion",
                    "administration_minutes": 100,
                    "room_kinds": ["infusion_chair"],
                    "staff": ["administering_clinician"],
                    "phases": [{"count": 1}],
                    "after": [{"step": "evaluation", "min_gap": "1d"}],
                },
            ],
        }
    )
    start = clinic.at(dt.date(2026, 3, 7), 10)
    plan = plan_course(
        definition, clinic.availability(start, start + dt.timedelta(days=5)), Preferences(), start
    )
    zone = ZoneInfo("America/New_York")
    evaluation, dose = plan.appointments
    assert evaluation.ends_at.astimezone(zone).time() == dt.time(11)
    # One day after Sat 11:00 EST is Sun 11:00 EDT: 23 real hours.
    assert dose.starts_at.astimezone(zone) == dt.datetime(2026, 3, 8, 11, 0, tzinfo=zone)
