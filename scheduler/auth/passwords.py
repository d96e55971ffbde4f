"""Password hashing (werkzeug's scrypt) and sign-in checks."""

from __future__ import annotations

import functools

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

from ..models import StaffMember

#: NIST SP 800-63B rev. 4 for a password that is the only factor: at least 15 characters, no
#: composition rules, and not a known common or easily guessed one.
MIN_PASSWORD_LENGTH = 15
MAX_PASSWORD_LENGTH = 256
#: zxcvbn's guessability score (0-4) a new password must reach: below 3 it is found in its
#: lists of common and breached passwords, or is a repeat, a sequence or a date.
MIN_STRENGTH = 3


def password_problem(password: str, *, email: str = "", name: str = "") -> str | None:
    """Why ``password`` cannot be a staff member's new password, in words; None when it can."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return (
            f"use at least {MIN_PASSWORD_LENGTH} characters; a few unrelated words together are "
            "long enough and easy to remember"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"use at most {MAX_PASSWORD_LENGTH} characters"
    personal = [email.partition("@")[0], *name.split()]
    lowered = password.lower()
    if any(len(word) >= 4 and word.lower() in lowered for word in personal):
        return "do not use your name or e-mail address in it"
    # zxcvbn looks at 72 characters at most; a guessable start makes the whole guessable.
    if zxcvbn(password[:72], user_inputs=[w for w in personal if w])["score"] < MIN_STRENGTH:
        return "this password is common or easy to guess (a known password, a repeat or a sequence)"
    return None


@functools.cache
def _dummy_hash() -> str:
    """Compared against when the e-mail is unknown, so a miss costs as long as a wrong password
    and response times do not reveal which staff e-mails exist. Hashed on the first miss, not at
    import: scrypt is deliberately slow."""
    return generate_password_hash("not-a-real-password-0000")


def set_password(member: StaffMember, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    member.password_hash = generate_password_hash(password)


def authenticate(session: Session, email: str, password: str) -> StaffMember | None:
    member = session.scalars(
        select(StaffMember).where(func.lower(StaffMember.email) == email.strip().lower())
    ).first()
    if member is None or not member.password_hash:
        check_password_hash(_dummy_hash(), password)
        return None
    if not check_password_hash(member.password_hash, password) or not member.active:
        return None
    return member
