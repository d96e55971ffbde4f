"""Every rule of the stored schedule, checked from the data: the invariant the product keeps.

``find_violations`` lists each appointment still to come that breaks a rule: the booking rules
(room, roles, hours, closures, working hours, time off, overlaps), its course's protocol
(spacing, phases, windows and pairing, read from the protocol's definition through the same
constraints the planner obeys, never by running the search), the patient's dosing safety
across courses, and the protocol's preconditions. Past sessions are never judged: what
already happened stays as it was, and new clinic data only concerns what is still to come.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, aliased, selectinload

from ..booking import rules
from ..booking.dosing import dosing_interval
from ..courses.others import OVERRIDE_RULE
from ..courses.pauses import course_pauses, relaxed_rules
from ..courses.preconditions import missing_preconditions
from ..courses.state import (
    CourseState,
    element_appointments,
    live_wanted,
    placement_of,
    shape_of,
)
from ..errors import ValidationFailed
from ..models import (
    Appointment,
    AppointmentKind,
    AppointmentStaff,
    AppointmentStatus,
    Closure,
    Course,
    CourseStatus,
    Location,
    ResourceClaim,
    StaffMember,
    TimeOff,
)
from ..planning import Placement, Preferences
from ..planning.checks import violations as protocol_violations
from ..protocols import ProtocolDefinition, definition_of

#: Appointments still to come: the ones a rule can still be kept for.
OPEN = (AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED)
#: Sessions that happened or will: what spacing and pairing are measured against.
COUNTED = frozenset(
    {
        AppointmentStatus.SCHEDULED,
        AppointmentStatus.CONFIRMED,
        AppointmentStatus.CHECKED_IN,
        AppointmentStatus.COMPLETED,
    }
)
HELD = frozenset({AppointmentStatus.CHECKED_IN, AppointmentStatus.COMPLETED})


@dataclass(frozen=True)
class Violation:
    appointment_id: int
    #: A stable id: "closure", "time_off", "pair_missing", "protocol", "dosing_interval", ...
    rule: str
    #: Front-desk words; names no patient (it is shown on lists other staff see).
    message: str


@dataclass(frozen=True)
class Scope:
    """Which appointments to judge: all to come, or those of some locations, patients, staff
    or appointment ids (any that match)."""

    location_ids: frozenset[int] = frozenset()
    patient_ids: frozenset[int] = frozenset()
    staff_ids: frozenset[int] = frozenset()
    room_ids: frozenset[int] = frozenset()
    appointment_ids: frozenset[int] = frozenset()
    everything: bool = False

    def __bool__(self) -> bool:
        return self.everything or any(
            (
                self.location_ids,
                self.patient_ids,
                self.staff_ids,
                self.room_ids,
                self.appointment_ids,
            )
        )

    def __or__(self, other: Scope) -> Scope:
        return Scope(
            self.location_ids | other.location_ids,
            self.patient_ids | other.patient_ids,
            self.staff_ids | other.staff_ids,
            self.room_ids | other.room_ids,
            self.appointment_ids | other.appointment_ids,
            self.everything or other.everything,
        )


def appointments_in(session: Session, scope: Scope, now: dt.datetime) -> list[Appointment]:
    """The appointments still to come that ``scope`` covers, by start."""
    if not scope:
        return []
    query = (
        select(Appointment)
        .where(Appointment.status.in_(OPEN), Appointment.starts_at >= now)
        .options(
            selectinload(Appointment.room),
            selectinload(Appointment.location).selectinload(Location.opening_hours),
            selectinload(Appointment.participants)
            .joinedload(AppointmentStaff.staff)
            .options(
                selectinload(StaffMember.working_hours), selectinload(StaffMember.role_rows)
            ),
        )
        .order_by(Appointment.starts_at, Appointment.id)
    )
    if not scope.everything:
        matches = []
        if scope.location_ids:
            matches.append(Appointment.location_id.in_(scope.location_ids))
        if scope.patient_ids:
            matches.append(Appointment.patient_id.in_(scope.patient_ids))
        if scope.room_ids:
            matches.append(Appointment.room_id.in_(scope.room_ids))
        if scope.appointment_ids:
            matches.append(Appointment.id.in_(scope.appointment_ids))
        if scope.staff_ids:
            matches.append(
                Appointment.id.in_(
                    select(AppointmentStaff.appointment_id).where(
                        AppointmentStaff.staff_id.in_(scope.staff_ids)
                    )
                )
            )
        query = query.where(or_(*matches))
    return list(session.scalars(query))


def find_violations(session: Session, scope: Scope, now: dt.datetime) -> list[Violation]:
    """Every rule broken by an appointment still to come within ``scope``, in the order a
    front desk would fix them (booking rules first, then the protocol, then safety)."""
    return violations_of(session, appointments_in(session, scope, now), now)


def violations_of(
    session: Session, targets: list[Appointment], now: dt.datetime
) -> list[Violation]:
    """``find_violations`` for appointments already loaded (each still to come)."""
    if not targets:
        return []
    courses = CourseData.load(session, targets)
    found: list[Violation] = []
    found.extend(_booking_violations(session, targets, courses))
    found.extend(_overlaps(session, targets))
    found.extend(_course_violations(session, courses, targets, now))
    found.extend(_dosing_violations(session, targets, courses.courses))
    return found


@dataclass
class CourseData:
    """The courses a check touches, each with every appointment, read once per check."""

    courses: dict[int, Course]
    appointments: dict[int, list[Appointment]]
    states: dict[int, CourseState]

    @classmethod
    def load(cls, session: Session, targets: list[Appointment]) -> CourseData:
        ids = {a.course_id for a in targets if a.course_id is not None}
        courses: dict[int, Course] = {}
        appointments: dict[int, list[Appointment]] = defaultdict(list)
        if ids:
            courses = {
                c.id: c
                for c in session.scalars(
                    select(Course)
                    .where(Course.id.in_(ids))
                    .options(selectinload(Course.protocol_version), selectinload(Course.location))
                )
            }
            for a in session.scalars(
                select(Appointment)
                .where(Appointment.course_id.in_(ids))
                .options(selectinload(Appointment.participants))
                .order_by(Appointment.starts_at, Appointment.id)
            ):
                appointments[a.course_id].append(a)  # type: ignore[index]
        states: dict[int, CourseState] = {}
        for cid, course in list(courses.items()):
            try:
                definition = definition_of(course.protocol_version)
            except ValidationFailed:
                # Stored versions are validated on write; one that is not (a raw import) has
                # no protocol rules to judge by, and must not stop the change being committed.
                del courses[cid]
                continue
            states[cid] = CourseState(
                course=course,
                version=course.protocol_version,
                definition=definition,
                tz=ZoneInfo(course.location.timezone),
                appointments=[a for a in appointments[cid] if a.status in COUNTED],
                preferences=Preferences.from_json(course.preferences),
                pauses=course_pauses(session, course),
            )
        return cls(courses, appointments, states)


# -- booking rules ----------------------------------------------------------------------------


def _booking_violations(
    session: Session, targets: list[Appointment], courses: CourseData
) -> Iterable[Violation]:
    start = min(a.starts_at for a in targets)
    end = max(a.ends_at for a in targets)
    locations = {a.location_id for a in targets}
    closures: dict[int, list[Closure]] = defaultdict(list)
    for closure in session.scalars(
        select(Closure).where(
            Closure.location_id.in_(locations),
            Closure.ends_on >= (start - dt.timedelta(days=1)).date(),
            Closure.starts_on <= (end + dt.timedelta(days=1)).date(),
        )
    ):
        closures[closure.location_id].append(closure)
    staff_ids = {p.staff_id for a in targets for p in a.participants}
    time_off: dict[int, list[TimeOff]] = defaultdict(list)
    if staff_ids:
        for off in session.scalars(
            select(TimeOff).where(
                TimeOff.staff_id.in_(staff_ids), TimeOff.starts_at < end, TimeOff.ends_at > start
            )
        ):
            time_off[off.staff_id].append(off)
    kinds = _protocol_room_kinds(targets, courses)
    for a in targets:
        location = a.location
        tz = ZoneInfo(location.timezone)
        participants = [(p.staff, p.part) for p in a.participants]
        checks = (
            ("room", rules.check_room(a.room, a.kind, location, kinds.get(a.id))),
            ("staff_role", rules.check_parts(a.kind, participants)),
            ("opening_hours", rules.check_opening_hours(location, a.starts_at, a.ends_at)),
            (
                "closure",
                rules.check_closures(location, closures[a.location_id], a.starts_at, a.ends_at),
            ),
        )
        for rule, problem in checks:
            if problem:
                yield Violation(a.id, rule, problem)
        for member, _part in participants:
            problem = rules.check_working_hours(member, location, a.starts_at, a.ends_at)
            if problem:
                yield Violation(a.id, "working_hours", problem)
            problem = rules.check_time_off(member, time_off[member.id], a.starts_at, a.ends_at, tz)
            if problem:
                yield Violation(a.id, "time_off", problem)


def _protocol_room_kinds(
    targets: list[Appointment], courses: CourseData
) -> dict[int, frozenset[str]]:
    """A course appointment's room kinds come from its protocol step (narrower than the
    appointment kind's defaults)."""
    found: dict[int, frozenset[str]] = {}
    for a in targets:
        state = courses.states.get(a.course_id) if a.course_id is not None else None
        if state is None or a.step_key is None:
            continue
        for step in state.definition.steps:
            if step.key == a.step_key:
                found[a.id] = frozenset(step.room_kinds)
            elif step.pairing is not None and step.pairing.key == a.step_key:
                found[a.id] = frozenset(step.pairing.room_kinds)
    return found


