"""Forms that change one appointment: its status, a cancellation, a move."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, SelectField, TextAreaField, TimeField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ...booking.appointments import TRANSITIONS
from .fields import choices, no_nul

STEP_CHOICES = [(name, name.replace("_", " ")) for name in TRANSITIONS]


class StatusForm(FlaskForm):  # type: ignore[misc]
    step = SelectField("Action", choices=choices(STEP_CHOICES), validators=[InputRequired()])
    revision = IntegerField(validators=[Optional(), NumberRange(min=1, max=2**31 - 1)])


class CancelForm(FlaskForm):  # type: ignore[misc]
    reason = TextAreaField(
        "Reason",
        validators=[DataRequired(message="Say why, for the record."), Length(max=300), no_nul],
        description="Kept in the appointment's history; the patient is told the time is freed.",
        render_kw={"rows": 3},
    )
    # No default: a dose's integration session stays or goes only by an explicit choice.
    pair = SelectField(
        "Its integration session",
        choices=choices([("", "Choose…"), ("keep", "Keep it"), ("cancel", "Cancel it too")]),
        default="",
        render_kw={"required": True},
    )
    revision = HiddenField()


class MoveForm(FlaskForm):  # type: ignore[misc]
    day = DateField("New day", validators=[InputRequired()])
    time = TimeField("New start time", validators=[InputRequired()])
    room_id = SelectField("Room", coerce=int, validators=[Optional()])
    revision = HiddenField()
