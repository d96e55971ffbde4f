"""Subscribe-URL tokens: 256 random bits, stored only as SHA-256, rotated or revoked at once.

The token is the subscriber's only credential and carries no id or name. Because only its hash
is kept, a link can be shown once, when it is issued; a lost link is replaced by rotating,
which also ends the old URL (it answers 404 from the next request on).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Dialect, and_, bindparam, select
from sqlalchemy.orm import Session, aliased

from ..audit import Action, record
from ..errors import NotFound
from ..models import FeedOwnerKind, FeedToken, FeedVersion, Location, Patient, Room, StaffMember
from .invalidation import CLINIC
from .render import FeedState

TOKEN_BYTES = 32
#: What ``secrets.token_urlsafe(32)`` produces; anything else is a miss without a lookup.
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")

OWNER_MODELS = {
    FeedOwnerKind.PATIENT: Patient,
    FeedOwnerKind.STAFF: StaffMember,
    FeedOwnerKind.ROOM: Room,
    FeedOwnerKind.LOCATION: Location,
}


@dataclass(frozen=True)
class FeedLinks:
    """The subscribe URL in both forms: ``webcal://`` opens the calendar app's subscribe dialog;
    the ``https://`` form is for pasting into "subscribe from URL"."""

    url: str
    webcal_url: str


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def feed_links(base_url: str, token: str) -> FeedLinks:
    url = f"{base_url.rstrip('/')}/feeds/{token}.ics"
    _scheme, _, rest = url.partition("://")
    return FeedLinks(url=url, webcal_url=f"webcal://{rest}")


def issue_feed_token(session: Session, kind: FeedOwnerKind, owner_id: int, action: Action) -> str:
    """A new token for the owner's feed, revoking any current one. Returns the plain token,
    which is not stored anywhere: show it (as links) to the caller and forget it."""
    kind = FeedOwnerKind(kind)
    require_owner(session, kind, owner_id)
    rotated = revoke_feed_tokens(session, kind, owner_id, action, audit=False)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    row = FeedToken(
        owner_kind=kind,
        owner_id=owner_id,
        token_hash=digest(token),
        created_at=action.now,
        created_by_id=action.actor.id if action.actor else None,
    )
    session.add(row)
    session.flush()
    record(
        session,
        action,
        "feed_token",
        row.id,
        None,
        {"owner_kind": str(kind), "owner_id": owner_id, "replaced": rotated},
        what="feed.rotate" if rotated else "feed.create",
    )
    return token


def revoke_feed_tokens(
    session: Session,
    kind: FeedOwnerKind,
    owner_id: int,
    action: Action,
    *,
    audit: bool = True,
) -> int:
    """End the owner's current link. Returns how many tokens were revoked (0 or 1)."""
    kind = FeedOwnerKind(kind)
    rows = active_tokens(session, kind, owner_id)
    for row in rows:
        row.revoked_at = action.now
        if audit:
            record(
                session,
                action,
                "feed_token",
                row.id,
                {"owner_kind": str(kind), "owner_id": owner_id, "active": True},
                {"owner_kind": str(kind), "owner_id": owner_id, "active": False},
                what="feed.revoke",
            )
    session.flush()
    return len(rows)


def active_tokens(session: Session, kind: FeedOwnerKind, owner_id: int) -> list[FeedToken]:
    return list(
        session.scalars(
            select(FeedToken)
            .where(
                FeedToken.owner_kind == FeedOwnerKind(kind),
                FeedToken.owner_id == owner_id,
                FeedToken.revoked_at.is_(None),
            )
            .order_by(FeedToken.id)
        )
    )


def active_token(session: Session, kind: FeedOwnerKind, owner_id: int) -> FeedToken | None:
    rows = active_tokens(session, kind, owner_id)
    return rows[-1] if rows else None


def require_owner(session: Session, kind: FeedOwnerKind, owner_id: int) -> object:
    owner = session.get(OWNER_MODELS[FeedOwnerKind(kind)], owner_id)
    if owner is None:
        raise NotFound(f"No {FeedOwnerKind(kind).value} {owner_id}")
    return owner


_owner_version = aliased(FeedVersion, name="owner_version")
_clinic_version = aliased(FeedVersion, name="clinic_version")

#: The one query a feed request makes while its feed is cached: token hash to owner and
#: counters, by primary and unique keys only.
_LOOKUP = (
    select(
        FeedToken.owner_kind,
        FeedToken.owner_id,
        _owner_version.version,
        _owner_version.changed_second,
        _clinic_version.version,
        _clinic_version.changed_second,
    )
    .outerjoin(
        _owner_version,
        and_(
            _owner_version.owner_kind == FeedToken.owner_kind,
            _owner_version.owner_id == FeedToken.owner_id,
        ),
    )
    .outerjoin(
        _clinic_version,
        and_(_clinic_version.owner_kind == CLINIC[0], _clinic_version.owner_id == CLINIC[1]),
    )
    .where(FeedToken.token_hash == bindparam("token_hash"), FeedToken.revoked_at.is_(None))
)


def resolve_feed(connection: Connection | Session, token: str) -> FeedState | None:
    """The feed a token opens, with its current counters, or None (unknown or revoked)."""
    if not TOKEN_PATTERN.fullmatch(token):
        return None
    return feed_state(connection.execute(_LOOKUP, {"token_hash": digest(token)}).first())


def lookup_statement(dialect: Dialect) -> tuple[str, list[Any]]:
    """The lookup as SQL with numbered parameters ($1 is the token hash) and the values of the
    others, for running it as a prepared statement on a raw libpq connection (the feed route,
    where every microsecond is paid on every request)."""
    compiled = _LOOKUP.compile(dialect=dialect)
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    names.append("token_hash")
    sql = re.sub(r"%\((\w+)\)s", number, compiled.string)
    return sql, [compiled.params[name] for name in names[1:]]


def feed_state(row: Sequence[Any] | None) -> FeedState | None:
    if row is None:
        return None
    kind, owner_id, version, changed, clinic_version, clinic_changed = row
    return FeedState(
        kind=FeedOwnerKind(kind),
        owner_id=owner_id,
        version=version or 0,
        changed_second=changed or 0,
        clinic_version=clinic_version or 0,
        clinic_changed_second=clinic_changed or 0,
    )
