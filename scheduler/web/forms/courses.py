"""Starting a course: protocol, location, earliest day and the patient's preferences; and the
hidden fields a proposal page carries between requests.

The proposal travels between the pages as JSON in a hidden field (like the API's body), so the
confirm button books exactly what was shown; booking checks every rule again.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    Field,
    IntegerField,
    SelectField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from ...courses import ProposedAppointment
from ...courses.proposals import Choice, CourseRequest, Proposal, Slot
from ...errors import ValidationFailed
from ...models import StaffPart
from ...planning import Preferences
from .admin import MultiCheckboxField
from .fields import choices

WEEKDAY_CHOICES = [
    ("0", "Mon"),
    ("1", "Tue"),
    ("2", "Wed"),
    ("3", "Thu"),
    ("4", "Fri"),
    ("5", "Sat"),
    ("6", "Sun"),
]


class CourseForm(FlaskForm):  # type: ignore[misc]
    protocol_id = SelectField("Protocol", coerce=int, validators=[DataRequired()])
    location_id = SelectField("Location", coerce=int, validators=[DataRequired()])
    earliest = DateField("Earliest day", validators=[DataRequired()])
    weekdays = MultiCheckboxField(
        "Days the patient can come",
        choices=choices(WEEKDAY_CHOICES),
        description="None ticked: any day the clinic is open.",
    )
    earliest_time = TimeField("Not before", validators=[Optional()])
    latest_time = TimeField("Finished by", validators=[Optional()])
    clinician_id = SelectField("Preferred clinician", coerce=int, validators=[Optional()])
    therapist_id = SelectField("Preferred therapist", coerce=int, validators=[Optional()])
    telehealth_ok = BooleanField("Integration sessions by video are fine", default=True)
    include_optional = BooleanField("Also plan optional sessions (e.g. optional integration)")
    sessions_ahead = IntegerField(
        "Maintenance sessions to book now",
        validators=[Optional(), NumberRange(min=1, max=26)],
        description="Open-ended protocols only; empty: the protocol's default.",
    )

    def validate_latest_time(self, field: Field) -> None:
        if self.earliest_time.data and field.data and field.data <= self.earliest_time.data:
            raise ValidationError("Must be after “not before”.")

    def validate_earliest(self, field: Field) -> None:
        if field.data and not dt.date(2000, 1, 1) <= field.data <= dt.date(2200, 1, 1):
            raise ValidationError("Enter a date in the coming months.")

    def preferences(self) -> Preferences:
        days = self.weekdays.data or []
        return Preferences(
            weekdays=frozenset(int(d) for d in days) if days else None,
            earliest_time=self.earliest_time.data,
            latest_time=self.latest_time.data,
            clinician_id=self.clinician_id.data or None,
            therapist_id=self.therapist_id.data or None,
            telehealth_ok=bool(self.telehealth_ok.data),
            include_optional=bool(self.include_optional.data),
            sessions_ahead=self.sessions_ahead.data or None,
        )

    def fill(self, preferences: Preferences) -> None:
        self.weekdays.data = [str(d) for d in sorted(preferences.weekdays or [])]
        self.earliest_time.data = preferences.earliest_time
        self.latest_time.data = preferences.latest_time
        self.clinician_id.data = preferences.clinician_id or 0
        self.therapist_id.data = preferences.therapist_id or 0
        self.telehealth_ok.data = preferences.telehealth_ok
        self.include_optional.data = preferences.include_optional
        self.sessions_ahead.data = preferences.sessions_ahead

    def request(self) -> dict[str, Any]:
        """What the planner is asked, kept in the proposal page to plan again or book."""
        return {
            "protocol_id": self.protocol_id.data,
            "location_id": self.location_id.data,
            "earliest": self.earliest.data.isoformat(),
            "preferences": self.preferences().to_json(),
        }


class CancelCourseForm(FlaskForm):  # type: ignore[misc]
    reason = TextAreaField(
        "Reason",
        validators=[DataRequired(message="Say why, for the record."), Length(max=300)],
        render_kw={"rows": 2},
    )


class RebookForm(FlaskForm):  # type: ignore[misc]
    """A replacement for a cancelled or missed dose; the reason only when the protocol's
    window must be extended for it (a clinical decision, recorded)."""

    appointment_id = IntegerField(validators=[DataRequired(), NumberRange(min=1)])
    extend_window_reason = TextAreaField(
        "Extend the window, because",
        validators=[Optional(), Length(max=300)],
        render_kw={"rows": 2},
    )


def course_request_of(patient_id: int, data: dict[str, Any]) -> CourseRequest:
    """The planning request a proposal page carried (``CourseForm.request``)."""
    try:
        return CourseRequest(
            patient_id=patient_id,
            location_id=int(data["location_id"]),
            protocol_id=int(data["protocol_id"]),
            preferences=Preferences.from_json(data.get("preferences") or {}),
            earliest_day=dt.date.fromisoformat(str(data["earliest"])),
        )
    except (KeyError, TypeError, ValueError):
        raise ValidationFailed({"request": "the proposal was incomplete; plan again"}) from None


def slot_json(slot: Slot) -> dict[str, Any]:
    return {
        "starts_at": slot.starts_at.isoformat(),
        "ends_at": slot.ends_at.isoformat(),
        "room_id": slot.room_id,
        "staff": [[staff_id, part.value] for staff_id, part in slot.staff],
    }


def proposal_json(proposal: Proposal) -> str:
    """The bookable part of the proposal: each session's key and slot."""
    return json.dumps(
        {s.key: slot_json(s.slot) for s in proposal.sessions if not s.fixed}, sort_keys=True
    )


def _aware(text: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError("naive time in a proposal")
    return moment.astimezone(dt.UTC)


def _staff(data: Any) -> tuple[tuple[int, StaffPart], ...]:
    return tuple((int(s), StaffPart(p)) for s, p in data)


def parse_proposal(text: str) -> list[ProposedAppointment]:
    """The hidden field back; anything malformed is an empty proposal (planned afresh)."""
    try:
        data = dict(json.loads(text or "{}"))
        return [
            ProposedAppointment(
                key=str(key),
                starts_at=_aware(value["starts_at"]),
                room_id=int(value["room_id"]),
                staff=_staff(value["staff"]),
            )
            for key, value in data.items()
        ]
    except (ValueError, TypeError, KeyError, AttributeError):
        return []


def parse_choice(text: str) -> Choice:
    """An offered time the page sent back (``slot_json``)."""
    try:
        data = json.loads(text)
        return Choice(
            starts_at=_aware(data["starts_at"]),
            room_id=int(data["room_id"]),
            staff=_staff(data["staff"]),
        )
    except (ValueError, TypeError, KeyError):
        raise ValidationFailed({"slot": "choose one of the offered times"}) from None
