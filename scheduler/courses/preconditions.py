"""A protocol's machine-checked preconditions (its ``requires``), against one patient's record.

``missing_preconditions`` answers what stops a course of ``definition`` from starting for the
patient; booking refuses while anything is missing (unless an admin overrides it), and the
integrity check calls it for booked courses, so it is pure (reads only) and costs at most two
queries.

What the rules mean:

- ``rems_enrollment``: the patient record carries both the REMS enrollment date and number, and
  the date is not after today (in the patient's time zone).
- ``completed_course`` of a kind (e.g. induction): another course of the patient, of a protocol
  that ``counts_as`` that kind, is completed. A course counts as completed when its status is
  ``completed`` (staff or the course itself closed it), or when it has held (checked in or
  completed) at least as many dosing sessions as its protocol's finite phases plan - so an
  induction counts from its last dose on, without waiting for the trailing integration
  session, while a missed dose that was never rebooked leaves it incomplete. Cancelled courses
  never count.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..audit import Action
from ..errors import Conflict, Forbidden
from ..models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    Course,
    CourseStatus,
    Patient,
    ProtocolVersion,
    Role,
    Route,
)
from ..protocols import ProtocolDefinition, Requirement, definition_of

#: The ``rule`` of a ``Missing`` (and of an override or an exception recorded on a course).
RULE_PREFIX = "precondition:"
HELD = (AppointmentStatus.CHECKED_IN, AppointmentStatus.COMPLETED)


@dataclass(frozen=True)
class Missing:
    """A precondition that does not hold: ``rule`` ("precondition:rems_enrollment") and a
    message for the front desk."""

    rule: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"rule": self.rule, "message": self.message}


@dataclass(frozen=True)
class _EarlierCourse:
    counts_as: tuple[str, ...]
    status: CourseStatus
    held: int
    planned: int
    name: str

    @property
    def completed(self) -> bool:
        return self.status == CourseStatus.COMPLETED or self.held >= self.planned


def missing_preconditions(
    session: Session,
    *,
    patient_id: int,
    definition: ProtocolDefinition,
    now: dt.datetime,
    exclude_course_id: int | None = None,
) -> list[Missing]:
    """The preconditions of ``definition`` the patient does not meet, in the protocol's order.

    ``exclude_course_id``: a booked course checking its own preconditions leaves itself out."""
    if not definition.requires:
        return []
    courses: list[_EarlierCourse] | None = None
    found: list[Missing] = []
    for requirement in definition.requires:
        if requirement.rule == "rems_enrollment":
            problem = _rems(session.get(Patient, patient_id), definition, now)
        elif requirement.rule == "completed_course":
            if courses is None:
                courses = _courses(session, patient_id, exclude_course_id)
            problem = _completed_course(courses, requirement, definition)
        else:  # A rule this code does not know cannot be met; say so rather than pass it.
            problem = f"{_subject(definition)} has a precondition this version cannot check"
        if problem is not None:
            found.append(Missing(RULE_PREFIX + requirement.rule, problem))
    return found


def require_preconditions(
    session: Session,
    *,
    patient_id: int,
    definition: ProtocolDefinition,
    now: dt.datetime,
    overrides: Sequence[dict[str, Any]],
) -> list[dict[str, Any]]:
    """409 (rule "precondition") naming every missing precondition no override covers.

    Returns ``overrides`` without those for preconditions that are met: a course records only
    the exceptions it needed."""
    missing = missing_preconditions(session, patient_id=patient_id, definition=definition, now=now)
    overridden = {o["rule"] for o in overrides}
    refused = [m for m in missing if m.rule not in overridden]
    if refused:
        raise Conflict(
            " ".join(f"{m.message}." for m in refused),
            rule="precondition",
            details={"missing": [m.to_json() for m in refused]},
        )
    needed = {m.rule for m in missing}
    return [o for o in overrides if not o["rule"].startswith(RULE_PREFIX) or o["rule"] in needed]


def recorded_overrides(action: Action, overrides: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Overrides as a course records them in ``Course.exceptions``: with who and when. Only an
    admin may make one (403)."""
    if not overrides:
        return []
    if action.actor is None or Role.ADMIN not in action.actor.roles:
        raise Forbidden("Only an admin may override a rule")
    return [
        {
            "rule": o["rule"],
            "reason": o["reason"],
            "by": action.actor.id,
            "at": action.now.isoformat(),
        }
        for o in overrides
    ]


def _subject(definition: ProtocolDefinition) -> str:
    """The protocol in front-desk words: "Esketamine", "A booster", or its name."""
    if definition.route == Route.INTRANASAL:
        return "Esketamine"
    for kind, words in (("booster", "A booster"), ("maintenance", "A maintenance course")):
        if kind in definition.counts_as:
            return words
    return f"“{definition.name}”"


def _rems(patient: Patient | None, definition: ProtocolDefinition, now: dt.datetime) -> str | None:
    subject = _subject(definition)
    if patient is None or patient.rems_enrolled_on is None or not patient.rems_number:
        return (
            f"{subject} needs the patient's REMS enrollment (date and number) on record before "
            "the first session"
        )
    today = now.astimezone(ZoneInfo(patient.timezone)).date()
    if patient.rems_enrolled_on > today:
        return (
            f"{subject} needs the patient's REMS enrollment on record before the first session; "
            f"the enrollment date on record ({patient.rems_enrolled_on.isoformat()}) is after "
            "today"
        )
    return None


def _courses(
    session: Session, patient_id: int, exclude_course_id: int | None
) -> list[_EarlierCourse]:
    """The patient's courses that are not cancelled, with their held doses: one query."""
    held = (
        select(func.count(Appointment.id))
        .where(
            Appointment.course_id == Course.id,
            Appointment.kind == AppointmentKind.DOSING,
            Appointment.status.in_(HELD),
        )
        .correlate(Course)
        .scalar_subquery()
    )
    query = (
        select(Course.status, ProtocolVersion, held)
        .join(ProtocolVersion, Course.protocol_version_id == ProtocolVersion.id)
        .where(Course.patient_id == patient_id, Course.status != CourseStatus.CANCELLED)
        .order_by(Course.created_at, Course.id)
    )
    if exclude_course_id is not None:
        query = query.where(Course.id != exclude_course_id)
    result: list[_EarlierCourse] = []
    for status, version, held_count in session.execute(query):
        definition = definition_of(version)
        doses = sum(s.finite_count for s in definition.steps if s.kind == AppointmentKind.DOSING)
        result.append(
            _EarlierCourse(
                definition.counts_as, status, held_count or 0, max(doses, 1), definition.name
            )
        )
    return result


def _completed_course(
    courses: list[_EarlierCourse], requirement: Requirement, definition: ProtocolDefinition
) -> str | None:
    kind = requirement.of or ""
    relevant = [c for c in courses if kind in c.counts_as]
    if any(c.completed for c in relevant):
        return None
    needs = f"{_subject(definition)} needs a completed {kind} course"
    if not relevant:
        return f"{needs}; this patient has none"
    latest = relevant[-1]
    return (
        f"{needs}; this patient's {kind} course ({latest.name}) is not completed: "
        f"{latest.held} of {latest.planned} doses held"
    )
