"""Proposals for a new course: the planner's sessions with their rooms and staff named, why no
plan fits, other times for one session, and a swap (one session pinned to a chosen time, every
other session preferring where it was, so a swap that forces its integration session along
moves it too).

The pages and the API render the same ``Proposal``. Both send a proposal back as
``ProposedAppointment`` items; nothing here writes, and booking checks every rule again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import Conflict, ValidationFailed
from ..models import AppointmentKind, Room, StaffMember, StaffPart
from ..planning import (
    Alternative,
    Context,
    Element,
    Pin,
    Placement,
    Plan,
    Preferences,
    Problem,
    load_availability,
    needed_roles,
    to_epoch,
)
from ..planning.explain import alternatives
from ..planning.reasons import Reason
from .booking import (
    NewCourse,
    ProposedAppointment,
    course_shape,
    new_course,
    plan_new_course,
    planning_earliest,
    proposal_plan,
)
from .others import OtherCourse
from .plan_request import Request, run_planner

#: How many days past the proposal's last session other times are looked for.
ALTERNATIVE_DAYS = 14
#: Other times offered for one session (one per day).
OTHER_TIMES = 6

Staff = tuple[tuple[int, StaffPart], ...]


# -- what is asked ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CourseRequest:
    """A new course as a page or the API asks for it, before anything is looked up."""

    patient_id: int
    location_id: int
    protocol_id: int | None
    preferences: Preferences
    protocol_version_id: int | None = None
    earliest: dt.datetime | None = None
    #: A day instead of an instant (the pages' form): from midnight at the location.
    earliest_day: dt.date | None = None
    #: Admin exceptions to a rule, each {"rule", "reason"} (the caller checks who may).
    overrides: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True)
class Choice:
    """The time chosen for one session of a proposal; room and staff when they matter."""

    starts_at: dt.datetime
    room_id: int | None = None
    staff: Staff | None = None


def course_request(session: Session, data: CourseRequest, now: dt.datetime) -> NewCourse:
    """Check and load what the request refers to (422 naming the field, 409 for a missing
    precondition)."""
    request = new_course(
        session,
        patient_id=data.patient_id,
        location_id=data.location_id,
        protocol_id=data.protocol_id,
        protocol_version_id=data.protocol_version_id,
        preferences=data.preferences,
        earliest=data.earliest,
        now=now,
        overrides=[dict(o) for o in data.overrides],
    )
    if data.earliest_day is not None:
        midnight = dt.datetime.combine(data.earliest_day, dt.time(0), request.tz)
        request.earliest = max(midnight.astimezone(dt.UTC), now)
    return request


# -- what is answered ------------------------------------------------------------------------


@dataclass(frozen=True)
class Names:
    """Names for the rooms and staff a proposal uses, and the zone its times are shown in."""

    zone: str
    rooms: Mapping[int, str] = field(default_factory=dict)
    staff: Mapping[int, str] = field(default_factory=dict)

    def room(self, room_id: int) -> str:
        return self.rooms.get(room_id, f"room {room_id}")

    def person(self, staff_id: int) -> str:
        return self.staff.get(staff_id, f"staff {staff_id}")


@dataclass(frozen=True)
class StaffRef:
    staff_id: int
    part: StaffPart
    name: str


@dataclass
class Slot:
    """A time, room and staff for one session: proposed, or offered instead."""

    starts_at: dt.datetime
    ends_at: dt.datetime
    room_id: int
    staff: Staff
    #: What an offered time would break (protocol rules, the patient's preferences).
    breaks: tuple[str, ...] = ()
    #: Set by the naming step; until then rooms and staff are named by their ids.
    names: Names | None = field(default=None, compare=False, repr=False)

    @classmethod
    def offered(cls, alternative: Alternative) -> Slot:
        a = alternative
        return cls(a.starts_at, a.ends_at, a.room_id, tuple(a.staff), tuple(a.breaks))

    @property
    def room_name(self) -> str:
        return self.names.room(self.room_id) if self.names else f"room {self.room_id}"

    @property
    def staff_refs(self) -> list[StaffRef]:
        names = self.names or Names("UTC")
        return [StaffRef(s, part, names.person(s)) for s, part in self.staff]

    @property
    def staff_names(self) -> str:
        return ", ".join(ref.name for ref in self.staff_refs)

    def _local(self, moment: dt.datetime) -> str:
        zone = ZoneInfo(self.names.zone) if self.names else dt.UTC
        return moment.astimezone(zone).isoformat()

    @property
    def local_starts_at(self) -> str:
        return self._local(self.starts_at)

    @property
    def local_ends_at(self) -> str:
        return self._local(self.ends_at)


@dataclass
class ProposedSession:
    key: str
    step_key: str
    kind: AppointmentKind
    sequence: int
    of: int | None
    label: str
    title: str
    buffer_minutes: int
    slot: Slot
    pair_key: str | None = None
    paired_with_key: str | None = None
    #: Booked already and staying where it is.
    fixed: bool = False
    alternatives: list[Slot] = field(default_factory=list)
    #: Differs from the proposal it was made from (the swapped session, what followed it).
    changed: bool = False
    #: Someone else took its time meanwhile (set by the page that failed to book it).
    taken: bool = False


@dataclass
class Row:
    session: ProposedSession
    pairs: list[ProposedSession] = field(default_factory=list)


@dataclass(frozen=True)
class Failure:
    key: str
    title: str
    message: str
    #: False when the search stopped at its budget instead of proving there is no plan.
    exhausted: bool
    alternatives_for: str
    alternatives: list[Slot]
    reasons: tuple[Reason, ...] = ()


@dataclass
class Proposal:
    """One answer to "plan this course": the sessions, or as far as planning got and why not."""

    request: NewCourse
    sessions: list[ProposedSession]
    failure: Failure | None = None
    #: The session whose other times are shown: the failing one, or the one asked about.
    alternatives_for: str | None = None
    names: Names | None = None
    notices: list[Reason] = field(default_factory=list)
    #: The plan's ``status``: complete, impossible or timed_out.
    status: str = "complete"

    @property
    def complete(self) -> bool:
        return self.failure is None

    @property
    def completes_at(self) -> dt.datetime | None:
        if not self.complete:
            return None
        return max((s.slot.ends_at for s in self.sessions), default=None)

    @property
    def zone(self) -> str:
        return self.request.timezone

    @property
    def timezone(self) -> str:
        return self.request.timezone

    @property
    def patient_id(self) -> int:
        return self.request.patient_id

    @property
    def location_id(self) -> int:
        return self.request.location_id

    @property
    def protocol_id(self) -> int:
        return self.request.version.protocol_id

    @property
    def protocol_version_id(self) -> int:
        return self.request.version.id

    @property
    def earliest_start(self) -> dt.datetime:
        return self.request.earliest

    @property
    def preferences(self) -> dict[str, Any]:
        return self.request.preferences.to_json()

    @property
    def overrides(self) -> list[dict[str, Any]]:
        return self.request.overrides

    @property
    def other_courses(self) -> list[OtherCourse]:
        return self.request.other_courses

    @property
    def offered(self) -> list[Slot]:
        """The other times shown for ``alternatives_for``."""
        wanted = next((s for s in self.sessions if s.key == self.alternatives_for), None)
        if wanted is not None:
            return wanted.alternatives
        return self.failure.alternatives if self.failure else []

    @property
    def changed_keys(self) -> list[str]:
        return [s.key for s in self.sessions if s.changed]

    @property
    def rows(self) -> list[Row]:
        """Sessions in time order; each paired session beside the one it follows."""
        by_key = {s.key: Row(s) for s in self.sessions if s.paired_with_key is None}
        loose: list[Row] = []
        for s in self.sessions:
            if s.paired_with_key is None:
                continue
            owner = by_key.get(s.paired_with_key)
            if owner is None:
                loose.append(Row(s))
            else:
                owner.pairs.append(s)
        rows = list(by_key.values()) + loose
        rows.sort(key=lambda r: (r.session.slot.starts_at, r.session.key))
        return rows

    def mark_changed(self, before: Iterable[ProposedAppointment]) -> None:
        """Mark the sessions that differ (in time or room) from ``before``."""
        was = {item.key: (item.starts_at, item.room_id) for item in before}
        for s in self.sessions:
            s.changed = was.get(s.key) != (s.slot.starts_at, s.slot.room_id)


def load_names(session: Session, zone: str, slots: Iterable[Slot]) -> Names:
    """Names for the rooms and staff ``slots`` use: two queries whatever their number."""
    slots = list(slots)
    room_ids = {slot.room_id for slot in slots}
    staff_ids = {staff_id for slot in slots for staff_id, _part in slot.staff}
    rooms = session.execute(select(Room.id, Room.name).where(Room.id.in_(room_ids)))
    staff = session.execute(
        select(StaffMember.id, StaffMember.name).where(StaffMember.id.in_(staff_ids))
    )
    return Names(zone, {i: n for i, n in rooms}, {i: n for i, n in staff})


def name_proposal(session: Session, proposal: Proposal) -> Proposal:
    """The one naming step: every slot of the proposal learns its room's and staff's names."""
    slots = [s.slot for s in proposal.sessions]
    slots += [a for s in proposal.sessions for a in s.alternatives]
    slots += proposal.failure.alternatives if proposal.failure else []
    names = load_names(session, proposal.zone, slots)
    for slot in slots:
        slot.names = names
    proposal.names = names
    return proposal


def proposal_of(request: NewCourse, plan: Plan) -> Proposal:
    """A plan as a proposal (unnamed): the failing session carries the failure's alternatives."""
    sessions = [
        ProposedSession(
            key=a.key,
            step_key=a.step_key,
            kind=a.kind,
            sequence=a.sequence,
            of=a.of,
            label=a.label,
            title=a.title,
            buffer_minutes=a.buffer_minutes,
            slot=Slot(a.starts_at, a.ends_at, a.room_id, tuple(a.staff)),
            pair_key=a.pair_key,
            paired_with_key=a.paired_with_key,
            fixed=a.fixed,
        )
        for a in plan.appointments
    ]
    found = plan.failure
    if found is None:
        return Proposal(request, sessions, notices=list(plan.notices), status=plan.status)
    failure = Failure(
        key=found.key,
        title=found.title,
        message=found.message,
        exhausted=found.exhausted,
        alternatives_for=found.alternatives_for,
        alternatives=[Slot.offered(o) for o in found.alternatives],
        reasons=found.reasons,
    )
    for s in sessions:
        if s.key == found.alternatives_for:
            s.alternatives = failure.alternatives
    return Proposal(
        request,
        sessions,
        failure,
        alternatives_for=found.alternatives_for,
        notices=list(plan.notices),
        status=plan.status,
    )


