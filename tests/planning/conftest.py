"""Fixtures for the pure planner: a standard in-memory clinic and a plan helper."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from scheduler.planning import Plan, Preferences, plan_course
from scheduler.protocols import parse_definition
from scheduler.protocols.seed import IV_INDUCTION

from .builders import ClinicBuilder, standard_clinic

#: Monday 2 March 2026, 07:00 UTC: the suite's "now".
NOW = dt.datetime(2026, 3, 2, 7, 0, tzinfo=dt.UTC)


@pytest.fixture
def clinic() -> ClinicBuilder:
    return standard_clinic()


def plan(
    clinic: ClinicBuilder,
    document: dict[str, Any] | None = None,
    prefs: Preferences | None = None,
    start: dt.datetime = NOW,
    days: int = 60,
) -> Plan:
    definition = parse_definition(document or IV_INDUCTION)
    availability = clinic.availability(start, start + dt.timedelta(days=days))
    return plan_course(definition, availability, prefs or Preferences(), start)


def local(p: Plan, key: str, tz: str = "America/New_York") -> dt.datetime:
    from zoneinfo import ZoneInfo

    found = next(a for a in p.appointments if a.key == key)
    return found.starts_at.astimezone(ZoneInfo(tz))


def doc(base: dict[str, Any] = IV_INDUCTION) -> dict[str, Any]:
    return copy.deepcopy(base)
