"""A patient's other dosing courses: one course's doses never interleave with another's.

Two doses close together are a risk whatever courses they belong to (``booking/dosing.py``
keeps every pair of doses the clinic's interval apart). Beyond that a patient normally has one
dosing course at a time: a new course is planned after the last dose of the patient's other
active or paused courses, and a course that would reach back among another's doses is refused,
naming it, unless an admin recorded an exception (rule ``other_course``) with a reason.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..booking.dosing import dosing_interval
from ..errors import Conflict
from ..models import (
    COUNTED_STATUSES,
    Appointment,
    AppointmentKind,
    Course,
    CourseStatus,
    Patient,
    ProtocolVersion,
)
from ..protocols import definition_of

#: Courses that still hold the patient's dosing: a paused course comes back where it stopped.
OPEN_COURSES = (CourseStatus.ACTIVE, CourseStatus.PAUSED)
#: Doses that happened or will: a cancelled or missed one leaves no drug behind.
COUNTED = COUNTED_STATUSES
OVERRIDE_RULE = "other_course"


@dataclass(frozen=True)
class OtherCourse:
    course_id: int
    protocol: str
    status: str
    first_dose: dt.datetime
    last_dose: dt.datetime

    def describe(self) -> str:
        return (
            f"course {self.course_id} ({self.protocol}, {self.status}, doses "
            f"{self.first_dose:%d %b %Y} to {self.last_dose:%d %b %Y})"
        )

    def payload(self) -> dict[str, object]:
        return {
            "course_id": self.course_id,
            "protocol": self.protocol,
            "status": self.status,
            "first_dose": self.first_dose.isoformat(),
            "last_dose": self.last_dose.isoformat(),
        }


def lock_patient(session: Session, patient_id: int) -> None:
    """Serialize dosing writes for one patient: every course booking, resume and extension
    takes this row lock before it looks at the patient's other courses, so two concurrent
    requests cannot both see "no other course" (SQLite's write lock already serializes)."""
    session.scalars(select(Patient.id).where(Patient.id == patient_id).with_for_update()).first()


def other_dosing_courses(
    session: Session, patient_id: int, exclude_course_id: int | None = None
) -> list[OtherCourse]:
    """The patient's active or paused courses with doses that happened or are booked."""
    query = (
        select(
            Course.id,
            Course.status,
            Course.protocol_version_id,
            Appointment.starts_at,
            Appointment.ends_at,
        )
        .join(Appointment, Appointment.course_id == Course.id)
        .join(ProtocolVersion, ProtocolVersion.id == Course.protocol_version_id)
        .where(
            Course.patient_id == patient_id,
            Course.status.in_(OPEN_COURSES),
            Appointment.kind == AppointmentKind.DOSING,
            Appointment.status.in_(COUNTED),
        )
    )
    if exclude_course_id is not None:
        query = query.where(Course.id != exclude_course_id)
    spans: dict[int, tuple[str, int, dt.datetime, dt.datetime]] = {}
    for course_id, status, version_id, starts_at, ends_at in session.execute(query):
        found = spans.get(course_id)
        if found is not None:
            starts_at, ends_at = min(found[2], starts_at), max(found[3], ends_at)
        spans[course_id] = (str(status), version_id, starts_at, ends_at)
    names = _protocol_names(session, {span[1] for span in spans.values()})
    return [
        OtherCourse(cid, names[version_id], status, first, last)
        for cid, (status, version_id, first, last) in sorted(spans.items())
    ]


def _protocol_names(session: Session, version_ids: set[int]) -> dict[int, str]:
    """The protocol's name in each version (a later version may have renamed it)."""
    if not version_ids:
        return {}
    versions = session.scalars(select(ProtocolVersion).where(ProtocolVersion.id.in_(version_ids)))
    return {v.id: definition_of(v).name for v in versions}


def not_before(others: list[OtherCourse]) -> dt.datetime | None:
    """When a new course's first session may start: after every other course's last dose,
    by the clinic's dosing interval."""
    if not others:
        return None
    return max(o.last_dose for o in others) + dosing_interval()


def has_override(course: Course | None, overrides: list[dict[str, object]] | None = None) -> bool:
    items = list(overrides or []) + list(course.exceptions if course is not None else [])
    return any(item.get("rule") == OVERRIDE_RULE for item in items)


def refuse_interleaving(
    others: list[OtherCourse],
    doses: list[tuple[dt.datetime, dt.datetime]],
    what: str,
    *,
    new_course: bool,
) -> None:
    """409 naming the other course when any of ``doses`` falls among its doses (within the
    dosing interval of its first and last); a new course must also come after all of them."""
    gap = dosing_interval()
    for other in others:
        for start, end in doses:
            after_start = new_course or end + gap > other.first_dose
            if after_start and start < other.last_dose + gap:
                raise Conflict(
                    f"{what} would interleave with the patient's {other.describe()}: a new "
                    "course starts after the other's last dose, or an admin records an "
                    f"exception ({OVERRIDE_RULE}) with a reason",
                    rule="other_course",
                    details={"other_courses": [o.payload() for o in others]},
                )
