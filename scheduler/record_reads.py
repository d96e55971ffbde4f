"""Who looked at which patient's record (HIPAA audit controls).

Views note each patient record they show (``note_read``); the reads of one request are
written together after it succeeded, in one short transaction of their own, so a read-only
request holds no write lock while it works. A failed request (403, 404, 500) shows nothing and
logs nothing.
"""

from __future__ import annotations

from flask import Flask, Response, g, request

from .clock import now
from .db import db, write_transaction
from .models import RecordRead, StaffMember

PENDING = "scheduler_record_reads"


def note_read(viewer: StaffMember, patient_id: int) -> None:
    """Note that this request shows ``viewer`` the record of ``patient_id``."""
    pending = g.setdefault(PENDING, {})
    pending[patient_id] = viewer


def _via() -> str:
    rule = request.url_rule.rule if request.url_rule is not None else request.path
    return f"{request.method} {rule}"[:200]


def write_reads(response: Response) -> Response:
    pending: dict[int, StaffMember] = g.pop(PENDING, {})
    if not pending or response.status_code >= 400:
        return response
    moment = now()
    via = _via()
    with write_transaction(db.session):
        for patient_id, viewer in pending.items():
            db.session.add(
                RecordRead(
                    at=moment,
                    staff_id=viewer.id,
                    staff_label=viewer.name,
                    patient_id=patient_id,
                    via=via,
                )
            )
    return response


def init_app(app: Flask) -> None:
    app.after_request(write_reads)
