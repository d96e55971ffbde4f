"""Reading courses: status, progress, appointments in order with their pairs."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Appointment, AppointmentStatus, Course, Protocol, ProtocolVersion
from ..protocols import definition_of
from .course_state import course_appointments


@dataclass
class StepProgress:
    key: str
    done: int
    booked: int
    #: Sessions the protocol asks for (None: open-ended).
    planned: int | None


@dataclass
class CourseView:
    course: Course
    protocol: Protocol
    version: ProtocolVersion
    #: Every appointment of the course, cancelled ones too (history), by start.
    appointments: list[Appointment]
    #: Session id -> the id of its live paired appointment.
    pairs: dict[int, int]
    done: int
    total: int
    steps: list[StepProgress]


def course_view(session: Session, course: Course) -> CourseView:
    appointments = course_appointments(session, course)
    version = course.protocol_version
    definition = definition_of(version)
    live = [a for a in appointments if a.is_live]
    pairs = {a.paired_with_id: a.id for a in live if a.paired_with_id is not None}
    steps = []
    for step in definition.steps:
        keys = {step.key} | ({step.pairing.key} if step.pairing else set())
        mine = [a for a in live if a.step_key in keys]
        steps.append(
            StepProgress(
                key=step.key,
                done=sum(a.status == AppointmentStatus.COMPLETED for a in mine),
                booked=len(mine),
                planned=step.count,
            )
        )
    return CourseView(
        course=course,
        protocol=version.protocol,
        version=version,
        appointments=appointments,
        pairs=pairs,  # type: ignore[arg-type]
        done=sum(a.status == AppointmentStatus.COMPLETED for a in live),
        total=len(live),
        steps=steps,
    )


def list_courses(session: Session, patient_id: int | None = None) -> list[Course]:
    query = select(Course).order_by(Course.created_at.desc(), Course.id.desc())
    if patient_id is not None:
        query = query.where(Course.patient_id == patient_id)
    return list(session.scalars(query))
