"""Patients: identity, contact, time zone, reminder and feed-privacy preferences, notes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..audit import Action
from ..errors import ValidationFailed
from ..models import Appointment, Course, Patient
from ..signals import record_changed
from .editing import apply, audit, delete, refuse_if_used, view
from .weekly import check_timezone

FIELDS = (
    "first_name",
    "last_name",
    "date_of_birth",
    "email",
    "phone",
    "timezone",
    "remind_by_email",
    "remind_by_sms",
    "reminder_overrides",
    "quiet_hours_start",
    "quiet_hours_end",
    "feed_privacy",
    "rems_enrolled_on",
    "rems_number",
    "notes",
)
#: Snapshots leave out free-text notes: the audit log records that they changed, not what.
AUDITED = tuple(f for f in FIELDS if f != "notes")


def snapshot(patient: Patient) -> dict[str, Any]:
    return view(patient, AUDITED, notes_length=len(patient.notes or ""))


def create_patient(session: Session, action: Action, data: Mapping[str, Any]) -> Patient:
    patient = Patient(
        notes="",
        reminder_overrides={},
        remind_by_email=True,
        remind_by_sms=False,
    )
    _apply(patient, data, action.now)
    session.add(patient)
    session.flush()
    audit(session, action, "patient", patient.id, None, snapshot(patient), "create")
    record_changed(session, action, "patient", None, snapshot(patient), patient_id=patient.id)
    return patient


def update_patient(
    session: Session, action: Action, patient: Patient, data: Mapping[str, Any]
) -> Patient:
    before = snapshot(patient)
    notes_before = patient.notes
    _apply(patient, data, action.now)
    session.flush()
    after = snapshot(patient)
    if after != before or patient.notes != notes_before:
        audit(session, action, "patient", patient.id, before, after, "update")
    record_changed(session, action, "patient", before, after, patient_id=patient.id)
    return patient


def delete_patient(session: Session, action: Action, patient: Patient) -> None:
    refuse_if_used(
        session,
        "patient",
        [
            ("appointments", select(Appointment.id).where(Appointment.patient_id == patient.id)),
            ("courses", select(Course.id).where(Course.patient_id == patient.id)),
        ],
    )
    before = snapshot(patient)
    audit(session, action, "patient", patient.id, before, None, "delete")
    delete(session, patient, "patient")
    record_changed(session, action, "patient", before, None, patient_id=patient.id)


def _apply(patient: Patient, data: Mapping[str, Any], now: dt.datetime) -> None:
    if "timezone" in data:
        check_timezone("timezone", data["timezone"])
    apply(patient, data, FIELDS)
    if patient.remind_by_sms and not patient.phone:
        raise ValidationFailed({"phone": "SMS reminders need a phone number"})
    if patient.remind_by_email and not patient.email:
        raise ValidationFailed({"email": "e-mail reminders need an e-mail address"})
    _check_rems(patient, now)


def _check_rems(patient: Patient, now: dt.datetime) -> None:
    """The REMS enrollment is a date and a number together, dated today or earlier."""
    if (patient.rems_enrolled_on is None) != (not patient.rems_number):
        missing = "rems_number" if patient.rems_enrolled_on is not None else "rems_enrolled_on"
        raise ValidationFailed(
            {missing: "the REMS enrollment needs both its date and its number (or neither)"}
        )
    if patient.rems_enrolled_on is not None:
        today = now.astimezone(ZoneInfo(patient.timezone)).date()
        if patient.rems_enrolled_on > today:
            raise ValidationFailed({"rems_enrolled_on": "must not be in the future"})
