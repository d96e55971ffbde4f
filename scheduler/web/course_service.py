"""The pages' side of planning and booking a course, through ``scheduler.courses`` (the same
functions the API calls), turned into the proposal the front desk sees.

Swapping a slot re-plans with that session pinned to the chosen time and every other session
preferring where it was, so a swap that forces its integration session along moves it too.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..audit import Action
from ..clock import now
from ..courses import NewCourse, ProposedAppointment, book_course, new_course, plan_new_course
from ..courses import proposal_plan as checked_plan
from ..courses.booking import course_shape
from ..courses.state import Request, run_planner
from ..db import db, write_transaction
from ..errors import Conflict, ValidationFailed
from ..models import Course, Patient
from ..planning import (
    Context,
    Placement,
    Plan,
    Preferences,
    Problem,
    load_availability,
    needed_roles,
    to_epoch,
)
from ..planning.explain import alternatives
from ..planning.search import Pin
from .login import current_staff
from .proposals import ProposalView, ProposedSession, Slot, name_things

#: How many days past the proposal's last session other times are looked for.
ALTERNATIVE_DAYS = 14


def course_request(patient: Patient, data: dict[str, Any]) -> NewCourse:
    """The planning request a page sent (protocol, location, earliest day, preferences)."""
    try:
        earliest = dt.date.fromisoformat(str(data["earliest"]))
        preferences = Preferences.from_json(data.get("preferences") or {})
        protocol_id = int(data["protocol_id"])
        location_id = int(data["location_id"])
    except (KeyError, TypeError, ValueError):
        raise ValidationFailed({"request": "the proposal was incomplete; plan again"}) from None
    request = new_course(
        db.session,
        patient_id=patient.id,
        location_id=location_id,
        protocol_id=protocol_id,
        protocol_version_id=None,
        preferences=preferences,
        earliest=None,
        now=now(),
    )
    start = dt.datetime.combine(earliest, dt.time(0), request.tz).astimezone(dt.UTC)
    request.earliest = max(start, now())
    return request


def view_of(plan: Plan) -> ProposalView:
    """A plan as the proposal page shows it (with the failing step's alternatives)."""
    failure = plan.failure
    sessions = []
    for a in plan.appointments:
        sessions.append(
            ProposedSession(
                key=a.key,
                kind=a.kind,
                title=a.title,
                slot=Slot(a.starts_at, a.ends_at, a.room_id, tuple(a.staff)),
                pair_key=a.pair_key,
                paired_with_key=a.paired_with_key,
                fixed=a.fixed,
            )
        )
    view = ProposalView(
        zone=plan.timezone,
        sessions=sessions,
        complete=plan.complete,
        failure=failure.message if failure else None,
        failure_key=failure.alternatives_for if failure else None,
    )
    if failure is not None:
        wanted = next((s for s in sessions if s.key == failure.alternatives_for), None)
        alternatives = [
            Slot(o.starts_at, o.ends_at, o.room_id, tuple(o.staff), tuple(o.breaks))
            for o in failure.alternatives
        ]
        if wanted is not None:
            wanted.alternatives = alternatives
    return name_things(view)


def propose(patient: Patient, data: dict[str, Any]) -> ProposalView:
    request = course_request(patient, data)
    view = view_of(plan_new_course(db.session, request))
    view.other_courses = [o.describe() for o in request.other_courses]
    return view


def items_of(slots: dict[str, Slot]) -> list[ProposedAppointment]:
    return [
        ProposedAppointment(
            key=key, starts_at=slot.starts_at, room_id=slot.room_id, staff=slot.staff
        )
        for key, slot in slots.items()
    ]


def swap(
    patient: Patient, data: dict[str, Any], slots: dict[str, Slot], key: str, chosen: Slot
) -> ProposalView:
    """The proposal with session ``key`` at ``chosen``; the rest stays unless the protocol
    makes it follow (its pair, later spacing)."""
    request = course_request(patient, data)
    shape = course_shape(request)
    index = {e.key: e.index for e in shape.elements}
    if key not in index:
        raise ValidationFailed({"key": "not a session of this proposal"})
    # The other sessions as proposed (all of them, or the part a failed plan got to).
    current: dict[int, Placement] = {}
    for other, slot in slots.items():
        if other == key or other not in index:
            continue
        element = shape.elements[index[other]]
        start = to_epoch(slot.starts_at)
        current[element.index] = Placement(
            start, start + element.seconds, slot.room_id, slot.staff, element.buffer_minutes * 60
        )
    plan = run_planner(
        db.session,
        location_id=request.location_id,
        patient_id=request.patient_id,
        request=Request(
            shape=shape,
            preferences=request.preferences,
            earliest=request.earliest,
            pinned={
                index[key]: Pin(
                    start=to_epoch(chosen.starts_at), room_id=chosen.room_id, staff=chosen.staff
                )
            },
            current=current,
            targets={i: p.start for i, p in current.items()},
            order="target",
            quality=False,
        ),
    )
    view = view_of(plan)
    before = {k: (s.starts_at, s.room_id) for k, s in slots.items()}
    for s in view.sessions:
        s.changed = before.get(s.key) != (s.slot.starts_at, s.slot.room_id)
    return view


def book(patient: Patient, data: dict[str, Any], slots: dict[str, Slot]) -> Course:
    """Book exactly the proposal shown, atomically (Conflict names what was taken)."""
    request = course_request(patient, data)
    plan = checked_plan(request, items_of(slots))
    action = Action("course.book", current_staff(), now())
    with write_transaction(db.session):
        course, _booked = book_course(db.session, action, request, plan)
    return course


def taken_keys(error: Conflict, slots: dict[str, Slot]) -> list[str]:
    key = error.details.get("appointment_key")
    return [str(key)] if key in slots else []


def moved_keys(slots: dict[str, Slot], fresh: ProposalView) -> list[str]:
    """Sessions of the fresh proposal that differ from the one that could not be booked."""
    before = {k: (s.starts_at, s.room_id) for k, s in slots.items()}
    return [
        s.key for s in fresh.sessions if before.get(s.key) != (s.slot.starts_at, s.slot.room_id)
    ]


def with_alternatives(
    patient: Patient, data: dict[str, Any], slots: dict[str, Slot], key: str
) -> ProposalView:
    """The proposal as it stands, with other times offered for session ``key``: the planner's
    earliest free times, one per day, each saying which rule it would break (if any)."""
    request = course_request(patient, data)
    plan = checked_plan(request, items_of(slots))
    shape = plan.shape
    element = next((e for e in shape.elements if e.key == key), None)
    if element is None:
        raise ValidationFailed({"key": "not a session of this proposal"})
    ends = [s.ends_at for s in slots.values()]
    availability = load_availability(
        db.session,
        location_id=request.location_id,
        patient_id=request.patient_id,
        start=request.earliest,
        end=max(ends, default=request.earliest) + dt.timedelta(days=ALTERNATIVE_DAYS + 1),
        room_kinds={k for e in shape.elements for k in e.room_kinds},
        roles=needed_roles(p for e in shape.elements for p in e.parts),
    )
    problem = Problem(
        shape=shape,
        earliest=to_epoch(request.earliest),
        horizon=to_epoch(max(ends) + dt.timedelta(days=ALTERNATIVE_DAYS)),
        preferences=request.preferences,
    )
    context = Context(availability, problem.grid_minutes)
    current = slots[key]
    offers = [
        Slot(o.starts_at, o.ends_at, o.room_id, tuple(o.staff), tuple(o.breaks))
        for o in alternatives(problem, context, plan.placements, element.index, how_many=6)
    ]
    view = view_of(plan)
    for s in view.sessions:
        if s.key == key:
            s.alternatives = [o for o in offers if o.starts_at != current.starts_at]
    view.failure_key = key
    return name_things(view)
