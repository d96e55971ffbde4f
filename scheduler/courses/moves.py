"""Moving a course's appointment with everything that must follow it, and cancelling a session
with or without its pair: the one way every route moves a session (the appointment API's
PATCH, the reschedule preview and apply, the pages).

``preview_move`` plans the move without writing: the appointment at its new time, its paired
session re-planned relative to it, and each later session kept where it is unless its spacing
now fails (then moved as close as possible to where it was, shifted like the first; which
sessions may follow is ``following.sessions_that_follow``). The preview lists every
appointment that would move and carries a signed token of exactly those moves and of the
course as it was; ``apply_moves`` books exactly that, or answers 409 if anything in the course
changed since. ``move_session`` is both at once for a plain reschedule, refused with
``SessionsMustFollow`` when more than the one session would move.

Errors here carry data (appointment ids, the rule), never a route: the API and the pages say
where to go next.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..audit import Action
from ..booking import (
    Move,
    cancel_appointment,
    get_appointment,
    reschedule_appointment,
    reschedule_appointments,
)
from ..errors import Conflict, ValidationFailed
from ..models import (
    ROOM_KINDS_FOR,
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    Course,
    CourseStatus,
    StaffPart,
)
from ..planning import Element, Pin, Placement, Plan, Preferences, Shape, from_epoch, to_epoch
from .course_state import (
    CourseState,
    course_state,
    element_appointments,
    get_course,
    live_wanted,
    placement_of,
    shape_of,
)
from .following import MOVABLE, Following, sessions_that_follow
from .plan_request import Request, run_planner

StaffList = tuple[tuple[int, StaffPart], ...]
CANCELLABLE = MOVABLE | {AppointmentStatus.CHECKED_IN}
TOKEN_SALT = "course-move-preview"


@dataclass(frozen=True)
class PlannedMove:
    appointment_id: int
    revision: int
    title: str
    old_start: dt.datetime
    old_end: dt.datetime
    old_room_id: int
    old_staff: tuple[tuple[int, StaffPart], ...]
    starts_at: dt.datetime
    ends_at: dt.datetime
    room_id: int
    staff: tuple[tuple[int, StaffPart], ...]
    #: Why it moves: "requested", "pair", or "spacing" (a later session whose rules failed).
    reason: str


@dataclass(frozen=True)
class MovePreview:
    appointment_id: int
    course_id: int | None
    moves: tuple[PlannedMove, ...]
    #: (appointment id, revision) of every live appointment of the course when previewed.
    basis: tuple[tuple[int, int], ...]

    def payload(self) -> dict[str, Any]:
        return {
            "appointment_id": self.appointment_id,
            "course_id": self.course_id,
            "basis": [list(b) for b in self.basis],
            "moves": [
                {
                    "id": m.appointment_id,
                    "revision": m.revision,
                    "starts_at": m.starts_at.isoformat(),
                    "ends_at": m.ends_at.isoformat(),
                    "room_id": m.room_id,
                    "staff": [[s, p.value] for s, p in m.staff],
                }
                for m in self.moves
            ],
        }

    @property
    def fingerprint(self) -> str:
        text = json.dumps(self.payload(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def token(self, secret: str) -> str:
        return URLSafeSerializer(secret, salt=TOKEN_SALT).dumps(self.payload())  # type: ignore[no-any-return]


@dataclass(frozen=True)
class ApprovedMoves:
    """A preview's moves as read back from its token."""

    appointment_id: int
    course_id: int | None
    basis: tuple[tuple[int, int], ...]
    moves: tuple[
        tuple[int, int, dt.datetime, dt.datetime, int, tuple[tuple[int, StaffPart], ...]], ...
    ]


