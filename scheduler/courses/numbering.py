"""Where a course session stands in its step: "dosing 5 of 6", "5 of 6 (cancelled)".

One rule, used by the API, the pages and anything else that shows "n of m":

- ``n`` is the session's own number (its ``sequence``). It never changes when another session
  of the course is cancelled, and a cancelled session keeps it and says so.
- ``m`` is what the course delivers of that step: the protocol's count for the step. A missed
  dose is rebooked under its own number (the planner plans the missing sequence), so a
  cancellation does not change ``m`` and the course delivers that count again once rebooked.
  A course that holds a higher number than the protocol's count shows that number instead, so
  ``n`` never exceeds ``m``. An open-ended step (maintenance) has no ``m``.
- A paired session (an integration session) carries its session's number and count.
- A replacement for a missed session (``rebook.py``) is planned after the course's last
  session under a number of its own, but shows the number of the session it stands in for:
  dose 5 cancelled and rebooked shows "5 of 6 (cancelled)" and "5 of 6", and the course again
  delivers 6.

Feeds (``scheduler.feeds.privacy``) and the planner's proposals already count this way: the
protocol step's count, open-ended without one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import Appointment, AppointmentStatus, Course, ProtocolVersion
from ..protocols import ProtocolDefinition, definition_of

#: What a number says of a session that will not be delivered as booked.
MISSED = {AppointmentStatus.CANCELLED: "cancelled", AppointmentStatus.NO_SHOW: "no-show"}


@dataclass(frozen=True)
class SessionNumber:
    """A session's number within its course step: ``sequence`` of ``of``."""

    sequence: int
    #: What the course delivers of the step; None: open-ended.
    of: int | None
    status: AppointmentStatus

    @property
    def cancelled(self) -> bool:
        return self.status == AppointmentStatus.CANCELLED

    @property
    def text(self) -> str:
        text = f"{self.sequence} of {self.of}" if self.of is not None else str(self.sequence)
        missed = MISSED.get(self.status)
        return f"{text} ({missed})" if missed else text

    def __str__(self) -> str:
        return self.text


def step_counts(definition: ProtocolDefinition) -> dict[str, int | None]:
    """Each step key and each pairing key, with the count of the step (None: open-ended)."""
    counts: dict[str, int | None] = {}
    for step in definition.steps:
        counts[step.key] = step.count
        if step.pairing is not None:
            counts[step.pairing.key] = step.count
    return counts


def number_course(
    definition: ProtocolDefinition, appointments: Iterable[Appointment]
) -> dict[int, SessionNumber]:
    """Numbers of one course's sessions; ``appointments`` is every appointment of the course,
    cancelled ones too, so that the count sees every number the course holds."""
    rows = [a for a in appointments if a.step_key and a.sequence]
    counts = step_counts(definition)
    shown = {a.id: a.sequence for a in rows}
    highest: dict[str, int] = {}
    for a in rows:
        if a.replaces_id is None:
            highest[a.step_key] = max(highest.get(a.step_key, 0), a.sequence)  # type: ignore[index, arg-type]
    return {
        a.id: _number(
            a,
            counts.get(a.step_key),  # type: ignore[arg-type]
            highest.get(a.step_key, 0),  # type: ignore[arg-type]
            shown.get(a.replaces_id) if a.replaces_id else None,
        )
        for a in rows
    }


def session_numbers(
    session: Session, appointments: Sequence[Appointment]
) -> dict[int, SessionNumber]:
    """Numbers of any appointments, from any courses, in two queries whatever their number.
    Appointments outside a course, or without a step and sequence, have none."""
    rows = [a for a in appointments if a.course_id and a.step_key and a.sequence]
    course_ids = sorted({a.course_id for a in rows if a.course_id is not None})
    if not course_ids:
        return {}
    counts = {
        course_id: step_counts(definition_of(version))
        for course_id, version in session.execute(
            select(Course.id, ProtocolVersion)
            .join(ProtocolVersion, Course.protocol_version_id == ProtocolVersion.id)
            .where(Course.id.in_(course_ids))
        )
    }
    highest = {
        (course_id, step): top
        for course_id, step, top in session.execute(
            select(Appointment.course_id, Appointment.step_key, func.max(Appointment.sequence))
            .where(Appointment.course_id.in_(course_ids), Appointment.replaces_id.is_(None))
            .group_by(Appointment.course_id, Appointment.step_key)
        )
    }
    replaced_ids = {a.replaces_id for a in rows if a.replaces_id is not None}
    shown: dict[int, int | None] = {}
    if replaced_ids:
        shown = dict(
            session.execute(
                select(Appointment.id, Appointment.sequence).where(Appointment.id.in_(replaced_ids))
            ).all()
        )
    return {
        a.id: _number(
            a,
            counts.get(a.course_id, {}).get(a.step_key),  # type: ignore[arg-type]
            highest.get((a.course_id, a.step_key)) or 0,
            shown.get(a.replaces_id) if a.replaces_id else None,
        )
        for a in rows
    }


def _number(
    appointment: Appointment, count: int | None, highest: int, replaced: int | None = None
) -> SessionNumber:
    """``replaced``: the number of the missed session a replacement stands in for."""
    assert appointment.sequence is not None
    sequence = replaced or appointment.sequence
    return SessionNumber(
        sequence=sequence,
        of=None if count is None else max(count, highest, sequence),
        status=appointment.status,
    )
