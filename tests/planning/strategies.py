"""Hypothesis strategies: small clinics with existing bookings, small protocols, preferences."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from hypothesis import assume
from hypothesis import strategies as st

from scheduler.errors import ValidationFailed
from scheduler.models import Role, RoomKind
from scheduler.planning import Availability, Preferences
from scheduler.protocols import ProtocolDefinition, parse_definition

from .builders import PATIENT_ID, ClinicBuilder

#: Days near the 2026 clock changes (US 8 Mar / 1 Nov, EU 29 Mar / 25 Oct) and a plain week.
START_DAYS = [
    dt.date(2026, 3, 5),
    dt.date(2026, 3, 26),
    dt.date(2026, 6, 1),
    dt.date(2026, 10, 22),
    dt.date(2026, 10, 29),
]
GRID = 60
HORIZON_DAYS = 6


@dataclass
class Instance:
    definition: ProtocolDefinition
    availability: Availability
    preferences: Preferences
    earliest: dt.datetime
    horizon: dt.datetime


@st.composite
def protocols(draw: st.DrawFn) -> ProtocolDefinition:
    minutes = draw(st.sampled_from([60, 90, 120]))
    dosing: dict[str, Any] = {
        "key": "dosing",
        "kind": "dosing",
        "label": "Dose",
        "administration_minutes": 30,
        "monitoring_minutes": minutes - 30,
        "buffer_minutes": draw(st.sampled_from([0, 30])),
        "room_kinds": ["infusion_chair"],
        "staff": ["administering_clinician"],
        "phases": [
            {
                "count": draw(st.integers(2, 3)),
                "min_gap": draw(st.sampled_from(["3h", "20h", "1d", "2d"])),
                "max_gap": draw(st.sampled_from([None, "1d", "2d", "72h", "3d"])),
            }
        ],
        "window": draw(st.sampled_from([None, None, "3d", "4d", "100h"])),
    }
    steps: list[dict[str, Any]] = []
    if draw(st.booleans()):
        steps.append(
            {
                "key": "evaluation",
                "kind": "evaluation",
                "label": "Evaluation",
                "administration_minutes": 60,
                "room_kinds": ["therapy_room"],
                "staff": ["evaluating_clinician"],
                "phases": [{"count": 1}],
            }
        )
        dosing["after"] = [
            {"step": "evaluation", "min_gap": draw(st.sampled_from(["0m", "12h", "1d"]))}
        ]
    if draw(st.booleans()):
        dosing["pairing"] = {
            "key": "integration",
            "label": "Integration",
            "min_after": draw(st.sampled_from(["0m", "1h", "18h", "1d"])),
            "max_after": draw(st.sampled_from(["6h", "24h", "48h", "2d"])),
            "same_day": draw(st.booleans()),
            "minutes": draw(st.sampled_from([30, 60])),
            "staff": ["therapist"],
            "room_kinds": draw(st.sampled_from([["therapy_room"], ["therapy_room", "telehealth"]])),
        }
    steps.append(dosing)
    document = {"name": "Generated", "route": "iv", "steps": steps}
    try:
        return parse_definition(document)
    except ValidationFailed:
        assume(False)
        raise


@st.composite
def instances(draw: st.DrawFn) -> Instance:
    tz = draw(st.sampled_from(["America/New_York", "Europe/Berlin", "UTC"]))
    opens = draw(st.sampled_from([8, 9]))
    length = draw(st.sampled_from([2, 3, 4]))
    weekdays = tuple(sorted(draw(st.sets(st.integers(0, 6), min_size=3))))
    clinic = ClinicBuilder(
        timezone=tz, hours=(dt.time(opens), dt.time(opens + length)), weekdays=weekdays
    )
    rooms = [clinic.room(RoomKind.INFUSION_CHAIR) for _ in range(draw(st.integers(1, 2)))]
    rooms.append(clinic.room(RoomKind.THERAPY_ROOM))
    if draw(st.booleans()):
        rooms.append(clinic.room(RoomKind.TELEHEALTH))
    people = []
    kinds = [(Role.CLINICIAN,), (Role.THERAPIST,), (Role.CLINICIAN, Role.THERAPIST)]
    extra = draw(st.lists(st.sampled_from(kinds), min_size=1, max_size=3))
    for roles in [*extra, (Role.CLINICIAN,), (Role.THERAPIST,)]:
        late = draw(st.sampled_from([0, 0, 1]))
        days = tuple(sorted(draw(st.sets(st.sampled_from(weekdays), min_size=1))))
        people.append(
            clinic.member(
                *roles, hours=(dt.time(opens + late), dt.time(opens + length)), weekdays=days
            )
        )
    start_day = draw(st.sampled_from(START_DAYS))
    earliest = clinic.at(start_day, 0)
    horizon = earliest + dt.timedelta(days=HORIZON_DAYS)
    resources = [("patient", PATIENT_ID)] + [("room", r.id) for r in rooms]
    resources += [("staff", m.id) for m in people]
    for _ in range(draw(st.integers(0, 6))):
        kind, rid = draw(st.sampled_from(resources))
        day = start_day + dt.timedelta(days=draw(st.integers(0, HORIZON_DAYS)))
        begin = clinic.at(day, opens + draw(st.integers(0, length - 1)))
        clinic.book(kind, rid, begin, begin + dt.timedelta(minutes=draw(st.sampled_from([60, 90]))))
    if draw(st.booleans()):
        clinic.close(start_day + dt.timedelta(days=draw(st.integers(0, HORIZON_DAYS))))
    if draw(st.booleans()):
        member = draw(st.sampled_from(people))
        day = start_day + dt.timedelta(days=draw(st.integers(0, HORIZON_DAYS)))
        clinic.off(member, clinic.at(day, 0), clinic.at(day, 23))
    prefs = Preferences(
        weekdays=frozenset(draw(st.sets(st.integers(0, 6), min_size=4)))
        if draw(st.booleans())
        else None,
        earliest_time=dt.time(opens + 1) if draw(st.integers(0, 3)) == 0 else None,
        telehealth_ok=draw(st.booleans()),
    )
    return Instance(
        definition=draw(protocols()),
        availability=clinic.availability(earliest, horizon),
        preferences=prefs,
        earliest=earliest,
        horizon=horizon,
    )
