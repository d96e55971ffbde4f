"""Patients: ``/api/patients``. Front desk and admins write; clinicians and therapists read
the patients they treat."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView
from sqlalchemy import select

from ..auth.api import current_actor
from ..auth.permissions import can_manage_patients, can_view_patient, require, visible_patients
from ..clinic.patients import create_patient, delete_patient, update_patient
from ..db import db, write_transaction
from ..models import Patient
from ..record_reads import note_read
from .access import action, get_or_404, visible_or_404
from .blueprint import Blueprint
from .pagination import PAGING, PageQuerySchema, SelectPage
from .responses import errors
from .schemas.common import updatable
from .schemas.patients import PatientSchema, PatientUpdateSchema

blp = Blueprint(
    "patients",
    __name__,
    url_prefix="/api/patients",
    description="Patients; clinicians and therapists see only the patients they treat",
)


def _visible_patient(patient_id: int) -> Patient:
    patient = get_or_404(Patient, patient_id, "patient")
    viewer = current_actor()
    visible_or_404(can_view_patient(db.session, viewer, patient.id), "patient", patient_id)
    note_read(viewer, patient.id)
    return patient


@blp.route("")
class Patients(MethodView):
    @blp.arguments(PageQuerySchema, location="query")
    @blp.response(200, PatientSchema(many=True))
    @blp.paginate(SelectPage, **PAGING)
    @errors(blp, 422)
    def get(self, _query: dict[str, Any]) -> Any:
        """Patients you may see, by last name. (No name search here: names stay out of URLs.)"""
        statement = select(Patient).order_by(Patient.last_name, Patient.id)
        return visible_patients(current_actor(), statement)

    @blp.arguments(PatientSchema)
    @blp.response(201, PatientSchema)
    @errors(blp, 400, 403, 422)
    def post(self, data: dict[str, Any]) -> Any:
        """Register a patient (front desk, admins)."""
        require(can_manage_patients(current_actor()), "register patients")
        with write_transaction(db.session):
            patient = create_patient(db.session, action("patient.create"), data)
        return patient


@blp.route("/<int:patient_id>")
class PatientById(MethodView):
    @blp.response(200, PatientSchema)
    @errors(blp, 403, 404)
    def get(self, patient_id: int) -> Any:
        """One patient, if you may see them."""
        return _visible_patient(patient_id)

    @blp.arguments(updatable(PatientUpdateSchema))
    @blp.response(200, PatientSchema)
    @errors(blp, 400, 403, 404, 422)
    def patch(self, data: dict[str, Any], patient_id: int) -> Any:
        """Change some fields (front desk, admins)."""
        require(can_manage_patients(current_actor()), "edit patients")
        with write_transaction(db.session):
            patient = get_or_404(Patient, patient_id, "patient")
            update_patient(db.session, action("patient.update"), patient, data)
        return patient

    @blp.response(204)
    @errors(blp, 403, 404, 409)
    def delete(self, patient_id: int) -> Response:
        """Remove a patient without appointments or courses; otherwise 409 (front desk, admins)."""
        require(can_manage_patients(current_actor()), "remove patients")
        with write_transaction(db.session):
            patient = get_or_404(Patient, patient_id, "patient")
            delete_patient(db.session, action("patient.delete"), patient)
        return Response(status=204)
