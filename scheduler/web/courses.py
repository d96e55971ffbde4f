"""Treatment courses: start one from the planner's proposal, and follow one as a timeline of
dosing sessions with their integration sessions side by side."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from flask import Blueprint, flash, redirect, render_template, url_for
from flask import request as flask_request
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response

from ..audit import Action
from ..auth import permissions
from ..auth.web import allowed, current_staff
from ..clinic.staff import home_location_id
from ..clock import now
from ..courses import book_course, cancel_course, get_course, proposal_plan
from ..courses.proposals import (
    Proposal,
    course_request,
    other_times,
    propose,
    swap_session,
)
from ..courses.rebook import rebook_missed_dose
from ..db import db, write_transaction
from ..errors import Conflict, DomainError, NotFound, ValidationFailed
from ..feeds.render import render_course_ics
from ..models import (
    Appointment,
    AppointmentKind,
    Course,
    Location,
    Patient,
    Protocol,
    ProtocolVersion,
    Role,
    StaffMember,
)
from ..record_reads import note_read
from .appointment_lists import Entry, load_entries
from .downloads import ics_response
from .forms.auth import ActionForm
from .forms.courses import (
    CancelCourseForm,
    CourseForm,
    RebookForm,
    course_request_of,
    parse_choice,
    parse_proposal,
    proposal_json,
    slot_json,
)
from .forms.fields import choices, show_domain_errors
from .patient_page import CourseSummary
from .plan_fixes import adjusted, fixes
from .query_params import MAX_ID

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
    viewer = current_staff()
    if course is None or not permissions.can_view_patient(db.session, viewer, course.patient_id):
        # One they may not see is answered as if it did not exist.
        raise NotFound("No such course")
    note_read(viewer, course.patient_id)
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
        cancel_form=CancelCourseForm(),
        rebook_form=RebookForm(),
        rebookable=rebookable(entries),
    )


def rebookable(entries: list[Entry]) -> set[int]:
    """Cancelled or missed doses that no live replacement stands in for yet."""
    replaced = {
        e.appointment.replaces_id
        for e in entries
        if e.appointment.replaces_id is not None
        and e.appointment.status.value not in ("cancelled", "no_show")
    }
    return {
        e.appointment.id
        for e in entries
        if e.appointment.kind == AppointmentKind.DOSING
        and e.appointment.status.value in ("cancelled", "no_show")
        and e.appointment.id not in replaced
    }


@bp.get("/courses/<int:course_id>.ics")
@allowed(may_read, "see courses")
def ics(course_id: int) -> Response:
    """The whole course as the patient's .ics file."""
    course = load_course(course_id)
    return ics_response(render_course_ics(db.session, course), f"course-{course.id}.ics")


def course_form(patient: Patient, formdata: object = None) -> CourseForm:
    """The start-a-course form with its choices: offered protocols, open locations, and the
    clinicians and therapists a patient may prefer."""
    form = CourseForm(formdata=formdata) if formdata is not None else CourseForm()
    protocols = db.session.scalars(
        select(Protocol).where(Protocol.active).order_by(Protocol.name)
    ).all()
    locations = db.session.scalars(
        select(Location).where(Location.active).order_by(Location.name)
    ).all()
    staff = db.session.scalars(
        select(StaffMember).where(StaffMember.active).order_by(StaffMember.name)
    ).all()
    form.protocol_id.choices = choices((p.id, p.name) for p in protocols)
    form.location_id.choices = choices((loc.id, loc.name) for loc in locations)
    form.clinician_id.choices = choices(
        [(0, "Any clinician")] + [(m.id, m.name) for m in staff if Role.CLINICIAN in m.roles]
    )
    form.therapist_id.choices = choices(
        [(0, "Any therapist")] + [(m.id, m.name) for m in staff if Role.THERAPIST in m.roles]
    )
    return form


def patient_for_booking(patient_id: int) -> Patient:
    patient = db.session.get(Patient, patient_id) if patient_id <= MAX_ID else None
    if patient is None:
        raise NotFound("No such patient")
    return patient


