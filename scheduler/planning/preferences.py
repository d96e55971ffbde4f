"""What the patient asked for: days, hours, clinician and therapist, telehealth."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Preferences:
    #: Local weekdays the patient can come (0 = Monday); None: any day the clinic is open.
    weekdays: frozenset[int] | None = None
    #: Appointments start at or after this local time and end by ``latest_time``.
    earliest_time: dt.time | None = None
    latest_time: dt.time | None = None
    #: Preferred staff: chosen whenever they are free at the chosen time.
    clinician_id: int | None = None
    therapist_id: int | None = None
    telehealth_ok: bool = True
    #: Plan the pairings a protocol marks optional (esketamine integration).
    include_optional: bool = False
    #: Sessions of an open-ended step booked now (default: the step's ``book_ahead``).
    sessions_ahead: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "weekdays": sorted(self.weekdays) if self.weekdays is not None else None,
            "earliest_time": self.earliest_time.strftime("%H:%M") if self.earliest_time else None,
            "latest_time": self.latest_time.strftime("%H:%M") if self.latest_time else None,
            "clinician_id": self.clinician_id,
            "therapist_id": self.therapist_id,
            "telehealth_ok": self.telehealth_ok,
            "include_optional": self.include_optional,
            "sessions_ahead": self.sessions_ahead,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Preferences:
        data = data or {}

        def clock(value: Any) -> dt.time | None:
            if value in (None, ""):
                return None
            if isinstance(value, dt.time):
                return value
            return dt.time.fromisoformat(str(value))

        weekdays = data.get("weekdays")
        return cls(
            weekdays=frozenset(int(d) for d in weekdays) if weekdays is not None else None,
            earliest_time=clock(data.get("earliest_time")),
            latest_time=clock(data.get("latest_time")),
            clinician_id=data.get("clinician_id"),
            therapist_id=data.get("therapist_id"),
            telehealth_ok=bool(data.get("telehealth_ok", True)),
            include_optional=bool(data.get("include_optional", False)),
            sessions_ahead=data.get("sessions_ahead"),
        )

    def allows_day(self, weekday: int) -> bool:
        return self.weekdays is None or weekday in self.weekdays
