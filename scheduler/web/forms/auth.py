"""The sign-in form."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField
from wtforms.validators import DataRequired, Length

from .fields import email_address, no_nul


class SignInForm(FlaskForm):  # type: ignore[misc]
    email = EmailField(
        "E-mail",
        validators=[DataRequired(), Length(max=254), email_address(), no_nul],
        render_kw={"autocomplete": "username", "autofocus": True},
    )
    password = PasswordField(
        "Password",
        validators=[DataRequired(), Length(max=200), no_nul],
        render_kw={"autocomplete": "current-password"},
    )
    next = HiddenField()


class ActionForm(FlaskForm):  # type: ignore[misc]
    """A button that changes something: only the CSRF token (sign-out, check-in, rotate)."""
