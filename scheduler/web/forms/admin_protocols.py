"""Editing a protocol as its JSON document."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from .fields import no_nul


class ProtocolForm(FlaskForm):  # type: ignore[misc]
    document = TextAreaField(
        "Protocol document (JSON)",
        validators=[DataRequired(), Length(max=100_000), no_nul],
        description="Steps, phases, spacing, pairing and instructions. Saving checks that the "
        "protocol can be planned and says why not.",
        render_kw={"class": "code", "spellcheck": "false"},
    )
