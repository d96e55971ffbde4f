"""Patient records and their reminder and calendar-privacy preferences."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any
from zoneinfo import available_timezones

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    Field,
    Form,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ...models import AppointmentKind, FeedPrivacy
from .fields import choices, email_address, no_nul

PRIVACY_CHOICES = [
    (FeedPrivacy.MINIMAL.value, "Minimal: “Clinic appointment” and the place"),
    (FeedPrivacy.STANDARD.value, "Standard: “Treatment session 3 of 6”, therapist's name"),
    (FeedPrivacy.DETAILED.value, "Detailed: adds preparation instructions (fasting, ride home)"),
]
#: Appointment kinds whose reminder times a patient may override.
OVERRIDABLE = [
    AppointmentKind.DOSING,
    AppointmentKind.INTEGRATION,
    AppointmentKind.EVALUATION,
    AppointmentKind.PREPARATION,
]


@lru_cache(maxsize=1)
def zone_choices() -> list[SelectChoice]:
    zones = sorted(z for z in available_timezones() if "/" in z and not z.startswith("Etc/"))
    return choices((z, z.replace("_", " ")) for z in zones)


def past_date(_form: Form, field: Field) -> None:
    if field.data and not dt.date(1900, 1, 1) <= field.data <= dt.date.today():
        raise ValidationError("Enter a date of birth in the past.")


def not_future(_form: Form, field: Field) -> None:
    if field.data and field.data > dt.date.today():
        raise ValidationError("Enter the enrollment date (today or earlier).")


def printable(_form: Form, field: Field) -> None:
    if field.data and not field.data.isprintable():
        raise ValidationError("Use letters, digits and punctuation only.")


class PatientForm(FlaskForm):  # type: ignore[misc]
    first_name = StringField("First name", validators=[DataRequired(), Length(max=80), no_nul])
    last_name = StringField("Last name", validators=[DataRequired(), Length(max=80), no_nul])
    date_of_birth = DateField("Date of birth", validators=[DataRequired(), past_date])
    email = EmailField("E-mail", validators=[Optional(), Length(max=254), email_address(), no_nul])
    phone = TelField("Mobile phone", validators=[Optional(), Length(max=40), no_nul])
    timezone = SelectField(
        "Time zone",
        choices=zone_choices,
        validators=[DataRequired()],
        description="Reminders and the patient's calendar use this zone.",
    )
    remind_by_email = BooleanField("Reminders by e-mail", default=True)
    remind_by_sms = BooleanField("Reminders by text message")
    rems_enrolled_on = DateField(
        "REMS enrollment date",
        validators=[Optional(), not_future],
        description="Esketamine (Spravato): required before the first session is booked.",
    )
    rems_number = StringField(
        "REMS enrollment number",
        validators=[Optional(), Length(max=40), no_nul, printable],
        description="Date and number together. Staff only: never in reminders or calendars.",
    )
    notes = TextAreaField(
        "Staff notes",
        validators=[Length(max=5000), no_nul],
        description="Seen by staff only: never in reminders or calendar feeds.",
    )

    def data_for_domain(self) -> dict[str, Any]:
        return {
            "first_name": self.first_name.data.strip(),
            "last_name": self.last_name.data.strip(),
            "date_of_birth": self.date_of_birth.data,
            "email": (self.email.data or "").strip().lower() or None,
            "phone": (self.phone.data or "").strip() or None,
            "timezone": self.timezone.data,
            "remind_by_email": bool(self.remind_by_email.data),
            "remind_by_sms": bool(self.remind_by_sms.data),
            "rems_enrolled_on": self.rems_enrolled_on.data,
            "rems_number": (self.rems_number.data or "").strip() or None,
            "notes": self.notes.data or "",
        }


def hours_list(_form: Form, field: Field) -> None:
    for part in (field.data or "").replace(";", ",").split(","):
        if part.strip():
            try:
                value = float(part)
            except ValueError:
                raise ValidationError("Hours before, separated by commas: 48, 2") from None
            if not 0 < value <= 24 * 14:
                raise ValidationError("Each must be between 0 and 336 hours before.")


def parse_hours(text: str) -> list[float]:
    values = [float(p) for p in text.replace(";", ",").split(",") if p.strip()]
    return sorted({v for v in values}, reverse=True)


class PreferencesForm(FlaskForm):  # type: ignore[misc]
    feed_privacy = SelectField(
        "Calendar privacy",
        choices=choices(PRIVACY_CHOICES),
        description="What the patient's subscribed calendar shows. No feed ever shows notes, "
        "doses or diagnoses.",
    )
    remind_by_email = BooleanField("E-mail reminders")
    remind_by_sms = BooleanField("Text-message reminders")
    quiet_hours_start = TimeField("Quiet from", validators=[DataRequired()])
    quiet_hours_end = TimeField("Quiet until", validators=[DataRequired()])
    dosing = StringField("Dosing", validators=[Length(max=60), hours_list])
    integration = StringField("Integration", validators=[Length(max=60), hours_list])
    evaluation = StringField("Evaluation", validators=[Length(max=60), hours_list])
    preparation = StringField("Preparation", validators=[Length(max=60), hours_list])

    def fill(self, patient: Any) -> None:
        self.feed_privacy.data = patient.feed_privacy.value
        self.remind_by_email.data = patient.remind_by_email
        self.remind_by_sms.data = patient.remind_by_sms
        self.quiet_hours_start.data = patient.quiet_hours_start
        self.quiet_hours_end.data = patient.quiet_hours_end
        overrides = patient.reminder_overrides or {}
        for kind in OVERRIDABLE:
            values = overrides.get(kind.value)
            getattr(self, kind.value).data = ", ".join(f"{v:g}" for v in values) if values else ""

    def data_for_domain(self) -> dict[str, Any]:
        overrides = {
            kind.value: parse_hours(getattr(self, kind.value).data or "")
            for kind in OVERRIDABLE
            if (getattr(self, kind.value).data or "").strip()
        }
        return {
            "feed_privacy": FeedPrivacy(self.feed_privacy.data),
            "remind_by_email": bool(self.remind_by_email.data),
            "remind_by_sms": bool(self.remind_by_sms.data),
            "quiet_hours_start": self.quiet_hours_start.data,
            "quiet_hours_end": self.quiet_hours_end.data,
            "reminder_overrides": overrides,
        }
