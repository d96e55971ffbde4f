"""Calendar feed subscriptions: secret tokens, per-owner change counters, departures."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UTCDateTime, utcnow
from .enums import enum_column


class FeedOwnerKind(enum.StrEnum):
    """Whose appointments a feed shows."""

    PATIENT = "patient"
    STAFF = "staff"
    ROOM = "room"
    LOCATION = "location"


class FeedToken(Base):
    """The secret in a subscribe URL. Only its SHA-256 is stored: the plain token is shown once,
    when it is issued, and a lost link is replaced by rotating (which revokes the old one)."""

    __tablename__ = "feed_tokens"
    __table_args__ = (Index("ix_feed_tokens_owner", "owner_kind", "owner_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_kind: Mapped[FeedOwnerKind] = mapped_column(enum_column(FeedOwnerKind, "feed_owner_kind"))
    owner_id: Mapped[int] = mapped_column(Integer)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", ondelete="SET NULL"), default=None
    )
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)


class FeedVersion(Base):
    """A counter per feed owner, raised in the same transaction as anything that changes what
    the owner's feed shows. Web workers compare it with the version of the body they cached.

    ``owner_kind`` is a feed owner kind, or ``"clinic"`` (id 0) for changes that reach every
    feed (a staff member's name, a location's address).
    """

    __tablename__ = "feed_versions"

    owner_kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    owner_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    #: Unix second of the last change, kept strictly rising per owner so that HTTP
    #: Last-Modified (whole seconds) moves on even for two changes within one second.
    changed_second: Mapped[int] = mapped_column(BigInteger, default=0)


class FeedDeparture(Base):
    """A staff member or room taken off an appointment. The appointment stays in that owner's
    feed as cancelled for a grace period, so subscribed calendars drop it."""

    __tablename__ = "feed_departures"

    owner_kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    owner_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    appointment_id: Mapped[int] = mapped_column(
        ForeignKey("appointments.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    departed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
