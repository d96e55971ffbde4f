"""Staff members, their roles, weekly working hours per location, time off and API tokens."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    Time,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, UTCDateTime, utcnow
from .enums import Role, enum_column


class StaffMember(Base):
    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(256), default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Raised by signing out, a password or role change and deactivation: every signed-in
    #: session carries the number it was opened under, so an older one is refused (the
    #: session cookie lives on the client; this is the server's side of it).
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: Staff feeds show patient initials unless the staff member opts into full names.
    feed_full_names: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    role_rows: Mapped[list[StaffRole]] = relationship(
        back_populates="staff", cascade="all, delete-orphan", lazy="selectin"
    )
    working_hours: Mapped[list[WorkingHours]] = relationship(
        back_populates="staff",
        cascade="all, delete-orphan",
        order_by="(WorkingHours.location_id, WorkingHours.weekday, WorkingHours.starts)",
    )
    time_off: Mapped[list[TimeOff]] = relationship(
        back_populates="staff", cascade="all, delete-orphan", order_by="TimeOff.starts_at"
    )

    @property
    def roles(self) -> set[Role]:
        return {row.role for row in self.role_rows}

    def set_roles(self, roles: set[Role] | list[Role]) -> None:
        wanted = {Role(r) for r in roles}
        self.role_rows = [row for row in self.role_rows if row.role in wanted]
        have = self.roles
        for role in sorted(wanted - have):
            self.role_rows.append(StaffRole(role=role))

    def has_role(self, *roles: Role) -> bool:
        return bool(self.roles & set(roles))

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.strip() else self.name


class StaffRole(Base):
    __tablename__ = "staff_roles"

    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"), primary_key=True)

    staff: Mapped[StaffMember] = relationship(back_populates="role_rows")


class WorkingHours(Base):
    """One working interval of a staff member at a location on a weekday (0 = Monday), local."""

    __tablename__ = "working_hours"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        CheckConstraint("starts < ends", name="order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id", ondelete="CASCADE"))
    weekday: Mapped[int] = mapped_column(Integer)
    starts: Mapped[dt.time] = mapped_column(Time)
    ends: Mapped[dt.time] = mapped_column(Time)

    staff: Mapped[StaffMember] = relationship(back_populates="working_hours")


class TimeOff(Base):
    """A span (UTC) in which a staff member takes no appointments."""

    __tablename__ = "time_off"
    __table_args__ = (CheckConstraint("starts_at < ends_at", name="order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(200), default="")

    staff: Mapped[StaffMember] = relationship(back_populates="time_off")


class ApiToken(Base):
    """A bearer token for the JSON API. Only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)

    staff: Mapped[StaffMember] = relationship()
