"""Dosing safety across a patient's courses: the clinic's interval between any two doses, and
no interleaving of two dosing courses (unless an admin recorded an exception)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..booking.dosing import dosing_interval
from ..courses.others import OVERRIDE_RULE
from ..models import (
    Appointment,
    AppointmentKind,
    Course,
    CourseStatus,
)
from .data import COUNTED, Violation


def dosing_violations(
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
