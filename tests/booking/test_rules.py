"""Booking rules enforced when writing, on both databases."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from scheduler.audit import Action
from scheduler.booking import (
    cancel_appointment,
    progress_appointment,
    reschedule_appointment,
)
from scheduler.db import write_transaction
from scheduler.errors import Conflict, ValidationFailed
from scheduler.models import (
    AppointmentKind,
    AppointmentStatus,
    AuditEntry,
    ResourceClaim,
    Role,
    RoomKind,
    StaffPart,
)

TOMORROW = dt.date(2026, 3, 3)  # a Tuesday


def test_books_inside_hours_and_records_audit(make, session):
    clinic = make.clinic()
    appt = make.appointment(clinic, start=make.local(clinic.location, TOMORROW, 9))
    assert appt.revision == 1
    assert appt.uid.endswith("@clinic-scheduler")
    claims = session.scalars(select(ResourceClaim).where(ResourceClaim.appointment_id == appt.id))
    by_resource = {c.resource: c for c in claims}
    assert set(by_resource) == {"patient", "room", "staff", "dose"}
    assert by_resource["room"].ends_at == appt.ends_at + dt.timedelta(minutes=15)
    # A dose holds half the clinic's 24 h dosing interval on each side.
    assert by_resource["dose"].starts_at == appt.starts_at - dt.timedelta(hours=12)
    assert by_resource["dose"].ends_at == appt.ends_at + dt.timedelta(hours=12)
    entry = session.scalars(select(AuditEntry)).one()
    assert entry.action == "appointment.create" and entry.after["room_id"] == clinic.chair.id


@pytest.mark.parametrize(
    "resource",
    ["room", "clinician", "patient"],
)
def test_overlap_on_any_resource_is_a_conflict(make, resource):
    clinic = make.clinic()
    first = make.appointment(clinic, start=make.local(clinic.location, TOMORROW, 9))
    other_chair = make.room(clinic.location, RoomKind.INFUSION_CHAIR)
    other_clinician = make.staff([Role.CLINICIAN], clinic.location)
    other_patient = make.patient()
    kwargs = {
        "room": other_chair,
        "staff": [(other_clinician, StaffPart.ADMINISTERING_CLINICIAN)],
        "patient": other_patient,
    }
    if resource == "room":
        kwargs["room"] = clinic.chair
    elif resource == "clinician":
        kwargs["staff"] = [(clinic.clinician, StaffPart.ADMINISTERING_CLINICIAN)]
    else:
        kwargs["patient"] = clinic.patient
    with pytest.raises(Conflict) as caught:
        make.appointment(clinic, start=make.local(clinic.location, TOMORROW, 10), **kwargs)
    assert caught.value.rule == "overlap"
    assert caught.value.conflicts[0]["appointment_id"] == first.id


def test_room_turnover_buffer_is_respected(make):
    clinic = make.clinic()
    make.appointment(
        clinic, start=make.local(clinic.location, TOMORROW, 9), minutes=100, buffer_minutes=15
    )  # chair busy until 10:55
    other = make.patient()
    other_clinician = make.staff([Role.CLINICIAN], clinic.location)
    staff = [(other_clinician, StaffPart.ADMINISTERING_CLINICIAN)]
    with pytest.raises(Conflict):
        make.appointment(
            clinic, start=make.local(clinic.location, TOMORROW, 10, 50), patient=other, staff=staff
        )
    ok = make.appointment(
        clinic, start=make.local(clinic.location, TOMORROW, 10, 55), patient=other, staff=staff
    )
    assert ok.id


@pytest.mark.parametrize(
    ("hour", "rule"),
    [(7, "opening_hours"), (17, "opening_hours")],
)
def test_outside_opening_hours(make, hour, rule):
    clinic = make.clinic()
    with pytest.raises(Conflict) as caught:
        make.appointment(clinic, start=make.local(clinic.location, TOMORROW, hour))
    assert caught.value.rule == rule


def test_outside_working_hours(make):
    clinic = make.clinic()
    late = make.staff([Role.CLINICIAN], clinic.location, hours=(dt.time(12), dt.time(18)))
    with pytest.raises(Conflict) as caught:
        make.appointment(
            clinic,
            start=make.local(clinic.location, TOMORROW, 9),
            staff=[(late, StaffPart.ADMINISTERING_CLINICIAN)],
        )
    assert caught.value.rule == "working_hours"
    assert "does not work" in caught.value.message


def test_closure_and_time_off(make):
    clinic = make.clinic()
    make.closure(clinic.location, TOMORROW, reason="Founders' day")
    with pytest.raises(Conflict) as caught:
        make.appointment(clinic, start=make.local(clinic.location, TOMORROW, 9))
    assert caught.value.rule == "closure" and "Founders' day" in caught.value.message
    day = TOMORROW + dt.timedelta(days=1)
    make.time_off(
        clinic.clinician, make.local(clinic.location, day, 0), make.local(clinic.location, day, 23)
    )
    with pytest.raises(Conflict) as caught:
        make.appointment(clinic, start=make.local(clinic.location, day, 9))
    assert caught.value.rule == "time_off"


def test_room_kind_and_staff_role_must_fit(make):
    clinic = make.clinic()
    with pytest.raises(Conflict) as caught:
        make.appointment(
            clinic, start=make.local(clinic.location, TOMORROW, 9), room=clinic.therapy_room
        )
    assert caught.value.rule == "room_kind"
    with pytest.raises(Conflict) as caught:
        make.appointment(
            clinic,
            start=make.local(clinic.location, TOMORROW, 9),
            staff=[(clinic.therapist, StaffPart.ADMINISTERING_CLINICIAN)],
        )
    assert caught.value.rule == "staff_role"
    with pytest.raises(Conflict) as caught:
        make.appointment(clinic, start=make.local(clinic.location, TOMORROW, 9), staff=[])
    assert "administering clinician" in caught.value.message


def test_past_start_is_rejected(make):
    clinic = make.clinic()
    with pytest.raises(ValidationFailed) as caught:
        make.appointment(clinic, start=make.now - dt.timedelta(days=1))
    assert "starts_at" in caught.value.fields


def test_reschedule_keeps_uid_raises_revision_and_moves_claims(make, session, now):
    clinic = make.clinic()
    appt = make.appointment(clinic, start=make.local(clinic.location, TOMORROW, 9))
    uid = appt.uid
    with write_transaction(session):
        reschedule_appointment(
            session,
            appt,
            Action("t", None, now),
            starts_at=make.local(clinic.location, TOMORROW, 13),
        )
    assert appt.uid == uid and appt.revision == 2
    room_claim = next(c for c in appt.claims if c.resource == "room")
    assert room_claim.starts_at == make.local(clinic.location, TOMORROW, 13)
    # The old slot is free again.
    make.appointment(clinic, start=make.local(clinic.location, TOMORROW, 9), patient=make.patient())


def test_cancel_frees_the_slot_and_needs_a_reason(make, session, now):
    clinic = make.clinic()
    appt = make.appointment(clinic, start=make.local(clinic.location, TOMORROW, 9))
    with pytest.raises(ValidationFailed), write_transaction(session):
        cancel_appointment(session, appt, Action("t", None, now), "  ")
    with write_transaction(session):
        cancel_appointment(session, appt, Action("t", None, now), "Patient unwell")
    assert appt.status == AppointmentStatus.CANCELLED and appt.revision == 2
    assert session.scalars(select(ResourceClaim)).all() == []
    make.appointment(clinic, start=make.local(clinic.location, TOMORROW, 9))
    with pytest.raises(Conflict), write_transaction(session):
        cancel_appointment(session, appt, Action("t", None, now), "again")


def test_progress_check_in_complete_no_show(make, session, now):
    clinic = make.clinic()
    today_later = make.local(clinic.location, now.astimezone(dt.UTC).date(), 10)
    appt = make.appointment(clinic, start=today_later)
    with pytest.raises(Conflict), write_transaction(session):
        progress_appointment(session, appt, Action("t", None, now), "complete")
    with write_transaction(session):
        progress_appointment(session, appt, Action("t", None, now), "check_in")
        progress_appointment(session, appt, Action("t", None, now), "complete")
    assert appt.status == AppointmentStatus.COMPLETED and appt.revision == 3
    later = make.appointment(
        clinic,
        kind=AppointmentKind.INTEGRATION,
        start=make.local(clinic.location, TOMORROW, 9),
        minutes=50,
        buffer_minutes=0,
    )
    with pytest.raises(Conflict) as caught, write_transaction(session):
        progress_appointment(session, later, Action("t", None, now), "no_show")
    assert caught.value.rule == "no_show_time"
    with pytest.raises(Conflict) as caught, write_transaction(session):
        progress_appointment(session, later, Action("t", None, now), "check_in")
    assert caught.value.rule == "check_in_day"
