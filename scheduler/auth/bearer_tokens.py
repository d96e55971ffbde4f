"""API bearer tokens: random, stored as SHA-256, expiring, revocable."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import ApiToken, StaffMember

TOKEN_BYTES = 32


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(
    session: Session, member: StaffMember, now: dt.datetime, ttl: dt.timedelta
) -> tuple[str, ApiToken]:
    """Return the plain token (shown once) and its stored row."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    row = ApiToken(
        staff_id=member.id, token_hash=digest(token), created_at=now, expires_at=now + ttl
    )
    session.add(row)
    return token, row


def resolve_token(session: Session, token: str, now: dt.datetime) -> StaffMember | None:
    row = session.scalars(select(ApiToken).where(ApiToken.token_hash == digest(token))).first()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    member = session.get(StaffMember, row.staff_id)
    if member is None or not member.active:
        return None
    return member


def revoke_all(session: Session, staff_id: int, now: dt.datetime) -> int:
    """Revoke every live token of a staff member (password, role or active changed)."""
    rows = session.scalars(
        select(ApiToken).where(ApiToken.staff_id == staff_id, ApiToken.revoked_at.is_(None))
    ).all()
    for row in rows:
        row.revoked_at = now
    return len(rows)


def revoke_token(session: Session, token: str, now: dt.datetime) -> bool:
    row = session.scalars(select(ApiToken).where(ApiToken.token_hash == digest(token))).first()
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = now
    return True
