"""Property tests: on generated clinics, bookings and protocols, every plan the planner returns
keeps every rule and finishes on the earliest possible day, and "no plan" is only ever said when
an exhaustive search finds none."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, event, given, settings

from scheduler.planning import Plan, plan_course

from .oracle import Slot, check_plan, completion_day, earliest_completion, exhaustive
from .strategies import GRID, Instance, instances

pytestmark = pytest.mark.slow


def slots(plan: Plan) -> list[Slot]:
    return [
        Slot(
            a.step_key,
            a.sequence,
            a.kind,
            a.starts_at,
            a.ends_at,
            a.buffer_minutes,
            a.room_id,
            a.staff,
        )
        for a in plan.appointments
    ]


def _plan(instance: Instance) -> Plan:
    return plan_course(
        instance.definition,
        instance.availability,
        instance.preferences,
        instance.earliest,
        grid_minutes=GRID,
    )


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(instances())
def test_plans_keep_every_rule_and_no_plan_means_none_exists(instance: Instance) -> None:
    plan = _plan(instance)
    args = (
        instance.definition,
        instance.availability,
        instance.preferences,
        instance.earliest,
        instance.horizon,
    )
    event("complete" if plan.complete else "no plan")
    if plan.complete:
        assert check_plan(*args, slots(plan)) == []
        best = earliest_completion(*args, GRID)
        assert completion_day(slots(plan), instance.availability.tz) == best
    else:
        assert plan.failure is not None
        assert plan.failure.exhausted, plan.failure.message
        assert next(exhaustive(*args, GRID), None) is None, plan.failure.message
        # The partial plan keeps the rules for what it holds.
        partial = check_plan(*args, slots(plan))
        assert all(p.startswith("appointments ") for p in partial), partial
    again = _plan(instance)
    assert slots(again) == slots(plan)
