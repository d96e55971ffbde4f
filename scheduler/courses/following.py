"""Which sessions of a course must follow when one of them moves: the step between naming a
new time and planning it.

Nothing here reads the database or plans: it sorts the course's other sessions into those
that stay where they are whatever happens, and those the planner may move, each with the
time it would reach if shifted like the moved session. The planner then keeps every movable
session where it is unless a rule fails, and moves it as close to that time as it can.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from ..models import Appointment, AppointmentStatus
from ..planning import Placement, Shape, to_epoch
from .course_state import placement_of

#: Statuses of a session that can still be moved (a checked-in or past one cannot).
MOVABLE = frozenset({AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED})


@dataclass
class Following:
    """The course's other sessions as the planner is to treat them while one moves."""

    #: The element paired with the moved one (its integration session), if the course has it.
    pair: int | None
    #: Sessions that stay put: earlier ones, past ones, and ones no longer movable.
    fixed: dict[int, Placement] = field(default_factory=dict)
    #: Sessions that may move but stay where they are unless their rules fail.
    current: dict[int, Placement] = field(default_factory=dict)
    #: Where each movable session lands if shifted like the moved one: the planner's aim.
    targets: dict[int, int] = field(default_factory=dict)

    @property
    def afresh(self) -> set[int]:
        """Sessions planned anew: aimed at a time, with no place of their own to keep."""
        return set(self.targets) - set(self.current)


def pair_of(shape: Shape, index: int) -> int | None:
    """The element paired with element ``index`` (a dose's integration session), if any."""
    return next((e.index for e in shape.elements if e.pair_of == index), None)


def sessions_that_follow(
    shape: Shape,
    standing: Mapping[int, Appointment],
    moved: int,
    *,
    starts_at: dt.datetime,
    now: dt.datetime,
) -> Following:
    """Sort ``standing`` (element index -> its appointment) around element ``moved`` going to
    ``starts_at``.

    Its pair always follows, re-planned relative to it rather than kept where it was (an
    integration session's window hangs on its dose). A session after the earlier of the old
    and new times may have to follow, to keep the protocol's spacing; one before it cannot be
    touched by the move. Past sessions and sessions checked in or done stay whatever they are.
    """
    delta = to_epoch(starts_at) - to_epoch(standing[moved].starts_at)
    boundary = min(standing[moved].starts_at, starts_at)
    pair = pair_of(shape, moved)
    following = Following(pair=pair)
    for index, appointment in standing.items():
        if index == moved:
            continue
        placement = placement_of(appointment)
        may_follow = index == pair or appointment.starts_at > boundary
        if may_follow and appointment.status in MOVABLE and appointment.starts_at >= now:
            following.targets[index] = placement.start + delta
            if index != pair:
                following.current[index] = placement
        else:
            following.fixed[index] = placement
    return following


def sessions_to_replan(
    shape: Shape,
    standing: Mapping[int, Appointment],
    moved: int,
    *,
    broken: Collection[int] = (),
    now: dt.datetime,
) -> Following:
    """Sort ``standing`` for re-planning element ``moved`` and the elements in ``broken``
    where nobody named a new time.

    They and the moved session's pair are planned anew, aiming at where they were; every
    other session still to come may follow if its spacing fails, and stays otherwise. Past
    sessions and sessions checked in or done stay whatever they are.
    """
    pair = pair_of(shape, moved)
    afresh = {*broken, moved, *([] if pair is None else [pair])}
    following = Following(pair=pair)
    for index, appointment in standing.items():
        placement = placement_of(appointment)
        if appointment.status in MOVABLE and appointment.starts_at >= now:
            following.targets[index] = placement.start
            if index not in afresh:
                following.current[index] = placement
        else:
            following.fixed[index] = placement
    return following
