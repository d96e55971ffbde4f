"""Where a patient subscribes to their calendar: the feeds module decides the link.

Until the feeds module offers a patient's feed URL, the welcome message says where to ask for
it instead (``None`` here).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ..models import Patient


def feed_link(session: Session, patient: Patient, base_url: str) -> str | None:
    try:
        from ..feeds import patient_feed_url  # type: ignore[attr-defined]
    except ImportError:
        return None
    return str(patient_feed_url(session, patient, base_url)) if patient_feed_url else None
