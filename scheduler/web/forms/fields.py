"""Field validators the forms share."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from sqlalchemy.orm import Session
from wtforms import Field, Form
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Regexp, ValidationError

from ...audit import Action
from ...db import db, write_transaction
from ...errors import Conflict, DomainError, ValidationFailed
from ...integrity.impact import guarded_change, on_conflict_choice

#: Loose on purpose: the address is checked by sending to it, not by a pattern.
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def email_address() -> Regexp:
    return Regexp(EMAIL, message="Enter an e-mail address like name@example.org.")


def no_nul(_form: Form, field: Field) -> None:
    """PostgreSQL refuses NUL characters in text; say so instead of failing the request."""
    if isinstance(field.data, str) and "\x00" in field.data:
        raise ValidationError("Contains a character that cannot be stored.")


def show_domain_errors(form: Form, fields: dict[str, list[str]], message: str = "") -> None:
    """Put a domain ``ValidationFailed``'s messages under the fields they name; the rest (and
    the message when no field matched) go above the form."""
    general: list[str] = []
    for name, messages in fields.items():
        field = getattr(form, name.removesuffix("_id"), None) or getattr(form, name, None)
        if isinstance(field, Field):
            field.errors = [*list(field.errors or []), *messages]
        else:
            general.extend(f"{name.replace('_', ' ')}: {m}" for m in messages)
    if not fields and message:
        general.append(message)
    form.form_errors = [*list(getattr(form, "form_errors", []) or []), *general]


def saved(form: Form, work: Callable[[Session], object], *, guard: Action | None = None) -> bool:
    """Run ``work`` as one write transaction; when the domain refuses, put its reasons on
    ``form`` and answer False, with nothing written.

    With ``guard`` (the change's action), ``work`` changes clinic data and first shows its
    impact: the admin's answer is the form's ``on_conflict`` field (refuse when empty), and a
    refusal listing the sessions it would break goes on ``form.impact`` for the page's panel.
    """
    form.impact = None
    try:
        with write_transaction(db.session):
            if guard is None:
                work(db.session)
            else:
                # The impact panel's answer; a form without the panel (a remove button) refuses.
                answer = getattr(form, "on_conflict", None)
                choice = on_conflict_choice(answer.data if answer is not None else None)
                guarded_change(db.session, guard, choice, lambda: work(db.session))
    except ValidationFailed as error:
        db.session.rollback()
        show_domain_errors(form, error.fields)
        return False
    except Conflict as error:
        db.session.rollback()
        if error.rule == "impact":
            form.impact = error.details
        else:
            show_domain_errors(form, {}, error.message)
        return False
    except DomainError as error:
        db.session.rollback()
        show_domain_errors(form, {}, error.message)
        return False
    return True


def choices(pairs: Iterable[tuple[object, str]]) -> list[SelectChoice]:
    """(value, label) pairs as WTForms select choices."""
    return [SelectChoice(value, label) for value, label in pairs]  # type: ignore[arg-type]