def read_token(token: str, secret: str, appointment_id: int) -> ApprovedMoves:
    try:
        data = URLSafeSerializer(secret, salt=TOKEN_SALT).loads(token)
        moves = tuple(
            (
                int(m["id"]),
                int(m["revision"]),
                dt.datetime.fromisoformat(m["starts_at"]),
                dt.datetime.fromisoformat(m["ends_at"]),
                int(m["room_id"]),
                tuple((int(s), StaffPart(p)) for s, p in m["staff"]),
            )
            for m in data["moves"]
        )
        approved = ApprovedMoves(
            appointment_id=int(data["appointment_id"]),
            course_id=data["course_id"],
            basis=tuple((int(a), int(b)) for a, b in data["basis"]),
            moves=moves,
        )
    except (BadSignature, KeyError, TypeError, ValueError):
        raise ValidationFailed({"token": "not a preview token of this clinic"}) from None
    if approved.appointment_id != appointment_id:
        raise ValidationFailed({"token": "this preview is for another appointment"})
    return approved


def preview_move(
    session: Session,
    appointment: Appointment,
    *,
    starts_at: dt.datetime,
    room_id: int | None,
    staff: list[tuple[int, StaffPart]] | None,
    now: dt.datetime,
    release: bool = False,
) -> MovePreview:
    """Plan moving ``appointment`` to ``starts_at`` with everything that must follow. Writes
    nothing; a move that cannot keep every rule raises ``Conflict`` saying why. ``release``:
    the caller has only read (a preview page or request), so no transaction need stay open
    while the planner searches (see ``Request.release``)."""
    _check_move(appointment, starts_at, staff, now)
    pin = _pin(appointment, starts_at, room_id, staff)
    placed = None
    if appointment.course_id is not None:
        placed = placed_course(session, appointment, "moving sessions")
    if placed is None:
        return _preview_single(session, appointment, pin, starts_at, now, release)
    following = sessions_that_follow(
        placed.shape, placed.standing, placed.moved, starts_at=starts_at, now=now
    )
    plan = _plan_move(session, placed, following, pin, starts_at, now, release)
    moves = _moves_in(placed, plan)
    if not moves:
        raise ValidationFailed({"starts_at": "that is where the appointment is already"})
    return MovePreview(
        appointment_id=appointment.id,
        course_id=placed.course.id,
        moves=moves,
        basis=basis_of(placed.state),
    )


def _check_move(
    appointment: Appointment,
    starts_at: dt.datetime,
    staff: list[tuple[int, StaffPart]] | None,
    now: dt.datetime,
) -> None:
    """Refuse what no plan can fix: a session no longer movable, a time in the past or without
    an offset, staff that would change what the session needs."""
    if appointment.status not in MOVABLE:
        raise Conflict(
            f"Appointment {appointment.id} is {appointment.status.value.replace('_', ' ')} "
            "and cannot be moved",
            rule="status",
        )
    if starts_at.tzinfo is None:
        raise ValidationFailed({"starts_at": "must include a UTC offset"})
    if starts_at < now:
        raise ValidationFailed({"starts_at": "must be in the future"})
    if staff is not None and sorted(p for _, p in staff) != sorted(
        p.part for p in appointment.participants
    ):
        raise ValidationFailed({"staff": "give the same parts the appointment has"})


def _pin(
    appointment: Appointment,
    starts_at: dt.datetime,
    room_id: int | None,
    staff: list[tuple[int, StaffPart]] | None,
) -> Pin:
    """The moved session held at its new time; its room and staff stay if they are free."""
    return Pin(
        start=to_epoch(starts_at),
        room_id=room_id,
        staff=tuple(staff) if staff is not None else None,
        prefer_room=appointment.room_id,
        prefer_staff=tuple((p.staff_id, p.part) for p in appointment.participants),
    )


def _plan_move(
    session: Session,
    placed: PlacedCourse,
    following: Following,
    pin: Pin,
    starts_at: dt.datetime,
    now: dt.datetime,
    release: bool = False,
) -> Plan:
    """Plan the course with the moved session pinned, or raise ``Conflict`` naming the rule
    that fails."""
    plan = plan_following(
        session,
        placed,
        following,
        pinned={placed.moved: pin},
        reach=starts_at,
        now=now,
        release=release,
    )
    if not plan.complete:
        assert plan.failure is not None
        raise Conflict(
            f"Cannot move {placed.shape.elements[placed.moved].title}: {plan.failure.message}",
            rule="move",
            details={"failing": plan.failure.key},
        )
    return plan