@bp.get("/patients/<int:patient_id>/courses/new")
@allowed(permissions.can_book, "start courses")
def new(patient_id: int) -> str:
    patient = patient_for_booking(patient_id)
    form = course_form(patient)
    if not form.is_submitted():
        home = home_location_id(current_staff().working_hours)
        form.location_id.data = home if home is not None else None
        location = db.session.get(Location, home) if home is not None else None
        zone = ZoneInfo(location.timezone if location else "UTC")
        form.earliest.data = now().astimezone(zone).date() + dt.timedelta(days=1)
        form.telehealth_ok.data = True
        form.clinician_id.data = 0
        form.therapist_id.data = 0
    return render_template("courses/new.html", patient=patient, form=form)


def request_from(form: CourseForm) -> dict[str, object]:
    return form.request()


def proposal_page(
    patient: Patient,
    request_data: dict[str, object],
    proposal: Proposal,
    *,
    taken_message: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    protocol = db.session.get(Protocol, request_data["protocol_id"])
    location = db.session.get(Location, request_data["location_id"])
    locations = db.session.scalars(select(Location).order_by(Location.name)).all()
    return render_template(
        "courses/proposal.html",
        patient=patient,
        protocol=protocol,
        location=location,
        proposal=proposal,
        fixes=fixes(proposal, request_data, locations),
        proposal_json=proposal_json(proposal),
        slot_json=slot_json,
        request_json=json.dumps(request_data, sort_keys=True),
        taken=taken_message is not None,
        taken_message=taken_message,
    ), status


@bp.post("/patients/<int:patient_id>/courses/plan")
@allowed(permissions.can_book, "start courses")
def plan(patient_id: int) -> tuple[str, int]:
    """The planner's proposal for the form's protocol, location, day and preferences."""
    patient = patient_for_booking(patient_id)
    form = course_form(patient)
    if not form.validate_on_submit():
        return render_template("courses/new.html", patient=patient, form=form), 422
    request_data = request_from(form)
    try:
        proposal = propose(db.session, course_request_of(patient.id, request_data), now())
    except ValidationFailed as error:
        show_domain_errors(form, error.fields, error.message)
        return render_template("courses/new.html", patient=patient, form=form), 422
    except Conflict as error:
        return refused(patient, form, error)
    return proposal_page(patient, request_data, proposal)


def refused(patient: Patient, form: CourseForm, error: Conflict) -> tuple[str, int]:
    """The start form again, saying what stops the course (a missing precondition)."""
    return render_template("courses/new.html", patient=patient, form=form, refusal=error), 409


def posted_request() -> dict[str, object]:
    """The planning request a proposal page carries; malformed: start again."""
    try:
        data = json.loads(flask_request.form.get("request", ""))
    except ValueError:
        data = None
    if not isinstance(data, dict) or not {"protocol_id", "location_id", "earliest"} <= set(data):
        raise ValidationFailed({"request": "the proposal was incomplete; plan again"})
    return data


@bp.post("/patients/<int:patient_id>/courses/adjust")
@allowed(permissions.can_book, "start courses")
def adjust(patient_id: int) -> tuple[str, int] | Response:
    """Plan again with one of the proposal page's fixes applied (a preference dropped, a
    later start, another location)."""
    patient = patient_for_booking(patient_id)
    if not ActionForm().validate_on_submit():
        return redirect(url_for("course.new", patient_id=patient.id))
    try:
        change = json.loads(flask_request.form.get("change", ""))
        if not isinstance(change, dict):
            raise ValueError("not an object")
        request_data = adjusted(posted_request(), change)
    except ValueError:
        raise ValidationFailed({"change": "not a change this page offered; plan again"}) from None
    try:
        proposal = propose(db.session, course_request_of(patient.id, request_data), now())
    except Conflict as error:
        return refused(patient, course_form(patient), error)
    return proposal_page(patient, request_data, proposal)


@bp.post("/patients/<int:patient_id>/courses/swap")
@allowed(permissions.can_book, "start courses")
def swap(patient_id: int) -> tuple[str, int] | Response:
    """Take one offered alternative in place of the proposed slot, then show the proposal."""
    patient = patient_for_booking(patient_id)
    if not ActionForm().validate_on_submit():
        return redirect(url_for("course.new", patient_id=patient.id))
    request_data = posted_request()
    items = parse_proposal(flask_request.form.get("proposal", ""))
    key = flask_request.form.get("key", "")
    choice = parse_choice(flask_request.form.get("slot", ""))
    data = course_request_of(patient.id, request_data)
    proposal = swap_session(db.session, data, items, key, choice, now())
    return proposal_page(patient, request_data, proposal)


@bp.post("/patients/<int:patient_id>/courses/book")
@allowed(permissions.can_book, "book courses")
def book(patient_id: int) -> tuple[str, int] | Response:
    """Book the proposal as shown, atomically. If a time was taken meanwhile: say which, and
    show a fresh proposal."""
    patient = patient_for_booking(patient_id)
    if not ActionForm().validate_on_submit():
        return redirect(url_for("course.new", patient_id=patient.id))
    request_data = posted_request()
    items = parse_proposal(flask_request.form.get("proposal", ""))
    data = course_request_of(patient.id, request_data)
    try:
        request = course_request(db.session, data, now())
        plan = proposal_plan(request, items)
        with write_transaction(db.session):
            action = Action("course.book", current_staff(), now())
            course, _booked = book_course(db.session, action, request, plan)
    except Conflict as error:
        if error.rule == "precondition":  # It no longer holds: a fresh proposal would fail too.
            return refused(patient, course_form(patient), error)
        fresh = propose(db.session, data, now())
        fresh.mark_changed(items)
        taken = error.details.get("appointment_key")
        for s in fresh.sessions:
            s.taken = s.key == taken
        return proposal_page(patient, request_data, fresh, taken_message=error.message, status=409)
    flash("Course booked. The patient gets one welcome message with the schedule.", "success")
    return redirect(url_for("course.show", course_id=course.id))


@bp.post("/patients/<int:patient_id>/courses/alternatives")
@allowed(permissions.can_book, "start courses")
def alternatives(patient_id: int) -> tuple[str, int] | Response:
    """The proposal again, with other times offered for one session."""
    patient = patient_for_booking(patient_id)
    if not ActionForm().validate_on_submit():
        return redirect(url_for("course.new", patient_id=patient.id))
    request_data = posted_request()
    items = parse_proposal(flask_request.form.get("proposal", ""))
    key = flask_request.form.get("key", "")
    data = course_request_of(patient.id, request_data)
    proposal = other_times(db.session, data, items, key, now())
    return proposal_page(patient, request_data, proposal)


@bp.post("/courses/<int:course_id>/rebook")
@allowed(permissions.can_book, "rebook doses")
def rebook(course_id: int) -> Response:
    """Plan and book a replacement for a missed dose with its pair (or say what prevents it)."""
    course = load_course(course_id)
    form = RebookForm()
    if not form.validate_on_submit():
        flash("Choose the missed dose to rebook.", "error")
        return redirect(url_for("course.show", course_id=course.id))
    try:
        with write_transaction(db.session):
            done = rebook_missed_dose(
                db.session,
                Action("course.rebook", current_staff(), now()),
                get_course(db.session, course.id, lock=True),
                form.appointment_id.data,
                extend_window_reason=form.extend_window_reason.data or None,
            )
    except DomainError as error:
        flash(error.message, "error")
    else:
        first = min(a.starts_at for a in done.booked)
        when = first.astimezone(ZoneInfo(course.location.timezone)).strftime("%a %d %b, %H:%M")
        flash(f"Replacement booked with its pair, from {when}.", "success")
    return redirect(url_for("course.show", course_id=course.id))


@bp.post("/courses/<int:course_id>/cancel")
@allowed(permissions.can_book, "cancel courses")
def cancel(course_id: int) -> Response:
    """Cancel the course: every appointment still to come is cancelled, history is kept."""
    course = load_course(course_id)
    form = CancelCourseForm()
    if not form.validate_on_submit():
        flash("Give a reason to cancel the course.", "error")
        return redirect(url_for("course.show", course_id=course.id))
    try:
        with write_transaction(db.session):
            cancelled = cancel_course(
                db.session,
                Action("course.cancel", current_staff(), now()),
                get_course(db.session, course.id, lock=True),
                form.reason.data,
            )
    except DomainError as error:
        flash(error.message, "error")
    else:
        flash(f"Course cancelled with {len(cancelled)} upcoming appointments.", "success")
    return redirect(url_for("course.show", course_id=course.id))
