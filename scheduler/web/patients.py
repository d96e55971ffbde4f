"""Finding and creating patients, and the patient page: courses, appointments with their
reminders, calendar-feed links and preferences.

Searches are POSTed: a patient's name never appears in a URL (URLs end up in logs and
browser histories).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import Select, func, or_, select
from werkzeug.wrappers import Response

from ..audit import Action
from ..auth import permissions
from ..auth.web import allowed, current_staff
from ..clinic.patients import create_patient, update_patient
from ..clinic.staff import home_location_id
from ..clock import now
from ..db import db, write_transaction
from ..errors import NotFound, ValidationFailed
from ..models import (
    Appointment,
    AppointmentStatus,
    Course,
    CourseStatus,
    FeedOwnerKind,
    Location,
    Patient,
)
from ..record_reads import note_read
from .feed_links import issue_link, revoke_link
from .forms.auth import ActionForm
from .forms.fields import show_domain_errors
from .forms.patients import PatientForm, PreferencesForm
from .patient_page import patient_page_context
from .query_params import MAX_ID, page_param

bp = Blueprint("patient", __name__, url_prefix="/patients")

PAGE_SIZE = 25
LIVE = [s for s in AppointmentStatus if s != AppointmentStatus.CANCELLED]


def may_read(actor: Any) -> bool:
    return permissions.sees_everything(actor) or permissions.has_schedule(actor)


def action(name: str) -> Action:
    return Action(name, current_staff(), now())


def search_query(text: str) -> Select[tuple[Patient]]:
    """Every word must match a name, the e-mail or the phone; a date matches the birthday."""
    query = select(Patient)
    for word in text.split()[:5]:
        try:
            born = dt.date.fromisoformat(word)
        except ValueError:
            pattern = f"%{word.lower()}%"
            query = query.where(
                or_(
                    func.lower(Patient.first_name).like(pattern),
                    func.lower(Patient.last_name).like(pattern),
                    func.lower(Patient.email).like(pattern),
                    Patient.phone.like(pattern),
                )
            )
        else:
            query = query.where(Patient.date_of_birth == born)
    return query


def with_next_visits(patients: list[Patient]) -> list[dict[str, Any]]:
    """Each patient with their next live appointment and active course count: two queries."""
    ids = [p.id for p in patients]
    moment = now()
    nexts = dict(
        db.session.execute(
            select(Appointment.patient_id, func.min(Appointment.starts_at))
            .where(
                Appointment.patient_id.in_(ids),
                Appointment.starts_at >= moment,
                Appointment.status.in_(LIVE),
            )
            .group_by(Appointment.patient_id)
        ).all()
    )
    courses = dict(
        db.session.execute(
            select(Course.patient_id, func.count(Course.id))
            .where(Course.patient_id.in_(ids), Course.status == CourseStatus.ACTIVE)
            .group_by(Course.patient_id)
        ).all()
    )
    rows = []
    for p in patients:
        upcoming = nexts.get(p.id)
        if upcoming is not None and upcoming.tzinfo is None:
            upcoming = upcoming.replace(tzinfo=dt.UTC)
        rows.append({"patient": p, "next": upcoming, "courses": courses.get(p.id, 0)})
    return rows


@bp.route("", methods=["GET", "POST"])
@allowed(may_read, "see patients")
def index() -> str:
    actor = current_staff()
    text = ""
    if request.method == "POST":
        form = ActionForm()
        if form.validate_on_submit():
            text = request.form.get("q", "").replace("\x00", "").strip()[:100]
    query = permissions.visible_patients(actor, search_query(text) if text else select(Patient))
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = page_param() if not text else 1
    patients = db.session.scalars(
        query.order_by(Patient.last_name, Patient.first_name, Patient.id)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    context = {
        "rows": with_next_visits(list(patients)),
        "q": text,
        "total": total,
        "page": page,
        "pages": max(1, -(-total // PAGE_SIZE)),
        "may_create": permissions.can_manage_patients(actor),
    }
    if request.headers.get("HX-Request") == "true":
        return render_template("patients/_results.html", **context)
    return render_template("patients/index.html", **context)


def default_zone() -> str:
    location_id = home_location_id(current_staff().working_hours)
    location = db.session.get(Location, location_id) if location_id else None
    return location.timezone if location else "America/New_York"


@bp.route("/new", methods=["GET", "POST"])
@allowed(permissions.can_manage_patients, "create patients")
def new() -> Response | str | tuple[str, int]:
    form = PatientForm()
    if request.method == "GET":
        form.timezone.data = default_zone()
        return render_template("patients/new.html", form=form)
    if form.validate_on_submit():
        try:
            with write_transaction(db.session):
                patient = create_patient(
                    db.session, action("patient.create"), form.data_for_domain()
                )
        except ValidationFailed as error:
            show_domain_errors(form, error.fields)
        else:
            flash("Patient created.", "success")
            return redirect(url_for("patient.show", patient_id=patient.id))
    return render_template("patients/new.html", form=form), 422


def load_patient(patient_id: int) -> Patient:
    patient = db.session.get(Patient, patient_id) if patient_id <= MAX_ID else None
    viewer = current_staff()
    if patient is None or not permissions.can_view_patient(db.session, viewer, patient.id):
        # One they may not see is answered as if it did not exist.
        raise NotFound("No such patient")
    note_read(viewer, patient.id)
    return patient


@bp.get("/<int:patient_id>")
@allowed(may_read, "see patients")
def show(patient_id: int) -> str:
    patient = load_patient(patient_id)
    preferences = PreferencesForm(formdata=None)
    preferences.fill(patient)
    return render_template(
        "patients/show.html", **patient_page_context(patient, preferences=preferences)
    )


@bp.route("/<int:patient_id>/edit", methods=["GET", "POST"])
@allowed(permissions.can_manage_patients, "change patient records")
def edit(patient_id: int) -> Response | str | tuple[str, int]:
    patient = load_patient(patient_id)
    form = PatientForm(obj=patient) if request.method == "GET" else PatientForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            with write_transaction(db.session):
                update_patient(
                    db.session, action("patient.update"), patient, form.data_for_domain()
                )
        except ValidationFailed as error:
            db.session.refresh(patient)
            show_domain_errors(form, error.fields)
        else:
            flash("Patient details saved.", "success")
            return redirect(url_for("patient.show", patient_id=patient.id))
    status = 422 if request.method == "POST" else 200
    return render_template("patients/edit.html", form=form, patient=patient), status


@bp.post("/<int:patient_id>/preferences")
@allowed(permissions.can_manage_patients, "change patient preferences")
def preferences(patient_id: int) -> Response | tuple[str, int]:
    patient = load_patient(patient_id)
    form = PreferencesForm()
    if form.validate_on_submit():
        try:
            with write_transaction(db.session):
                update_patient(
                    db.session, action("patient.preferences"), patient, form.data_for_domain()
                )
        except ValidationFailed as error:
            db.session.refresh(patient)
            show_domain_errors(form, error.fields)
        else:
            flash("Preferences saved.", "success")
            return redirect(url_for("patient.show", patient_id=patient.id) + "#preferences")
    return render_template(
        "patients/show.html", **patient_page_context(patient, preferences=form)
    ), 422


@bp.post("/<int:patient_id>/feed")
@allowed(may_read, "see patients")
def feed(patient_id: int) -> Response | tuple[str, int]:
    """Issue a new subscribe link (ending the old one) and show it, with its QR code, once."""
    patient = load_patient(patient_id)
    permissions.require(
        permissions.can_manage_feed(current_staff(), "patient", patient.id),
        "manage this patient's calendar link",
    )
    if not ActionForm().validate_on_submit():
        return redirect(url_for("patient.show", patient_id=patient.id))
    panel = issue_link(FeedOwnerKind.PATIENT, patient.id, with_qr=True)
    preferences = PreferencesForm(formdata=None)
    preferences.fill(patient)
    return render_template(
        "patients/show.html",
        **patient_page_context(patient, preferences=preferences, feed=panel),
    ), 200


@bp.post("/<int:patient_id>/feed/revoke")
@allowed(may_read, "see patients")
def feed_revoke(patient_id: int) -> Response:
    patient = load_patient(patient_id)
    permissions.require(
        permissions.can_manage_feed(current_staff(), "patient", patient.id),
        "manage this patient's calendar link",
    )
    if ActionForm().validate_on_submit() and revoke_link(FeedOwnerKind.PATIENT, patient.id):
        flash("The calendar link is switched off; the old address no longer works.", "success")
    return redirect(url_for("patient.show", patient_id=patient.id) + "#feed")