def _overlaps(session: Session, targets: list[Appointment]) -> Iterable[Violation]:
    """Claims of two live appointments that overlap: the database forbids them on
    PostgreSQL, so this finds only what SQLite let through or data imported around booking."""
    ids = [a.id for a in targets]
    mine, other = aliased(ResourceClaim), aliased(ResourceClaim)
    rows = session.execute(
        select(mine.appointment_id, mine.resource, other.appointment_id)
        .join(
            other,
            and_(
                other.resource == mine.resource,
                other.resource_id == mine.resource_id,
                other.appointment_id != mine.appointment_id,
                other.active,
                other.starts_at < mine.ends_at,
                other.ends_at > mine.starts_at,
            ),
        )
        .where(mine.appointment_id.in_(ids), mine.active)
    ).all()
    seen: set[tuple[int, int]] = set()
    for appointment_id, resource, other_id in rows:
        if (appointment_id, other_id) in seen:
            continue
        seen.add((appointment_id, other_id))
        if resource == "dose":
            continue  # reported with the course that brought it (``_dosing_violations``)
        yield Violation(
            appointment_id,
            "overlap",
            f"Double booking: the {resource} is also booked in appointment {other_id}",
        )


# -- protocol rules ---------------------------------------------------------------------------


def _course_violations(
    session: Session, courses: CourseData, targets: list[Appointment], now: dt.datetime
) -> Iterable[Violation]:
    judged = {a.id for a in targets}
    for course_id, course in courses.courses.items():
        if course.status == CourseStatus.CANCELLED:
            continue
        yield from _protocol(session, courses, course_id, judged, now)


