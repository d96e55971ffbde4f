"""Admin forms: locations with opening hours and closures, rooms, staff with roles, working
hours and time off."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    Field,
    FieldList,
    Form,
    FormField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TimeField,
    URLField,
)
from wtforms.validators import DataRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ...models import Role, RoomKind
from .fields import choices, email_address, no_nul
from .patients import zone_choices

ON_CONFLICT_CHOICES = [
    ("", "Show me what it breaks"),
    ("replan", "Save and re-plan them"),
    ("flag", "Save and flag them for the front desk"),
]


class ImpactChoice:
    """A form whose change of clinic data may break booked sessions: the impact panel's
    buttons send ``on_conflict`` with the same form (empty: refuse and list them)."""

    on_conflict = SelectField(choices=choices(ON_CONFLICT_CHOICES), default="")


WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class MultiCheckboxField(SelectMultipleField):  # type: ignore[misc]
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class LocationForm(ImpactChoice, FlaskForm):  # type: ignore[misc]
    name = StringField("Name", validators=[DataRequired(), Length(max=120), no_nul])
    timezone = SelectField("Time zone", choices=zone_choices, validators=[DataRequired()])
    address = StringField("Address", validators=[Length(max=300), no_nul])
    phone = StringField("Phone", validators=[Length(max=40), no_nul])
    active = BooleanField("Open for bookings", default=True)

    def data_for_domain(self) -> dict[str, Any]:
        return {
            "name": self.name.data.strip(),
            "timezone": self.timezone.data,
            "address": (self.address.data or "").strip(),
            "phone": (self.phone.data or "").strip(),
            "active": bool(self.active.data),
        }


def ends_after_start(form: Form, field: Field) -> None:
    start = form.starts.data
    if (start is None) != (field.data is None):
        raise ValidationError("Give both times, or neither for a day off.")
    if start is not None and field.data is not None and field.data <= start:
        raise ValidationError("Must be after the start.")


class DayHours(Form):  # type: ignore[misc]
    """One weekday's interval; both empty means closed (or not working)."""

    starts = TimeField("From", validators=[Optional()])
    ends = TimeField("Until", validators=[Optional(), ends_after_start])


class WeekHoursForm(ImpactChoice, FlaskForm):  # type: ignore[misc]
    days = FieldList(FormField(DayHours), min_entries=7, max_entries=7)

    def fill(self, intervals: dict[int, tuple[dt.time, dt.time]]) -> None:
        for weekday, entry in enumerate(self.days):
            starts, ends = intervals.get(weekday, (None, None))
            entry.form.starts.data = starts
            entry.form.ends.data = ends

    def intervals(self) -> list[tuple[int, dt.time, dt.time]]:
        return [
            (weekday, entry.form.starts.data, entry.form.ends.data)
            for weekday, entry in enumerate(self.days)
            if entry.form.starts.data is not None and entry.form.ends.data is not None
        ]


class StaffHoursForm(WeekHoursForm):
    location_id = SelectField("Location", coerce=int, validators=[DataRequired()])


class ClosureForm(ImpactChoice, FlaskForm):  # type: ignore[misc]
    starts_on = DateField("First day", validators=[DataRequired()])
    ends_on = DateField("Last day", validators=[DataRequired()])
    reason = StringField("Reason", validators=[Length(max=200), no_nul])

    def validate_ends_on(self, field: Field) -> None:
        if self.starts_on.data and field.data and field.data < self.starts_on.data:
            raise ValidationError("Must be on or after the first day.")


ROOM_KIND_CHOICES = [(k.value, k.value.replace("_", " ").capitalize()) for k in RoomKind]


class RoomForm(ImpactChoice, FlaskForm):  # type: ignore[misc]
    name = StringField("Name", validators=[DataRequired(), Length(max=120), no_nul])
    kind = SelectField("Kind", choices=choices(ROOM_KIND_CHOICES), validators=[DataRequired()])
    video_url = URLField(
        "Video link",
        validators=[Optional(), Length(max=500), no_nul],
        description="Telehealth lines only.",
    )
    active = BooleanField("In service", default=True)

    def data_for_domain(self, location_id: int) -> dict[str, Any]:
        return {
            "name": self.name.data.strip(),
            "kind": RoomKind(self.kind.data),
            "video_url": (self.video_url.data or "").strip() or None,
            "active": bool(self.active.data),
            "location_id": location_id,
        }


ROLE_CHOICES = [(r.value, r.value.replace("_", " ").capitalize()) for r in Role]


class StaffForm(ImpactChoice, FlaskForm):  # type: ignore[misc]
    name = StringField("Name", validators=[DataRequired(), Length(max=120), no_nul])
    email = EmailField(
        "E-mail (sign-in)", validators=[DataRequired(), Length(max=254), email_address(), no_nul]
    )
    roles = MultiCheckboxField("Roles", choices=choices(ROLE_CHOICES))
    active = BooleanField("Active (may sign in and be booked)", default=True)
    feed_full_names = BooleanField("Calendar feed shows patients' full names")
    password = PasswordField(
        "New password",
        validators=[Optional(), Length(min=15, max=256)],
        description="At least 15 characters; a few unrelated words together are easy to "
        "remember. Leave empty to keep the current one.",
        render_kw={"autocomplete": "new-password"},
    )

    def data_for_domain(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name.data.strip(),
            "email": self.email.data.strip().lower(),
            "roles": [Role(r) for r in self.roles.data or []],
            "active": bool(self.active.data),
            "feed_full_names": bool(self.feed_full_names.data),
        }
        if self.password.data:
            data["password"] = self.password.data
        return data


class TimeOffForm(ImpactChoice, FlaskForm):  # type: ignore[misc]
    starts_on = DateField("From (first day)", validators=[DataRequired()])
    ends_on = DateField("Until (last day)", validators=[DataRequired()])
    reason = StringField("Reason", validators=[Length(max=200), no_nul])

    def validate_ends_on(self, field: Field) -> None:
        if self.starts_on.data and field.data and field.data < self.starts_on.data:
            raise ValidationError("Must be on or after the first day.")
