"""What each role may see and do. One place, used by the API, the pages and the CLI.

- admin: everything.
- front_desk: books and edits appointments and courses for any patient; manages patients.
- clinician, therapist: read their own schedule, and the appointments of patients they treat
  (patients with whom they have at least one appointment).
"""

from __future__ import annotations

from sqlalchemy import Select, exists, or_, select
from sqlalchemy.orm import Session

from ..errors import Forbidden
from ..models import Appointment, AppointmentStaff, Course, Patient, Role, StaffMember

BOOKING_ROLES = frozenset({Role.ADMIN, Role.FRONT_DESK})
CARE_ROLES = frozenset({Role.CLINICIAN, Role.THERAPIST})


def is_admin(actor: StaffMember) -> bool:
    return Role.ADMIN in actor.roles


def can_book(actor: StaffMember) -> bool:
    return bool(actor.roles & BOOKING_ROLES)


def sees_everything(actor: StaffMember) -> bool:
    return bool(actor.roles & BOOKING_ROLES)


def require(allowed: bool, what: str) -> None:
    if not allowed:
        raise Forbidden(f"Your role does not allow you to {what}")


def require_roles(actor: StaffMember, roles: frozenset[Role] | set[Role], what: str) -> None:
    require(bool(actor.roles & set(roles)), what)


def treated_patient_ids(actor: StaffMember) -> Select[tuple[int]]:
    """Patients this staff member has (or had) an appointment with."""
    return (
        select(Appointment.patient_id)
        .join(AppointmentStaff, AppointmentStaff.appointment_id == Appointment.id)
        .where(AppointmentStaff.staff_id == actor.id)
        .distinct()
    )


def visible_appointments(actor: StaffMember, query: Select) -> Select:  # type: ignore[type-arg]
    """Narrow a query over ``Appointment`` to what ``actor`` may read."""
    if sees_everything(actor):
        return query
    if not actor.roles & CARE_ROLES:
        return query.where(False)
    own = exists().where(
        AppointmentStaff.appointment_id == Appointment.id, AppointmentStaff.staff_id == actor.id
    )
    return query.where(or_(own, Appointment.patient_id.in_(treated_patient_ids(actor))))


def can_view_patient(session: Session, actor: StaffMember, patient_id: int) -> bool:
    if sees_everything(actor):
        return True
    if not actor.roles & CARE_ROLES:
        return False
    found = session.scalar(
        select(Appointment.id)
        .join(AppointmentStaff, AppointmentStaff.appointment_id == Appointment.id)
        .where(Appointment.patient_id == patient_id, AppointmentStaff.staff_id == actor.id)
        .limit(1)
    )
    return found is not None


def can_view_appointment(session: Session, actor: StaffMember, appointment: Appointment) -> bool:
    if sees_everything(actor) or actor.id in appointment.staff_ids:
        return True
    return can_view_patient(session, actor, appointment.patient_id)


def can_view_staff_schedule(actor: StaffMember, staff_id: int) -> bool:
    return sees_everything(actor) or actor.id == staff_id


def can_manage_clinic(actor: StaffMember) -> bool:
    """Locations, rooms and staff records (with hours, time off, roles): admins only."""
    return is_admin(actor)


def can_manage_patients(actor: StaffMember) -> bool:
    return bool(actor.roles & BOOKING_ROLES)


def visible_patients(actor: StaffMember, query: Select) -> Select:  # type: ignore[type-arg]
    """Narrow a query over ``Patient`` to the patients ``actor`` may read."""
    if sees_everything(actor):
        return query
    if not actor.roles & CARE_ROLES:
        return query.where(False)
    return query.where(Patient.id.in_(treated_patient_ids(actor)))


def has_schedule(actor: StaffMember) -> bool:
    """Clinicians and therapists have appointments of their own: a day and a week to look at."""
    return bool(actor.roles & CARE_ROLES)


def can_manage_feed(actor: StaffMember, owner_kind: str, owner_id: int) -> bool:
    """Who may issue, rotate or revoke a calendar-feed link: patients' links the front desk and
    admins; staff their own (admins anyone's); room and location feeds admins only."""
    if is_admin(actor):
        return True
    if owner_kind == "patient":
        return can_book(actor)
    if owner_kind == "staff":
        return actor.id == owner_id
    return False


def can_edit_protocols(actor: StaffMember) -> bool:
    """Protocols are clinical settings: admins create them and add versions; all staff read."""
    return is_admin(actor)


def can_manage_courses(actor: StaffMember) -> bool:
    """Planning, booking, moving, pausing, cancelling and extending courses."""
    return bool(actor.roles & BOOKING_ROLES)


def can_view_course(session: Session, actor: StaffMember, patient_id: int) -> bool:
    """A course is seen by whoever may see its patient."""
    return can_view_patient(session, actor, patient_id)


def visible_courses(actor: StaffMember, query: Select) -> Select:  # type: ignore[type-arg]
    """Narrow a query over ``Course`` to the courses ``actor`` may read."""
    if sees_everything(actor):
        return query
    if not actor.roles & CARE_ROLES:
        return query.where(False)
    return query.where(Course.patient_id.in_(treated_patient_ids(actor)))