def _relaxed(session: Session, course: Course) -> set[tuple[str, int]]:
    """Elements whose maxima a clinical decision relaxed: a resume after a pause, a window
    extended to rebook a missed dose (each recorded with its reason)."""
    found: set[tuple[str, int]] = set()
    for item in [*relaxed_rules(session, course), *(course.exceptions or [])]:
        key = item.get("appointment_key")
        if isinstance(key, str) and "-" in key:
            step, _, number = key.rpartition("-")
            if number.isdigit():
                found.add((step, int(number)))
    return found


def _protocol(
    session: Session, courses: CourseData, course_id: int, judged: set[int], now: dt.datetime
) -> Iterable[Violation]:
    course = courses.courses[course_id]
    state = courses.states[course_id]
    every = [a for a in courses.appointments[course_id] if a.step_key is not None]
    definition = state.definition
    wanted = live_wanted(state)
    shape = shape_of(definition, wanted, _relaxed(session, course))
    standing = element_appointments(shape, state)
    placements: list[Placement | None] = [None] * len(shape)
    fixed: set[int] = set()
    for index, appointment in standing.items():
        placements[index] = placement_of(appointment)
        if appointment.starts_at < now or appointment.status in HELD:
            fixed.add(index)
    for index, message in protocol_violations(shape, placements, state.tz, fixed=fixed):
        appointment = standing[index]
        if appointment.id in judged:
            yield Violation(appointment.id, "protocol", message)
    yield from _missing_pairs(state.appointments, every, definition, judged)
    yield from _missing_prerequisites(state.appointments, every, definition, judged)
    yield from _preconditions(session, course, definition, state.appointments, judged, now)


def _missing_pairs(
    counted: list[Appointment],
    every: list[Appointment],
    definition: ProtocolDefinition,
    judged: set[int],
) -> Iterable[Violation]:
    """A dose whose integration session was cancelled (or a required one never booked)."""
    pairs = {a.paired_with_id for a in counted if a.paired_with_id is not None}
    ever_paired = {a.paired_with_id for a in every if a.paired_with_id is not None}
    for a in counted:
        if a.id not in judged or a.step_key is None:
            continue
        try:
            step = definition.step(a.step_key)
        except KeyError:
            continue
        if step.pairing is None or a.id in pairs:
            continue
        if step.pairing.optional and a.id not in ever_paired:
            continue
        what = step.pairing.label.lower()
        why = "was cancelled" if a.id in ever_paired else "is not booked"
        yield Violation(
            a.id,
            "pair_missing",
            f"Its {what} {why}: book one {step.pairing.min_after} to "
            f"{step.pairing.max_after} after the session, or re-plan the session with its pair",
        )


