"""Password hashing (werkzeug's scrypt) and sign-in checks."""

from __future__ import annotations

import functools

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from ..models import StaffMember

MIN_PASSWORD_LENGTH = 8


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
