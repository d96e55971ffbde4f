"""Why a plan failed, or what it could not honour, as data: a code a program can act on, the
session it concerns, a sentence for the front desk, and the change that would help.

The API returns these as they are; the pages show ``cause`` and offer ``change`` as a one-click
fix (its keys are the planning request's own: ``weekdays``, ``earliest_time``, ``latest_time``,
``therapist_id``, ``clinician_id``, ``earliest_start``, ``location_id``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..models import RoomKind, StaffPart
from .shape import Element

ROOM_WORDS = {
    RoomKind.INFUSION_CHAIR: "infusion chair",
    RoomKind.PROCEDURE_ROOM: "procedure room",
    RoomKind.MONITORED_TREATMENT_ROOM: "monitored treatment room",
    RoomKind.THERAPY_ROOM: "therapy room",
    RoomKind.TELEHEALTH: "telehealth line",
}
PART_WORDS = {
    StaffPart.ADMINISTERING_CLINICIAN: "clinician",
    StaffPart.EVALUATING_CLINICIAN: "clinician",
    StaffPart.THERAPIST: "therapist",
}
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class Reason:
    #: What kind of obstacle: ``closed_days``, ``hours_too_short``, ``latest_time``,
    #: ``earliest_time``, ``time_range``, ``no_room``, ``no_staff``, ``no_staff_on_days``,
    #: ``protocol_days``, ``protocol_window``, ``fully_booked``, ``budget`` (a failure);
    #: ``preferred_staff_elsewhere``, ``preferred_staff_busy``, ``closure`` (a notice).
    code: str
    #: The session it concerns ("dosing-4"), or "" for the whole course.
    step: str
    cause: str
    #: What would help, in words; None when nothing the front desk can change would.
    fix: str | None = None
    #: The same fix as a change to the request (keys as the planning request names them).
    change: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "step": self.step,
            "cause": self.cause,
            "fix": self.fix,
            "change": dict(self.change),
        }


def noun(element: Element) -> str:
    """How the front desk names the session: "infusion", "integration session"."""
    words = [w if w.isupper() else w.lower() for w in element.label.split()]
    if words[:1] == ["ketamine"]:
        words = words[1:]
    return " ".join(words) or element.step_key.replace("_", " ")


def numbered(element: Element) -> str:
    """ "Infusion 4 of 6", "Integration session 2", "Evaluation"."""
    name = noun(element)
    name = name[:1].upper() + name[1:]  # "KAP dosing session" keeps its acronym
    if element.of == 1:
        return name
    return (
        f"{name} {element.sequence} of {element.of}" if element.of else f"{name} {element.sequence}"
    )


def plural_days(weekdays: Iterable[int]) -> str:
    """{0, 4} -> "Mondays and Fridays"."""
    names = [WEEKDAYS[d] + "s" for d in sorted(set(weekdays))]
    return either(names, "and")


def either(words: list[str], joiner: str = "or") -> str:
    words = list(dict.fromkeys(words))
    if not words:
        return ""
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + f" {joiner} " + words[-1]


def clock(moment: dt.time | int) -> str:
    """A local time of day ("09:40") from a time or minutes after midnight."""
    if isinstance(moment, int):
        moment = dt.time((moment // 60) % 24, moment % 60)
    return f"{moment:%H:%M}"


def length(minutes: int) -> str:
    return f"{minutes}-minute"
