"""A course's pauses: how long its clock stood still, and the rules a resume had to relax.

While a course is paused its protocol's clock stops: phase weeks, the step's window and the
maximum gaps that span a pause count without the paused days (``Wanted.paused``). The record
of each pause is the audit entry of the resume that ended it (``course.resume``): the pause's
start, the resume's earliest start and the whole local days in between. Each maximum the
resume exceeded in real time is recorded in ``Course.exceptions`` with the pause as reason.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import AuditEntry, Course

RESUME = "course.resume"
PAUSE = "course.pause"
#: The maxima a resume may relax (``Course.exceptions`` rules).
RELAXABLE = frozenset({"max_gap", "window"})


@dataclass(frozen=True)
class Pause:
    start: dt.datetime
    #: The resume's earliest start: nothing resumed starts before it.
    until: dt.datetime
    #: Local calendar days the course's clock stood still.
    days: int

    @classmethod
    def between(cls, start: dt.datetime, until: dt.datetime, tz: ZoneInfo) -> Pause:
        days = (until.astimezone(tz).date() - start.astimezone(tz).date()).days
        return cls(start, until, max(days, 0))

    def reason(self, tz: ZoneInfo) -> str:
        first = self.start.astimezone(tz).date().isoformat()
        last = self.until.astimezone(tz).date().isoformat()
        return f"paused from {first} to {last}"

    def as_json(self) -> dict[str, Any]:
        return {"from": self.start.isoformat(), "until": self.until.isoformat(), "days": self.days}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Pause:
        return cls(
            dt.datetime.fromisoformat(data["from"]),
            dt.datetime.fromisoformat(data["until"]),
            int(data["days"]),
        )


def _entries(session: Session, course: Course, action: str) -> list[AuditEntry]:
    return list(
        session.scalars(
            select(AuditEntry)
            .where(
                AuditEntry.action == action,
                AuditEntry.entity_type == "course",
                AuditEntry.entity_id == course.id,
            )
            .order_by(AuditEntry.at, AuditEntry.id)
        )
    )


def course_pauses(session: Session, course: Course) -> list[Pause]:
    """The course's ended pauses, oldest first."""
    found = []
    for entry in _entries(session, course, RESUME):
        pause = (entry.after or {}).get("pause")
        if isinstance(pause, dict):
            found.append(Pause.from_json(pause))
    return found


def paused_since(session: Session, course: Course) -> dt.datetime:
    """When the (paused) course was paused."""
    entries = _entries(session, course, PAUSE)
    return entries[-1].at if entries else course.updated_at


def paused_days_before(pauses: list[Pause], moment: dt.datetime) -> int:
    """Days the course's clock stood still before ``moment``."""
    return sum(p.days for p in pauses if p.start <= moment)


def relaxed_rules(session: Session, course: Course) -> list[dict[str, Any]]:
    """The course's recorded exceptions that relax a maximum for one session (``max_gap`` or
    ``window``, with ``appointment_key``, ``reason``, ``detail``, ``by``, ``at``): those a
    resume recorded after a pause, and any other of the kind. (``session`` is unused since the
    record moved to ``Course.exceptions``; kept for the callers that pass it.)"""
    return [
        e
        for e in course.exceptions or []
        if e.get("rule") in RELAXABLE and isinstance(e.get("appointment_key"), str)
    ]