# -- the three questions ---------------------------------------------------------------------


def propose(session: Session, data: CourseRequest, now: dt.datetime) -> Proposal:
    """A proposal for the whole course, after the patient's other dosing courses."""
    request = course_request(session, data, now)
    return name_proposal(
        session, proposal_of(request, plan_new_course(session, request, release=True))
    )


def swap_session(
    session: Session,
    data: CourseRequest,
    current: Sequence[ProposedAppointment] | None,
    key: str,
    choice: Choice,
    now: dt.datetime,
) -> Proposal:
    """The proposal with session ``key`` at ``choice``; the rest stays where it was in
    ``current`` unless the protocol makes it follow (its pair, later spacing). Without
    ``current``: the proposal ``propose`` gives. Sessions that moved are marked ``changed``."""
    request = course_request(session, data, now)
    shape = course_shape(request)
    index = {e.key: e.index for e in shape.elements}
    if key not in index:
        raise ValidationFailed({"key": f"{key!r} is not a session of this proposal"})
    element = shape.elements[index[key]]
    _check_choice(session, request, element, choice)
    if current is None:
        base = plan_new_course(session, request, release=True)
        current = [
            ProposedAppointment(a.key, a.starts_at, a.room_id, tuple(a.staff))
            for a in base.appointments
        ]
    earliest = planning_earliest(session, request)
    # The other sessions as proposed (all of them, or the part a failed plan got to).
    standing: dict[int, Placement] = {}
    for n, item in enumerate(current):
        other = index.get(item.key)
        if other is None:
            raise ValidationFailed(
                {f"appointments.{n}.key": f"{item.key!r} is not part of this course"}
            )
        if other == element.index:
            continue
        e = shape.elements[other]
        start = to_epoch(item.starts_at)
        standing[other] = Placement(
            start, start + e.seconds, item.room_id, tuple(item.staff), e.buffer_minutes * 60
        )
    pin = Pin(start=to_epoch(choice.starts_at), room_id=choice.room_id, staff=choice.staff)
    plan = run_planner(
        session,
        location_id=request.location_id,
        patient_id=request.patient_id,
        request=Request(
            shape=shape,
            preferences=request.preferences,
            earliest=earliest,
            pinned={element.index: pin},
            current=standing,
            targets={i: p.start for i, p in standing.items()},
            order="target",
            quality=False,
            release=True,
        ),
    )
    proposal = proposal_of(request, plan)
    proposal.mark_changed(current)
    return name_proposal(session, proposal)