def _moves_in(placed: PlacedCourse, plan: Plan) -> tuple[PlannedMove, ...]:
    def reason(index: int, changed: set[int]) -> str:
        if index == placed.moved:
            return "requested"
        return "pair" if placed.shape.elements[index].pair_of in changed else "spacing"

    return moves_in(placed, plan, reason)


def plan_following(
    session: Session,
    placed: PlacedCourse,
    following: Following,
    *,
    pinned: dict[int, Pin],
    reach: dt.datetime | None,
    now: dt.datetime,
    release: bool = False,
) -> Plan:
    """Plan the course with ``pinned`` held and its other sessions as ``following`` sorted
    them, over a window reaching past its last session (and ``reach``, a new time)."""
    latest = max(a.starts_at for a in placed.standing.values())
    request = Request(
        shape=placed.shape,
        preferences=placed.state.preferences,
        earliest=now,
        fixed=following.fixed,
        pinned=pinned,
        current=following.current,
        targets=following.targets,
        order="target",
        quality=False,
        own_appointments={a.id for a in placed.standing.values()},
        reach=latest if reach is None else max(reach, latest),
        release=release,
    )
    course = placed.course
    return run_planner(
        session, location_id=course.location_id, patient_id=course.patient_id, request=request
    )


def moves_in(
    placed: PlacedCourse, plan: Plan, reason: Callable[[int, set[int]], str]
) -> tuple[PlannedMove, ...]:
    """Every session the plan puts somewhere new, the requested ones first, then by new start;
    ``reason(element, changed elements)`` says why each moves."""
    changed = {i for i, a in placed.standing.items() if plan.placements[i] != placement_of(a)}
    moves: list[PlannedMove] = []
    for i, a in sorted(placed.standing.items(), key=lambda kv: kv[1].starts_at):
        new = plan.placements[i]
        if i in changed and new is not None:
            moves.append(planned_move(a, placed.shape.elements[i], new, reason(i, changed)))
    return tuple(sorted(moves, key=lambda m: (m.reason != "requested", m.starts_at)))


class PlacedCourse(NamedTuple):
    """An appointment's active course as the planner sees it."""

    course: Course
    state: CourseState
    shape: Shape
    #: Element index -> the live appointment standing for it.
    standing: dict[int, Appointment]
    #: The appointment's own element.
    moved: int


def placed_course(session: Session, appointment: Appointment, doing: str) -> PlacedCourse | None:
    """The active course of ``appointment`` as the planner sees it; None when the appointment
    stands for no element of it (it is then planned on its own)."""
    assert appointment.course_id is not None
    course = get_course(session, appointment.course_id)
    if course.status != CourseStatus.ACTIVE:
        raise Conflict(
            f"Course {course.id} is {course.status.value}; resume it before {doing}",
            rule="course_status",
        )
    state = course_state(session, course)
    shape = shape_of(state.definition, live_wanted(state))
    standing = element_appointments(shape, state)
    index_of = {a.id: i for i, a in standing.items()}
    if appointment.id not in index_of:
        return None
    return PlacedCourse(course, state, shape, standing, index_of[appointment.id])


def basis_of(state: CourseState) -> tuple[tuple[int, int], ...]:
    return tuple(sorted((a.id, a.revision) for a in state.appointments))


def planned_move(a: Appointment, element: Element, new: Placement, reason: str) -> PlannedMove:
    return PlannedMove(
        appointment_id=a.id,
        revision=a.revision,
        title=element.title,
        old_start=a.starts_at,
        old_end=a.ends_at,
        old_room_id=a.room_id,
        old_staff=tuple(sorted((p.staff_id, p.part) for p in a.participants)),
        starts_at=from_epoch(new.start),
        ends_at=from_epoch(new.end),
        room_id=new.room_id,
        staff=tuple(sorted(new.staff)),
        reason=reason,
    )


