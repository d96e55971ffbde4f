"""What to plan for a course, and running the planner against the database for the window the
plan needs, widening it when the plan runs into its end."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from ..booking.dosing import dosing_interval
from ..planning import (
    Pin,
    Placement,
    Plan,
    Preferences,
    Problem,
    Shape,
    load_availability,
    needed_roles,
    plan_elements,
    to_epoch,
)
from ..planning.shape import min_separations, tails

#: How far past the course's shortest length the planner looks for a start, growing when a
#: plan runs into the end of the loaded window.
SLACK_DAYS = (4, 30, 120, 400)


@dataclass
class Request:
    """What to plan: a shape, what stays, what must go where, and the planner's settings."""

    shape: Shape
    preferences: Preferences
    earliest: dt.datetime
    fixed: dict[int, Placement] = field(default_factory=dict)
    pinned: dict[int, Pin] = field(default_factory=dict)
    current: dict[int, Placement] = field(default_factory=dict)
    targets: dict[int, int] = field(default_factory=dict)
    order: str = "earliest"
    quality: bool = True
    #: Appointments standing for elements: their claims are the plan's own, not obstacles.
    own_appointments: set[int] = field(default_factory=set)
    #: A time the plan must reach (a move's new time), so the window covers it.
    reach: dt.datetime | None = None


def run_planner(session: Session, *, location_id: int, patient_id: int, request: Request) -> Plan:
    """Load availability for the window the plan needs and plan; when a plan runs into the end
    of the window, load a longer one and plan again."""
    shape = request.shape
    separations = min_separations(shape)
    span = max(tails(shape, separations), default=0)
    kinds = {k for e in shape.elements for k in e.room_kinds}
    roles = needed_roles(p for e in shape.elements for p in e.parts)
    start = request.earliest.replace(second=0, microsecond=0)
    if start < request.earliest:
        start += dt.timedelta(minutes=1)
    anchor = max(start, request.reach or start)
    plan: Plan | None = None
    for number, slack in enumerate(SLACK_DAYS):
        horizon = anchor + dt.timedelta(seconds=span, days=slack)
        availability = load_availability(
            session,
            location_id=location_id,
            patient_id=patient_id,
            start=start,
            end=horizon + dt.timedelta(days=1),
            room_kinds=kinds,
            roles=roles,
            exclude_appointments=request.own_appointments,
            dose_margin=dosing_interval() / 2,
        )
        problem = Problem(
            shape=shape,
            earliest=to_epoch(start),
            horizon=to_epoch(horizon),
            preferences=request.preferences,
            fixed=request.fixed,
            pinned=request.pinned,
            current=request.current,
            targets=request.targets,
            order=request.order,
            stop_at_horizon=number < len(SLACK_DAYS) - 1,
        )
        plan = plan_elements(problem, availability, quality=request.quality)
        if plan.complete:
            return plan
        retry = plan.truncated or (plan.failure is not None and plan.failure.exhausted)
        if not retry:
            break
    assert plan is not None
    return plan
