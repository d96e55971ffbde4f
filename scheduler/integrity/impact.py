"""A change of clinic data shows its impact before it is saved.

Time off, a closure, opening or working hours, a room's kind or service, a staff member's roles
or active flag: each can break sessions already booked. The change is made in the caller's
transaction, then judged (``check.py``) over what it touched. Sessions it would newly break
(not flagged before) decide what happens, by the caller's choice:

- ``refuse`` (default): 409 listing them with the choices; the transaction rolls back.
- ``replan``: each is re-planned with its pair and spacing (``courses/replan.py``), in the same
  transaction; 409 naming the first that cannot be.
- ``flag``: the change is saved and each is flagged as needing attention at commit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, scoped_session

from ..audit import Action
from ..booking.rules import describe_span
from ..courses.replan import replan
from ..errors import Conflict, ValidationFailed
from ..models import Appointment
from .check import Violation, appointments_in, violations_of
from .flags import PENDING, Pending, rank

OnConflict = Literal["refuse", "replan", "flag"]
CHOICES: tuple[OnConflict, ...] = ("refuse", "replan", "flag")
T = TypeVar("T")


def on_conflict_choice(value: object) -> OnConflict:
    if value is None or value == "":
        return "refuse"
    if value not in CHOICES:
        raise ValidationFailed({"on_conflict": f"must be one of: {', '.join(CHOICES)}"})
    return value  # type: ignore[return-value]


def guarded_change(
    session: Session, action: Action, on_conflict: OnConflict, change: Callable[[], T]
) -> T:
    """Make ``change`` (a clinic-data function that announces what it changed), then judge
    the sessions it touched and refuse, re-plan or flag those it breaks."""
    result = change()
    session.flush()
    impact = broken_by_change(session, action)
    if not impact:
        return result
    if on_conflict == "refuse":
        raise impact_conflict(session, impact)
    if on_conflict == "replan":
        _replan_all(session, action, impact)
    return result


def broken_by_change(session: Session, action: Action) -> list[Violation]:
    """Violations within the pending scope on sessions not already flagged, worst first."""
    real = session() if isinstance(session, scoped_session) else session
    pending: Pending | None = real.info.get(PENDING)
    if pending is None:
        return []
    targets = appointments_in(session, pending.scope, action.now)
    unflagged = [a for a in targets if a.attention_rule is None]
    return sorted(violations_of(session, unflagged, action.now), key=rank)


def impact_conflict(session: Session, impact: list[Violation]) -> Conflict:
    sessions: dict[int, dict[str, object]] = {}
    for violation in impact:
        if violation.appointment_id in sessions:
            continue
        appointment = session.get(Appointment, violation.appointment_id)
        assert appointment is not None
        tz = ZoneInfo(appointment.location.timezone)
        sessions[appointment.id] = {
            "appointment_id": appointment.id,
            "course_id": appointment.course_id,
            "kind": appointment.kind.value,
            "starts_at": appointment.starts_at.isoformat(),
            "ends_at": appointment.ends_at.isoformat(),
            "when": describe_span(tz, appointment.starts_at, appointment.ends_at),
            "rule": violation.rule,
            "message": violation.message,
            "patient_id": appointment.patient_id,
        }
    patients = {s["patient_id"] for s in sessions.values()}
    count = len(sessions)
    return Conflict(
        f"This change would break {count} booked session{'s' if count != 1 else ''} of "
        f"{len(patients)} patient{'s' if len(patients) != 1 else ''}. Send it again with "
        'on_conflict "replan" to re-plan them (each with its pair), or "flag" to save it and '
        "list them as needing attention.",
        rule="impact",
        details={"sessions": list(sessions.values()), "choices": ["replan", "flag"]},
    )


def _replan_all(session: Session, action: Action, impact: list[Violation]) -> None:
    broken = {v.appointment_id for v in impact}
    done: set[int] = set()
    for violation in impact:
        if violation.appointment_id in done:
            continue
        appointment = session.get(Appointment, violation.appointment_id)
        assert appointment is not None
        try:
            moved = replan(session, action, appointment, broken)
        except Conflict as error:
            raise Conflict(
                f"Appointment {appointment.id} cannot be re-planned: {error.message}",
                rule="replan",
                details={"appointment_id": appointment.id, "failed_rule": error.rule},
            ) from None
        done.add(appointment.id)
        done.update(a.id for a in moved)
    session.flush()
    left = broken_by_change(session, action)
    if left:
        raise impact_conflict(session, left)