def _missing_prerequisites(
    counted: list[Appointment],
    every: list[Appointment],
    definition: ProtocolDefinition,
    judged: set[int],
) -> Iterable[Violation]:
    """The first session of a step that needs another step first (a dose after the
    evaluation) when that step's session was cancelled."""
    have = {a.step_key for a in counted}
    ever = {a.step_key for a in every}
    for step in definition.steps:
        for before in step.after:
            if before.step in have or before.step not in ever:
                continue
            sessions = [a for a in counted if a.step_key == step.key]
            if not sessions:
                continue
            first = min(sessions, key=lambda a: (a.starts_at, a.id))
            if first.id in judged:
                label = definition.step(before.step).label
                yield Violation(
                    first.id,
                    "prerequisite",
                    f"{label} was cancelled: it must be held before this session; book it "
                    "again or re-plan the course",
                )


def _preconditions(
    session: Session,
    course: Course,
    definition: ProtocolDefinition,
    counted: list[Appointment],
    judged: set[int],
    now: dt.datetime,
) -> Iterable[Violation]:
    """A precondition that no longer holds before the course's first dose (an induction
    cancelled, an enrollment removed), unless an admin recorded an exception for it."""
    doses = [a for a in counted if a.kind == AppointmentKind.DOSING]
    if not doses or any(a.status in HELD or a.starts_at < now for a in doses):
        return
    first = min(doses, key=lambda a: (a.starts_at, a.id))
    if first.id not in judged:
        return
    excepted = {str(item.get("rule")) for item in course.exceptions or []}
    for missing in missing_preconditions(
        session,
        patient_id=course.patient_id,
        definition=definition,
        now=now,
        exclude_course_id=course.id,
    ):
        if missing.rule not in excepted:
            yield Violation(first.id, missing.rule, missing.message)


# -- dosing safety across courses -------------------------------------------------------------


def _dosing_violations(
    session: Session, targets: list[Appointment], courses: dict[int, Course]
) -> Iterable[Violation]:
    doses = [a for a in targets if a.kind == AppointmentKind.DOSING]
    if not doses:
        return
    patients = {a.patient_id for a in doses}
    every: dict[int, list[Appointment]] = defaultdict(list)
    for a in session.scalars(
        select(Appointment)
        .where(
            Appointment.patient_id.in_(patients),
            Appointment.kind == AppointmentKind.DOSING,
            Appointment.status.in_(COUNTED),
        )
        .order_by(Appointment.starts_at, Appointment.id)
    ):
        every[a.patient_id].append(a)
    course_ids = {a.course_id for ds in every.values() for a in ds if a.course_id is not None}
    all_courses = dict(courses)
    missing = course_ids - set(all_courses)
    if missing:
        all_courses.update(
            {c.id: c for c in session.scalars(select(Course).where(Course.id.in_(missing)))}
        )
    gap = dosing_interval()
    hours = gap.total_seconds() / 3600
    for dose in doses:
        others = [a for a in every[dose.patient_id] if a.id != dose.id]
        for other in others:
            if other.starts_at < dose.ends_at + gap and dose.starts_at < other.ends_at + gap:
                yield Violation(
                    dose.id,
                    "dosing_interval",
                    f"Less than {hours:g} h from the patient's dosing session "
                    f"{other.sequence or ''} of course {other.course_id}".replace("  ", " "),
                )
                break
        yield from _interleaving(dose, others, all_courses, gap)


def _interleaving(
    dose: Appointment,
    others: list[Appointment],
    courses: dict[int, Course],
    gap: dt.timedelta,
) -> Iterable[Violation]:
    """A dose of a course among the doses of the patient's earlier-booked course."""
    mine = courses.get(dose.course_id) if dose.course_id is not None else None
    if mine is None or any(e.get("rule") == OVERRIDE_RULE for e in mine.exceptions or []):
        return
    spans: dict[int, tuple[dt.datetime, dt.datetime]] = {}
    for other in others:
        if other.course_id is None or other.course_id >= mine.id:
            continue
        course = courses.get(other.course_id)
        if course is None or course.status == CourseStatus.CANCELLED:
            continue
        first, last = spans.get(other.course_id, (other.starts_at, other.ends_at))
        spans[other.course_id] = (min(first, other.starts_at), max(last, other.ends_at))
    for course_id, (first, last) in sorted(spans.items()):
        if dose.ends_at + gap > first and dose.starts_at < last + gap:
            yield Violation(
                dose.id,
                "other_course",
                f"Falls among the doses of the patient's course {course_id}: a patient's "
                "dosing courses must not interleave",
            )
            return
