"""Treatment protocols, versioned: a booked course keeps the version it was planned with."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, UTCDateTime, utcnow
from .enums import Route, enum_column


class Protocol(Base):
    __tablename__ = "protocols"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160), unique=True)
    route: Mapped[Route] = mapped_column(enum_column(Route, "route"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    versions: Mapped[list[ProtocolVersion]] = relationship(
        back_populates="protocol", order_by="ProtocolVersion.number"
    )

    @property
    def current(self) -> ProtocolVersion:
        return self.versions[-1]


class ProtocolVersion(Base):
    """An immutable snapshot of a protocol's steps. Editing a protocol adds a version."""

    __tablename__ = "protocol_versions"
    __table_args__ = (UniqueConstraint("protocol_id", "number", name="uq_protocol_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    protocol_id: Mapped[int] = mapped_column(ForeignKey("protocols.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    #: The validated protocol document (steps, phases, pairing, instructions).
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", ondelete="SET NULL"), default=None
    )

    protocol: Mapped[Protocol] = relationship(back_populates="versions")
