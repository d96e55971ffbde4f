"""Re-planning a session that now breaks a rule (a closure, a therapist's time off, a room out
of service): the nearest time that keeps every rule, with its pair and any later session
whose spacing would fail, through the same preview and apply as a requested move.

Unlike a move, nobody names the new time: the broken sessions are planned afresh near where
they were, and every other session still to come stays where it is unless its spacing fails.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from sqlalchemy.orm import Session

from ..audit import Action
from ..errors import Conflict
from ..models import Appointment
from ..planning import Placement, Preferences, Shape, to_epoch
from .moves import (
    MOVABLE,
    MovePreview,
    PlannedMove,
    apply_moves,
    approved,
    basis_of,
    placed_course,
    planned_move,
    single_element,
)
from .state import (
    Request,
    placement_of,
    run_planner,
)


def preview_replan(
    session: Session,
    appointment: Appointment,
    *,
    broken: Collection[int] = (),
    now: dt.datetime,
) -> MovePreview:
    """Plan ``appointment`` (and the sessions in ``broken``) afresh, nearest to where they
    were; its pair and later sessions follow when their rules need it. Writes nothing."""
    if appointment.status not in MOVABLE or appointment.starts_at < now:
        raise Conflict(
            f"Appointment {appointment.id} is not a session still to come", rule="status"
        )
    if appointment.course_id is None:
        return _replan_single(session, appointment, now)
    placed = placed_course(session, appointment, "re-planning")
    if placed is None:
        return _replan_single(session, appointment, now)
    course, state, shape, standing, moved = placed
    index_of = {a.id: i for i, a in standing.items()}
    pair = next((e.index for e in shape.elements if e.pair_of == moved), None)
    afresh = {index_of[i] for i in broken if i in index_of} | {moved}
    if pair is not None:
        afresh.add(pair)
    fixed: dict[int, Placement] = {}
    current: dict[int, Placement] = {}
    targets: dict[int, int] = {}
    for i, a in standing.items():
        if a.status in MOVABLE and a.starts_at >= now:
            targets[i] = to_epoch(a.starts_at)
            if i not in afresh:
                current[i] = placement_of(a)
        else:
            fixed[i] = placement_of(a)
    request = Request(
        shape=shape,
        preferences=state.preferences,
        earliest=now,
        fixed=fixed,
        current=current,
        targets=targets,
        order="target",
        quality=False,
        own_appointments={a.id for a in standing.values()},
        reach=max(a.starts_at for a in standing.values()),
    )
    plan = run_planner(
        session, location_id=course.location_id, patient_id=course.patient_id, request=request
    )
    title = shape.elements[moved].title
    if not plan.complete:
        assert plan.failure is not None
        raise Conflict(
            f"Cannot re-plan {title}: {plan.failure.message}",
            rule="replan",
            details={"appointment_id": appointment.id, "failing": plan.failure.key},
        )
    moves: list[PlannedMove] = []
    changed = {i for i, a in standing.items() if plan.placements[i] != placement_of(a)}
    for i, a in sorted(standing.items(), key=lambda kv: kv[1].starts_at):
        new = plan.placements[i]
        if i not in changed or new is None:
            continue
        reason = (
            "pair" if i == pair and moved in changed else "requested" if i in afresh else "spacing"
        )
        moves.append(planned_move(a, shape.elements[i], new, reason))
    return MovePreview(
        appointment_id=appointment.id,
        course_id=course.id,
        moves=tuple(sorted(moves, key=lambda m: (m.reason != "requested", m.starts_at))),
        basis=basis_of(state),
    )


def _replan_single(session: Session, appointment: Appointment, now: dt.datetime) -> MovePreview:
    element = single_element(appointment)
    request = Request(
        shape=Shape((element,)),
        preferences=Preferences(),
        earliest=now,
        targets={0: to_epoch(appointment.starts_at)},
        order="target",
        quality=False,
        own_appointments={appointment.id},
        reach=appointment.starts_at,
    )
    plan = run_planner(
        session,
        location_id=appointment.location_id,
        patient_id=appointment.patient_id,
        request=request,
    )
    if not plan.complete or plan.placements[0] is None:
        message = plan.failure.message if plan.failure else "no time found"
        raise Conflict(
            f"Cannot re-plan appointment {appointment.id}: {message}",
            rule="replan",
            details={"appointment_id": appointment.id},
        )
    move = planned_move(appointment, element, plan.placements[0], "requested")
    return MovePreview(
        appointment_id=appointment.id,
        course_id=None,
        moves=(move,),
        basis=((appointment.id, appointment.revision),),
    )


def replan(
    session: Session, action: Action, appointment: Appointment, broken: Collection[int] = ()
) -> list[Appointment]:
    """Preview and apply at once: re-plan ``appointment`` (and ``broken``) with its pair."""
    preview = preview_replan(session, appointment, broken=broken, now=action.now)
    if not preview.moves:
        return []
    return apply_moves(session, action, approved(preview))
