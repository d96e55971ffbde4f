"""The audit log: who changed what, when, with the state before and after."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UTCDateTime, utcnow


class AuditEntry(Base):
    """One changed row. Entries written by one user action share ``action_id``."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", ondelete="SET NULL"), index=True
    )
    #: The actor as shown to admins; survives the staff row's deletion. "system" for jobs.
    actor_label: Mapped[str] = mapped_column(String(160))
    action_id: Mapped[str] = mapped_column(String(36), index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)


class RecordRead(Base):
    """One look at a patient's record: who, when, which patient, through which page or API
    route (HIPAA audit controls). Kept when the staff member or the patient is deleted."""

    __tablename__ = "record_reads"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", ondelete="SET NULL"), index=True
    )
    staff_label: Mapped[str] = mapped_column(String(160))
    patient_id: Mapped[int] = mapped_column(Integer, index=True)
    #: The route, not the address: "GET /api/patients/<int:patient_id>".
    via: Mapped[str] = mapped_column(String(200))