def _check_choice(session: Session, request: NewCourse, element: Element, choice: Choice) -> None:
    """A room or staff the session could never have is named here, not as a plan failure."""
    if choice.room_id is not None:
        room = session.get(Room, choice.room_id)
        if room is None or room.location_id != request.location_id or not room.active:
            raise ValidationFailed({"room_id": f"no room {choice.room_id} in service here"})
        if room.kind not in element.room_kinds:
            raise ValidationFailed({"room_id": f"{element.title} cannot take place in {room.name}"})
    if choice.staff is not None:
        if sorted(p for _, p in choice.staff) != sorted(element.parts):
            parts = ", ".join(p.value for p in element.parts)
            raise ValidationFailed({"staff": f"{element.title} needs exactly: {parts}"})
        for staff_id, _part in choice.staff:
            if session.get(StaffMember, staff_id) is None:
                raise ValidationFailed({"staff": f"no staff member {staff_id}"})


def require_pin_held(proposal: Proposal, key: str) -> None:
    """Refuse a swap whose chosen time the session itself cannot take (422 on ``starts_at``)
    rather than answer with a proposal that fails there; the pages show that proposal."""
    failure = proposal.failure
    if failure is not None and failure.key == key:
        raise ValidationFailed({"starts_at": failure.message}, "The chosen time is not possible")


