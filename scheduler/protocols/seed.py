"""The four protocols a new clinic starts with (../shared/domain.md), as plain data.

Every figure is a protocol setting an admin can change by adding a version; the seed never
overwrites a protocol that already exists under its name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..audit import Action
from ..models import Protocol
from .versions import create_protocol, current_version, definition_of

EVALUATION: dict[str, Any] = {
    "key": "evaluation",
    "kind": "evaluation",
    "label": "Medical and psychiatric evaluation",
    "administration_minutes": 60,
    "monitoring_minutes": 0,
    "buffer_minutes": 0,
    "room_kinds": ["procedure_room", "therapy_room"],
    "staff": ["evaluating_clinician"],
    "phases": [{"label": "Evaluation", "count": 1}],
    "instructions": (
        "Bring a list of your medications and any recent blood-pressure readings. The "
        "evaluation checks for conditions that rule out ketamine (uncontrolled high blood "
        "pressure, psychosis, liver disease)."
    ),
    "reminder_hours": [24],
}

INFUSION_INSTRUCTIONS = (
    "No solid food for 6 hours before your infusion; clear liquids until 2 hours before. "
    "Arrange a driver to take you home: no driving, alcohol or big decisions for 24 hours."
)

INTEGRATION_INSTRUCTIONS = (
    "A therapy session to work through your last treatment. It can be held in person or by "
    "video; join the video link a few minutes early."
)


def _integration(min_after: str, max_after: str, optional: bool = False) -> dict[str, Any]:
    return {
        "key": "integration",
        "kind": "integration",
        "label": "Integration session",
        "anchor": "end",
        "min_after": min_after,
        "max_after": max_after,
        "minutes": 50,
        "staff": ["therapist"],
        "room_kinds": ["therapy_room", "telehealth"],
        "optional": optional,
        "instructions": INTEGRATION_INSTRUCTIONS,
        "reminder_hours": [24, 1],
    }


def _infusion(phases: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    step: dict[str, Any] = {
        "key": "dosing",
        "kind": "dosing",
        "label": "Ketamine infusion",
        "administration_minutes": 45,
        "monitoring_minutes": 55,
        "buffer_minutes": 15,
        "room_kinds": ["infusion_chair"],
        "staff": ["administering_clinician"],
        "phases": phases,
        "pairing": _integration("18h", "72h"),
        "instructions": INFUSION_INSTRUCTIONS,
        "reminder_hours": [48, 2],
    }
    step.update(extra)
    return step


IV_INDUCTION: dict[str, Any] = {
    "name": "IV ketamine induction series",
    "route": "iv",
    "description": (
        "Six infusions within 21 days (commonly Mon/Wed/Fri for two weeks), at least 48 h and "
        "at most 7 days apart, each followed 18-72 h later by an integration session."
    ),
    "preconditions": ["Medical and psychiatric evaluation completed"],
    "counts_as": ["induction"],
    "instructions": INFUSION_INSTRUCTIONS,
    "steps": [
        EVALUATION,
        _infusion(
            [{"label": "Induction", "count": 6, "min_gap": "48h", "max_gap": "7d"}],
            window="21d",
            after=[{"step": "evaluation", "min_gap": "1d"}],
        ),
    ],
}

IM_KAP: dict[str, Any] = {
    "name": "IM ketamine-assisted psychotherapy (KAP)",
    "route": "im",
    "description": (
        "Three preparation sessions, then six weekly intramuscular dosing sessions with a "
        "clinician and a therapist present, each followed by integration 1-7 days later."
    ),
    "preconditions": ["Medical and psychiatric evaluation completed"],
    "counts_as": ["induction"],
    "instructions": (
        "No food for 4 hours before a dosing session. Arrange a driver home: no driving, "
        "alcohol or big decisions for 24 hours."
    ),
    "steps": [
        EVALUATION,
        {
            "key": "preparation",
            "kind": "preparation",
            "label": "Preparation session",
            "administration_minutes": 50,
            "buffer_minutes": 0,
            "room_kinds": ["therapy_room", "telehealth"],
            "staff": ["therapist"],
            "phases": [{"label": "Preparation", "count": 3, "min_gap": "1d", "max_gap": "14d"}],
            "after": [{"step": "evaluation", "min_gap": "0m"}],
            "instructions": "Getting ready for the dosing sessions with your therapist.",
            "reminder_hours": [24, 1],
        },
        {
            "key": "dosing",
            "kind": "dosing",
            "label": "KAP dosing session",
            "administration_minutes": 30,
            "monitoring_minutes": 90,
            "buffer_minutes": 15,
            "room_kinds": ["procedure_room"],
            "staff": ["administering_clinician", "therapist"],
            "phases": [{"label": "Weekly", "count": 6, "min_gap": "5d", "max_gap": "10d"}],
            "after": [
                {"step": "evaluation", "min_gap": "1d"},
                {"step": "preparation", "min_gap": "1d"},
            ],
            "pairing": _integration("1d", "7d"),
            "instructions": (
                "No food for 4 hours before. Arrange a driver home: no driving, alcohol or big "
                "decisions for 24 hours."
            ),
            "reminder_hours": [48, 2],
        },
    ],
}

ESKETAMINE: dict[str, Any] = {
    "name": "Esketamine nasal spray (Spravato) for treatment-resistant depression",
    "route": "intranasal_esketamine",
    "description": (
        "Induction twice a week in weeks 1-4, weekly in weeks 5-8, then maintenance every 1-2 "
        "weeks from week 9, booked a few sessions at a time. Each session has at least 2 hours "
        "of monitoring in a certified setting with a prescriber on site (REMS)."
    ),
    "preconditions": [
        "Medical and psychiatric evaluation completed",
        "Patient enrolled in the SPRAVATO REMS",
    ],
    "counts_as": ["induction"],
    "requires": [{"rule": "rems_enrollment"}],
    "instructions": (
        "No food for 2 hours and no liquids for 30 minutes before a session. Use nasal "
        "steroids or decongestants at least 1 hour before. Arrange a ride: do not drive until "
        "the next day after a restful sleep."
    ),
    "steps": [
        EVALUATION,
        {
            "key": "dosing",
            "kind": "dosing",
            "label": "Esketamine session",
            "administration_minutes": 30,
            "monitoring_minutes": 120,
            "buffer_minutes": 15,
            "room_kinds": ["monitored_treatment_room"],
            "staff": ["administering_clinician"],
            "phases": [
                {
                    "label": "Induction: twice a week",
                    "count": 8,
                    "min_gap": "48h",
                    "max_gap": "7d",
                    "weeks_from": 1,
                    "weeks_to": 4,
                    "per_week": 2,
                },
                {
                    "label": "Weekly",
                    "count": 4,
                    "min_gap": "5d",
                    "max_gap": "10d",
                    "weeks_from": 5,
                    "weeks_to": 8,
                    "per_week": 1,
                },
                {
                    "label": "Maintenance: every 1-2 weeks",
                    "count": None,
                    "min_gap": "7d",
                    "max_gap": "14d",
                    "weeks_from": 9,
                },
            ],
            "book_ahead": 2,
            "after": [{"step": "evaluation", "min_gap": "1d"}],
            "pairing": _integration("0m", "72h", optional=True),
            "instructions": (
                "Blood pressure is taken before the dose and about 40 minutes after; you stay "
                "at least 2 hours. No food for 2 hours, no liquids for 30 minutes before."
            ),
            "reminder_hours": [48, 2],
            "follow_up": {
                "description": "REMS patient monitoring form",
                "due_within": "7d",
            },
        },
    ],
}

BOOSTER: dict[str, Any] = {
    "name": "Booster / maintenance infusion",
    "route": "iv",
    "description": (
        "One infusion with its integration session, repeated every 2-6 weeks as the clinician "
        "decides; booked one at a time or extended as a short series."
    ),
    "preconditions": ["Completed an induction series"],
    "counts_as": ["booster"],
    "requires": [{"rule": "completed_course", "of": "induction"}],
    "instructions": INFUSION_INSTRUCTIONS,
    "steps": [
        _infusion(
            [{"label": "Booster", "count": None, "min_gap": "2w", "max_gap": "6w"}],
            book_ahead=1,
        ),
    ],
}

SEED_PROTOCOLS: tuple[dict[str, Any], ...] = (IV_INDUCTION, IM_KAP, ESKETAMINE, BOOSTER)


@dataclass(frozen=True)
class Seeded:
    protocol: Protocol
    created: bool
    #: For a protocol already present: seed fields its current version lacks ("counts_as",
    #: "requires"), e.g. in a database seeded before preconditions were checked. Stored
    #: versions never change, so only an admin's new version adds them.
    lacks: tuple[str, ...] = ()


def seed_protocols(session: Session, action: Action) -> list[Seeded]:
    """Add each seed protocol that no protocol of the same name exists for. Never commits."""
    result: list[Seeded] = []
    for document in SEED_PROTOCOLS:
        existing = session.scalars(
            select(Protocol).where(Protocol.name == document["name"])
        ).first()
        if existing is not None:
            result.append(Seeded(existing, False, _lacks(session, existing, document)))
            continue
        result.append(Seeded(create_protocol(session, action, document), True))
    return result


def _lacks(session: Session, protocol: Protocol, document: dict[str, Any]) -> tuple[str, ...]:
    stored = definition_of(current_version(session, protocol))
    return tuple(
        field
        for field in ("counts_as", "requires")
        if document.get(field) and not getattr(stored, field)
    )
