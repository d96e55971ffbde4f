"""Treatment courses: start one from the planner's proposal, and follow one as a timeline of
dosing sessions with their integration sessions side by side."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Blueprint, render_template
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response

from ..auth import permissions
from ..db import db
from ..errors import NotFound
from ..feeds.render import render_course_ics
from ..models import Appointment, AppointmentKind, Course, ProtocolVersion
from .appointments import ics_response
from .listings import Entry, load_entries
from .login import allowed, current_staff
from .params import MAX_ID
from .patient_page import CourseSummary

bp = Blueprint("course", __name__)


@dataclass
class TimelineRow:
    """One line of a course timeline: a session and, beside it, what is paired with it."""

    entry: Entry
    pairs: list[Entry] = field(default_factory=list)


def timeline(entries: list[Entry]) -> list[TimelineRow]:
    """Sessions in order; each paired session sits beside the session it follows."""
    rows: dict[int, TimelineRow] = {}
    ordered: list[TimelineRow] = []
    followers: list[Entry] = []
    for e in entries:
        if e.appointment.paired_with_id is not None:
            followers.append(e)
            continue
        row = TimelineRow(e)
        rows[e.appointment.id] = row
        ordered.append(row)
    for e in followers:
        row = rows.get(e.appointment.paired_with_id or 0)
        if row is not None:
            row.pairs.append(e)
        else:
            ordered.append(TimelineRow(e))
    ordered.sort(key=lambda r: (r.entry.appointment.starts_at, r.entry.appointment.id))
    return ordered


def load_course(course_id: int) -> Course:
    course = (
        db.session.scalars(
            select(Course)
            .where(Course.id == course_id)
            .options(
                joinedload(Course.patient),
                joinedload(Course.location),
                joinedload(Course.protocol_version).joinedload(ProtocolVersion.protocol),
            )
        ).first()
        if course_id <= MAX_ID
        else None
    )
    if course is None:
        raise NotFound("No such course")
    permissions.require(
        permissions.can_view_patient(db.session, current_staff(), course.patient_id),
        "see this course",
    )
    return course


def may_read(actor: object) -> bool:
    return permissions.sees_everything(actor) or permissions.has_schedule(actor)  # type: ignore[arg-type]


@bp.get("/courses/<int:course_id>")
@allowed(may_read, "see courses")
def show(course_id: int) -> str:
    course = load_course(course_id)
    entries = load_entries(
        db.session,
        select(Appointment)
        .where(Appointment.course_id == course.id)
        .order_by(Appointment.starts_at, Appointment.id),
    )
    summary = CourseSummary(course, entries)
    return render_template(
        "courses/show.html",
        course=course,
        summary=summary,
        rows=timeline(entries),
        zone=course.location.timezone,
        dosing=AppointmentKind.DOSING,
        may_book=permissions.can_book(current_staff()),
    )


@bp.get("/courses/<int:course_id>.ics")
@allowed(may_read, "see courses")
def ics(course_id: int) -> Response:
    """The whole course as the patient's .ics file."""
    course = load_course(course_id)
    return ics_response(render_course_ics(db.session, course), f"course-{course.id}.ics")


@bp.get("/patients/<int:patient_id>/courses/new")
@allowed(permissions.can_book, "start courses")
def new(patient_id: int) -> str:
    return render_template("courses/new.html")