def other_times(
    session: Session,
    data: CourseRequest,
    current: Sequence[ProposedAppointment] | None,
    key: str,
    now: dt.datetime,
    how_many: int = OTHER_TIMES,
) -> Proposal:
    """The proposal ``current`` (checked against the protocol; without it, the one ``propose``
    gives), with other times offered for session ``key``: the earliest free times, one per
    day, each saying which rule it would break (if any)."""
    request = course_request(session, data, now)
    if current is None:
        plan = plan_new_course(session, request, release=True)
        if plan.failure is not None:
            raise Conflict(
                f"No complete plan: {plan.failure.message}",
                rule="no_plan",
                details={"failing": plan.failure.key},
            )
    else:
        planning_earliest(session, request)  # so the answer names the patient's other courses
        plan = proposal_plan(request, list(current))
    shape = plan.shape
    element = next((e for e in shape.elements if e.key == key), None)
    if element is None:
        raise ValidationFailed({"key": f"{key!r} is not a session of this proposal"})
    last = max(a.ends_at for a in plan.appointments)
    availability = load_availability(
        session,
        location_id=request.location_id,
        patient_id=request.patient_id,
        start=request.earliest,
        end=last + dt.timedelta(days=ALTERNATIVE_DAYS + 1),
        room_kinds={k for e in shape.elements for k in e.room_kinds},
        roles=needed_roles(p for e in shape.elements for p in e.parts),
    )
    problem = Problem(
        shape=shape,
        earliest=to_epoch(request.earliest),
        horizon=to_epoch(last + dt.timedelta(days=ALTERNATIVE_DAYS)),
        preferences=request.preferences,
    )
    context = Context(availability, problem.grid_minutes)
    offers = alternatives(problem, context, plan.placements, element.index, how_many=how_many)
    proposal = proposal_of(request, plan)
    for s in proposal.sessions:
        if s.key == key:
            s.alternatives = [Slot.offered(o) for o in offers if o.starts_at != s.slot.starts_at]
    proposal.alternatives_for = key
    return name_proposal(session, proposal)
