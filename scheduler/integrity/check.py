"""Every rule of the stored schedule, checked from the data: the invariant the product keeps.

``find_violations`` lists each appointment still to come that breaks a rule: the booking rules
(room, roles, hours, closures, working hours, time off, overlaps), its course's protocol
(spacing, phases, windows and pairing, read from the protocol's definition through the same
constraints the planner obeys, never by running the search), the patient's dosing safety
across courses, and the protocol's preconditions. Past sessions are never judged: what
already happened stays as it was, and new clinic data only concerns what is still to come.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from ..models import Appointment
from .booking_rules import booking_violations, overlaps
from .data import COUNTED, HELD, OPEN, CourseData, Scope, Violation, appointments_in
from .dosing_rules import dosing_violations
from .protocol_rules import course_violations

__all__ = [
    "COUNTED",
    "HELD",
    "OPEN",
    "Scope",
    "Violation",
    "appointments_in",
    "find_violations",
    "violations_of",
]


def find_violations(session: Session, scope: Scope, now: dt.datetime) -> list[Violation]:
    """Every rule broken by an appointment still to come within ``scope``, in the order a
    front desk would fix them (booking rules first, then the protocol, then safety)."""
    return violations_of(session, appointments_in(session, scope, now), now)


def violations_of(
    session: Session, targets: list[Appointment], now: dt.datetime
) -> list[Violation]:
    """``find_violations`` for appointments already loaded (each still to come)."""
    if not targets:
        return []
    courses = CourseData.load(session, targets)
    found: list[Violation] = []
    found.extend(booking_violations(session, targets, courses))
    found.extend(overlaps(session, targets))
    found.extend(course_violations(session, courses, targets, now))
    found.extend(dosing_violations(session, targets, courses.courses))
    return found