def single_element(appointment: Appointment) -> Element:
    """An appointment outside a course as the planner's one element: its own length, room
    kinds and parts."""
    kind = appointment.kind
    return Element(
        index=0,
        key=f"{kind.value}-1",
        step_key=kind.value,
        kind=kind,
        sequence=1,
        of=None,
        label=kind.value,
        minutes=int((appointment.ends_at - appointment.starts_at).total_seconds() // 60),
        buffer_minutes=appointment.buffer_minutes,
        room_kinds=tuple(sorted(ROOM_KINDS_FOR[AppointmentKind(kind)])),
        parts=tuple(sorted(p.part for p in appointment.participants)),
        pair_of=None,
    )


def _preview_single(
    session: Session,
    appointment: Appointment,
    pin: Pin,
    starts_at: dt.datetime,
    now: dt.datetime,
    release: bool,
) -> MovePreview:
    """An appointment outside a course moves alone, checked by the same planner rules."""
    element = single_element(appointment)
    request = Request(
        shape=Shape((element,)),
        preferences=Preferences(),
        earliest=now,
        pinned={0: pin},
        quality=False,
        own_appointments={appointment.id},
        reach=starts_at,
        release=release,
    )
    plan = run_planner(
        session,
        location_id=appointment.location_id,
        patient_id=appointment.patient_id,
        request=request,
    )
    if not plan.complete or plan.placements[0] is None:
        assert plan.failure is not None
        raise Conflict(f"Cannot move this appointment: {plan.failure.message}", rule="move")
    move = planned_move(appointment, element, plan.placements[0], "requested")
    return MovePreview(
        appointment_id=appointment.id,
        course_id=None,
        moves=(move,),
        basis=((appointment.id, appointment.revision),),
    )


class SessionsMustFollow(Conflict):
    """A plain move of a course session that would move more of its course with it: nothing
    moves. ``followers`` are the other moves the preview found, for the caller to offer as a
    preview applied together."""

    def __init__(self, appointment_id: int, followers: Sequence[PlannedMove]) -> None:
        listed = "; ".join(
            f"{m.title} (appointment {m.appointment_id}) to {m.starts_at.isoformat()}"
            for m in followers
        )
        super().__init__(
            f"Moving this session moves {len(followers)} more of its course with it: {listed}.",
            rule="course_moves",
            conflicts=[
                {
                    "appointment_id": m.appointment_id,
                    "reason": m.reason,
                    "starts_at": m.starts_at.isoformat(),
                    "ends_at": m.ends_at.isoformat(),
                }
                for m in followers
            ],
        )
        self.appointment_id = appointment_id
        self.followers = tuple(followers)


def move_session(
    session: Session,
    appointment: Appointment,
    action: Action,
    *,
    starts_at: dt.datetime | None = None,
    ends_at: dt.datetime | None = None,
    room_id: int | None = None,
    staff: Sequence[tuple[int, StaffPart]] | None = None,
) -> Appointment:
    """Move ``appointment`` alone (a plain reschedule: new start, end, room or staff).

    Outside a course it is a booking's reschedule. A course session keeps its protocol's
    duration and moves only when nothing else of its course has to follow: it is previewed
    and applied at once, in the caller's transaction; when its integration session or a later
    session would have to move too, ``SessionsMustFollow`` lists them and nothing moves."""
    if appointment.course_id is None:
        return reschedule_appointment(
            session,
            appointment,
            action,
            starts_at=starts_at,
            ends_at=ends_at,
            room_id=room_id,
            staff=staff,
        )
    start = starts_at or appointment.starts_at
    if ends_at is not None and ends_at - start != appointment.ends_at - appointment.starts_at:
        raise ValidationFailed({"ends_at": "a course session keeps its protocol's duration"})
    preview = preview_move(
        session,
        appointment,
        starts_at=start,
        room_id=room_id,
        staff=list(staff) if staff is not None else None,
        now=action.now,
    )
    followers = [m for m in preview.moves if m.appointment_id != appointment.id]
    if followers:
        raise SessionsMustFollow(appointment.id, followers)
    apply_moves(session, action, approved(preview))
    return appointment


def approved(preview: MovePreview) -> ApprovedMoves:
    """A preview applied in the transaction that made it (no token round trip)."""
    return ApprovedMoves(
        appointment_id=preview.appointment_id,
        course_id=preview.course_id,
        basis=preview.basis,
        moves=tuple(
            (m.appointment_id, m.revision, m.starts_at, m.ends_at, m.room_id, m.staff)
            for m in preview.moves
        ),
    )


def apply_moves(session: Session, action: Action, approved: ApprovedMoves) -> list[Appointment]:
    """Book exactly the previewed moves, or raise ``Conflict`` if anything changed since."""
    current: dict[int, int] = {}
    if approved.course_id is not None:
        course = get_course(session, approved.course_id, lock=True)
        if course.status != CourseStatus.ACTIVE:
            raise Conflict(f"Course {course.id} is {course.status.value}", rule="stale_preview")
        current = dict(basis_of(course_state(session, course)))
    else:
        a = get_appointment(session, approved.appointment_id)
        current = {a.id: a.revision} if a.is_live else {}
    if current != dict(approved.basis):
        changed = sorted(
            set(current.items()).symmetric_difference(approved.basis), key=lambda kv: kv[0]
        )
        ids = ", ".join(str(i) for i in dict(changed))
        raise Conflict(
            f"The course changed since the preview (appointments {ids}); preview again",
            rule="stale_preview",
            details={"changed": sorted(dict(changed))},
        )
    kinds = _room_kinds(session, approved.course_id)
    moves: list[Move] = []
    for appointment_id, revision, start, end, room_id, staff in approved.moves:
        appointment = get_appointment(session, appointment_id, lock=True)
        if appointment.revision != revision:
            raise Conflict(
                f"Appointment {appointment_id} changed since the preview; preview again",
                rule="stale_preview",
            )
        moves.append(
            Move(
                appointment=appointment,
                starts_at=start,
                ends_at=end,
                room_id=room_id,
                staff=list(staff),
                room_kinds=kinds.get(appointment.step_key or ""),
            )
        )
    # Earlier first: the booking checks then meet the rest of the course in its new order.
    moves.sort(key=lambda m: m.starts_at)
    return reschedule_appointments(session, moves, action)


def _room_kinds(session: Session, course_id: int | None) -> dict[str, frozenset[str]]:
    """Each protocol step's room kinds (narrower than an appointment kind's), by step key."""
    if course_id is None:
        return {}
    definition = course_state(session, get_course(session, course_id)).definition
    kinds: dict[str, frozenset[str]] = {}
    for step in definition.steps:
        kinds[step.key] = frozenset(step.room_kinds)
        if step.pairing is not None:
            kinds[step.pairing.key] = frozenset(step.pairing.room_kinds)
    return kinds


def cancel_session(
    session: Session,
    action: Action,
    appointment: Appointment,
    reason: str,
    keep_pair: bool | None,
) -> list[Appointment]:
    """Cancel an appointment: the one way every route cancels (the appointment API, the course
    API, the pages), so a dose is treated the same whichever door it leaves by.

    A session whose paired session is still to come (a dose and its integration session) needs
    ``keep_pair``: True keeps the paired session (booked, still pointing at the cancelled
    dose), False cancels it too, None is refused naming
    ``keep_integration``. Cancelling an integration session or an evaluation needs no choice;
    what that leaves behind (a dose unpaired, a first dose without its evaluation) is for the
    course's integrity checks to flag. Returns the cancelled appointments, this one first."""
    pair = None
    if appointment.status in CANCELLABLE:  # else cancelling fails anyway, saying why
        pair = session.scalars(
            select(Appointment)
            .where(Appointment.paired_with_id == appointment.id, Appointment.status.in_(MOVABLE))
            .order_by(Appointment.starts_at, Appointment.id)
            .with_for_update()
        ).first()
    if pair is not None and keep_pair is None:
        what = f"{pair.kind.value.replace('_', ' ')} session"
        raise ValidationFailed(
            {
                "keep_integration": (
                    f"appointment {appointment.id} has its {what} still booked (appointment "
                    f"{pair.id}): true keeps it, false cancels it too"
                )
            },
            message=f"Say whether its {what} stays or is cancelled too",
        )
    cancelled = [cancel_appointment(session, appointment, action, reason)]
    if pair is not None and not keep_pair:
        cancelled.append(
            cancel_appointment(session, pair, action, f"Its session was cancelled: {reason}")
        )
    return cancelled
