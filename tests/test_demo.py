"""The demo clinic loads through the domain functions, meets its brief, and loads only once."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from scheduler.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    Course,
    Location,
    Patient,
    ResourceClaim,
    Role,
    Room,
    StaffMember,
)


@pytest.mark.slow
def test_demo_loads_once_with_a_realistic_clinic(runner, session):
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert "Loaded the demo clinic" in first.output
    assert "admin@demo.clinic" in first.output and "password" in first.output

    zones = set(session.scalars(select(Location.timezone)))
    assert zones == {"America/New_York", "Europe/Berlin"}
    assert session.scalar(select(func.count(Room.id))) >= 8
    staff = session.scalars(select(StaffMember)).all()
    assert len(staff) >= 10
    assert set().union(*(m.roles for m in staff)) == set(Role)
    assert all(m.working_hours for m in staff if m.roles & {Role.CLINICIAN, Role.THERAPIST})
    assert session.scalar(select(func.count(Patient.id))) == 40
    kinds = set(session.scalars(select(Appointment.kind).distinct()))
    assert {AppointmentKind.DOSING, AppointmentKind.INTEGRATION} <= kinds
    appointments = session.scalar(select(func.count(Appointment.id)))
    assert appointments >= 100
    # Booked as courses by the planner: every session belongs to one, every integration
    # session is paired with its dose, and the seeded protocols are all in use.
    assert session.scalar(select(func.count(Course.id))) >= 15
    assert not session.scalar(
        select(func.count(Appointment.id)).where(Appointment.course_id.is_(None))
    )
    unpaired = select(func.count(Appointment.id)).where(
        Appointment.kind == AppointmentKind.INTEGRATION, Appointment.paired_with_id.is_(None)
    )
    assert not session.scalar(unpaired)
    statuses = set(session.scalars(select(Appointment.status).distinct()))
    assert {AppointmentStatus.COMPLETED, AppointmentStatus.SCHEDULED} <= statuses
    # Every live appointment holds its claims, so the database guards the demo too.
    assert session.scalar(select(func.count(ResourceClaim.id))) >= 3 * appointments

    again = runner.invoke(args=["demo", "--if-empty"])
    assert again.exit_code == 0 and "already loaded" in again.output
    assert session.scalar(select(func.count(Appointment.id))) == appointments
