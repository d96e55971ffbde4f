"""A patient's treatment course: one protocol version booked as a series at one location."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, UTCDateTime, utcnow
from .clinic import Location
from .enums import CourseStatus, enum_column
from .patients import Patient
from .protocols import ProtocolVersion


class Course(Base):
    __tablename__ = "courses"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    protocol_version_id: Mapped[int] = mapped_column(ForeignKey("protocol_versions.id"))
    status: Mapped[CourseStatus] = mapped_column(
        enum_column(CourseStatus, "course_status"), default=CourseStatus.ACTIVE
    )
    #: The planning preferences the course was booked with (weekdays, times, staff, telehealth).
    preferences: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    cancel_reason: Mapped[str | None] = mapped_column(String(300), default=None)
    #: Clinical decisions that let the course depart from a rule, each with who, when and why:
    #: {"rule": "other_course" | "precondition:…" | "window" | "max_gap", "reason", "by", "at",
    #: and what it covers}. Shown with the course; the integrity check honours them.
    exceptions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    patient: Mapped[Patient] = relationship()
    location: Mapped[Location] = relationship()
    protocol_version: Mapped[ProtocolVersion] = relationship()
