"""A plan has a wall-clock budget: when it runs out the answer says so honestly (no plan, no
proof), with what could be placed, instead of searching on."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import time

from scheduler.models import RoomKind
from scheduler.planning import Preferences, build_shape, plan_elements, wanted_for_new_course
from scheduler.planning.planner import new_course_problem
from scheduler.protocols import parse_definition
from scheduler.protocols.seed import IV_INDUCTION

from .builders import ClinicBuilder
from .conftest import NOW


def _problem(clinic: ClinicBuilder, deadline: float | None):  # type: ignore[no-untyped-def]
    definition = parse_definition(IV_INDUCTION)
    shape = build_shape(definition, wanted_for_new_course(definition, False, None))
    availability = clinic.availability(NOW, NOW + dt.timedelta(days=90))
    problem = new_course_problem(shape, Preferences(), NOW, NOW + dt.timedelta(days=90))
    return dataclasses.replace(problem, deadline=deadline), availability


def _chairs_taken(clinic: ClinicBuilder, days: int) -> None:
    for room in clinic.rooms:
        if room.kind == RoomKind.INFUSION_CHAIR:
            clinic.book("room", room.id, NOW, NOW + dt.timedelta(days=days))


def test_a_spent_budget_answers_timed_out_with_what_was_placed(clinic: ClinicBuilder) -> None:
    _chairs_taken(clinic, 30)
    problem, availability = _problem(clinic, deadline=time.monotonic() - 1)
    plan = plan_elements(problem, availability)
    assert plan.status == "timed_out" and plan.failure is not None
    assert not plan.failure.exhausted
    reason = plan.failure.reasons[0]
    assert reason.code == "not_found_in_time"
    assert re.fullmatch(
        r"No plan was found in the time allowed; \d+ of 13 sessions could be placed before it "
        r"ran out\.",
        reason.cause,
    )
    assert "candidate" not in plan.failure.message


def test_with_time_enough_the_same_request_plans(clinic: ClinicBuilder) -> None:
    _chairs_taken(clinic, 30)
    problem, availability = _problem(clinic, deadline=time.monotonic() + 60)
    plan = plan_elements(problem, availability)
    assert plan.status == "complete"
