"""Locations with their opening hours and closures, and the rooms and chairs in them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Integer, String, Time
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base
from .enums import RoomKind, enum_column


class Location(Base):
    __tablename__ = "locations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    timezone: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(300), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    opening_hours: Mapped[list[OpeningHours]] = relationship(
        back_populates="location",
        cascade="all, delete-orphan",
        order_by="(OpeningHours.weekday, OpeningHours.opens)",
    )
    closures: Mapped[list[Closure]] = relationship(
        back_populates="location", cascade="all, delete-orphan", order_by="Closure.starts_on"
    )
    rooms: Mapped[list[Room]] = relationship(back_populates="location", order_by="Room.name")


class OpeningHours(Base):
    """One opening interval on one weekday (0 = Monday), in the location's local time.

    A day may have several intervals (a lunch break); a day without any is closed.
    """

    __tablename__ = "opening_hours"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        CheckConstraint("opens < closes", name="order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id", ondelete="CASCADE"))
    weekday: Mapped[int] = mapped_column(Integer)
    opens: Mapped[dt.time] = mapped_column(Time)
    closes: Mapped[dt.time] = mapped_column(Time)

    location: Mapped[Location] = relationship(back_populates="opening_hours")


class Closure(Base):
    """Whole local days on which a location is closed (holidays, maintenance), inclusive."""

    __tablename__ = "closures"
    __table_args__ = (CheckConstraint("starts_on <= ends_on", name="order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id", ondelete="CASCADE"))
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(200), default="")

    location: Mapped[Location] = relationship(back_populates="closures")


class Room(Base):
    """A bookable place: a chair, a room, or a telehealth line (``video_url``)."""

    __tablename__ = "rooms"

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[RoomKind] = mapped_column(enum_column(RoomKind, "room_kind"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    video_url: Mapped[str | None] = mapped_column(String(500), default=None)

    location: Mapped[Location] = relationship(back_populates="rooms")
