"""The course planner: pure functions from a protocol, an availability snapshot and the
patient's preferences to a complete proposal (or the reason there is none)."""

from __future__ import annotations

import datetime as dt

from ..protocols.definition import ProtocolDefinition
from . import feasibility
from .availability import Availability, load_availability, needed_roles
from .checks import violations
from .constraints import Placement
from .explain import Alternative
from .planner import (
    Plan,
    PlanFailure,
    PlannedAppointment,
    impossible,
    new_course_problem,
    plan_elements,
    planned,
    solve,
    to_plan,
)
from .preferences import Preferences
from .search import Context, Pin, Problem, Search, SearchResult
from .shape import Element, Shape, Wanted, build_shape, wanted_for_new_course
from .timeline import from_epoch, to_epoch


def plan_course(
    definition: ProtocolDefinition,
    availability: Availability,
    preferences: Preferences,
    earliest: dt.datetime,
    *,
    grid_minutes: int = 15,
    quality: bool = True,
) -> Plan:
    """Plan a new course within the snapshot's window (its end is the search horizon)."""
    wanted = wanted_for_new_course(
        definition, preferences.include_optional, preferences.sessions_ahead
    )
    shape = build_shape(definition, wanted)
    problem = new_course_problem(
        shape, preferences, earliest, from_epoch(availability.end), grid_minutes
    )
    reason = feasibility.check(problem, Context(availability, grid_minutes))
    if reason is not None:
        return impossible(shape, availability.tz.key, reason)
    return plan_elements(problem, availability, quality=quality)


__all__ = [
    "Alternative",
    "Availability",
    "Context",
    "Element",
    "Pin",
    "Placement",
    "Plan",
    "PlanFailure",
    "PlannedAppointment",
    "Preferences",
    "Problem",
    "Search",
    "SearchResult",
    "Shape",
    "Wanted",
    "build_shape",
    "from_epoch",
    "impossible",
    "load_availability",
    "needed_roles",
    "new_course_problem",
    "plan_course",
    "plan_elements",
    "planned",
    "solve",
    "to_epoch",
    "to_plan",
    "violations",
    "wanted_for_new_course",
]
