"""What to plan for a course, and running the planner against the database for the window the
plan needs, widening it when the plan runs into its end."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field

from flask import current_app, has_app_context
from sqlalchemy.orm import Session

from ..booking.dosing import dosing_interval
from ..planning import (
    Availability,
    Context,
    Pin,
    Placement,
    Plan,
    Preferences,
    Problem,
    Shape,
    feasibility,
    load_availability,
    needed_roles,
    plan_elements,
    to_epoch,
)
from ..planning.availability import within
from ..planning.planner import impossible
from ..planning.shape import min_separations, tails
from .notices import plan_notices

#: How far past the course's shortest length the planner looks for a start, growing when a
#: plan runs into the end of the loaded window.
SLACK_DAYS = (4, 30, 120, 400)

DEFAULT_BUDGET = 1.0


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
    #: End the session's (read-only) transaction before searching: for callers that only
    #: read, so that no transaction stays open during the search.
    release: bool = False
    #: Seconds the whole plan may take (default: the PLAN_BUDGET_SECONDS setting).
    budget: float | None = None


def plan_budget() -> float:
    """The PLAN_BUDGET_SECONDS setting of the app at hand: how long one plan or move preview
    may take (read per request, so that two apps in one process keep their own)."""
    if has_app_context():
        return float(current_app.config.get("PLAN_BUDGET_SECONDS", DEFAULT_BUDGET))
    return DEFAULT_BUDGET


def run_planner(session: Session, *, location_id: int, patient_id: int, request: Request) -> Plan:
    """Check the request can fit at all, then load availability for the window the plan needs
    and plan; when a plan runs into the end of the window, load a longer one and plan again.
    Everything shares one wall-clock budget."""
    deadline = time.monotonic() + (request.budget if request.budget is not None else plan_budget())
    shape = request.shape
    separations = min_separations(shape)
    span = max(tails(shape, separations), default=0)
    kinds = {k for e in shape.elements for k in e.room_kinds}
    roles = needed_roles(p for e in shape.elements for p in e.parts)
    start = request.earliest.replace(second=0, microsecond=0)
    if start < request.earliest:
        start += dt.timedelta(minutes=1)
    anchor = max(start, request.reach or start)

    def load(horizon: dt.datetime) -> Availability:
        return load_availability(
            session,
            location_id=location_id,
            patient_id=patient_id,
            start=start,
            end=horizon + dt.timedelta(days=1),
            room_kinds=kinds,
            roles=roles,
            exclude_appointments=request.own_appointments,
            dose_margin=dosing_interval() / 2,
            release=request.release,
        )

    def problem_for(horizon: dt.datetime, last: bool) -> Problem:
        return Problem(
            shape=shape,
            earliest=to_epoch(start),
            horizon=to_epoch(horizon),
            preferences=request.preferences,
            fixed=request.fixed,
            pinned=request.pinned,
            current=request.current,
            targets=request.targets,
            order=request.order,
            stop_at_horizon=not last,
            deadline=deadline,
        )

    # Rows for the longest window the search could reach, read once; each search window
    # reads only its claims.
    longest = anchor + dt.timedelta(seconds=span, days=SLACK_DAYS[-1])
    full = load(longest)
    if not request.fixed and not request.pinned:
        # A "no" over the longest window holds for all of them.
        problem = problem_for(longest, True)
        reason = feasibility.check(problem, Context(full, problem.grid_minutes))
        if reason is not None:
            return impossible(shape, full.tz.key, reason)
    plan: Plan | None = None
    for number, slack in enumerate(SLACK_DAYS):
        horizon = anchor + dt.timedelta(seconds=span, days=slack)
        end = horizon + dt.timedelta(days=1)
        availability = within(full, session, end, request.own_appointments, request.release)
        problem = problem_for(horizon, number == len(SLACK_DAYS) - 1)
        plan = plan_elements(problem, availability, quality=request.quality)
        if plan.complete:
            if not request.fixed:
                plan.notices = plan_notices(
                    session,
                    location_id=location_id,
                    preferences=request.preferences,
                    earliest=request.earliest,
                    plan=plan,
                )
            return plan
        out_of_time = time.monotonic() > deadline
        retry = plan.truncated or (plan.failure is not None and plan.failure.exhausted)
        if not retry or out_of_time:
            break
    assert plan is not None
    return plan
