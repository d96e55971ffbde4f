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
from ..planning import Preferences, Shape, to_epoch
from .following import MOVABLE, sessions_to_replan
from .moves import (
    MovePreview,
    apply_moves,
    approved,
    basis_of,
    moves_in,
    placed_course,
    plan_following,
    planned_move,
    single_element,
)
from .plan_request import Request, run_planner


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
    index_of = {a.id: i for i, a in placed.standing.items()}
    following = sessions_to_replan(
        placed.shape,
        placed.standing,
        placed.moved,
        broken=[index_of[i] for i in broken if i in index_of],
        now=now,
    )
    plan = plan_following(session, placed, following, pinned={}, reach=None, now=now)
    if not plan.complete:
        assert plan.failure is not None
        raise Conflict(
            f"Cannot re-plan {placed.shape.elements[placed.moved].title}: {plan.failure.message}",
            rule="replan",
            details={"appointment_id": appointment.id, "failing": plan.failure.key},
        )
    afresh = following.afresh

    def reason(index: int, changed: set[int]) -> str:
        if index == following.pair and placed.moved in changed:
            return "pair"
        return "requested" if index in afresh else "spacing"

    return MovePreview(
        appointment_id=appointment.id,
        course_id=placed.course.id,
        moves=moves_in(placed, plan, reason),
        basis=basis_of(placed.state),
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
