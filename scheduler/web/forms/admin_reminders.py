"""Editing a reminder template's parts (plain text, HTML, SMS)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import Length

from .fields import no_nul


class TemplateForm(FlaskForm):  # type: ignore[misc]
    subject = StringField("Subject", validators=[Length(max=300), no_nul])
    body_text = TextAreaField("Plain-text body", validators=[Length(max=20000), no_nul])
    body_html = TextAreaField("HTML body", validators=[Length(max=40000), no_nul])
    sms_text = TextAreaField("Text message", validators=[Length(max=1000), no_nul])

    def parts(self) -> dict[str, str | None]:
        return {
            "subject": self.subject.data,
            "body_text": self.body_text.data,
            "body_html": self.body_html.data,
            "sms_text": self.sms_text.data,
        }
