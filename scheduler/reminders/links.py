"""Where a patient subscribes to their calendar: the feeds module decides the link.

The feeds module keeps only a digest of each patient's feed token, so an existing subscribe
link cannot be put into a message, and issuing a new token would cut off the calendar the
patient already subscribed. Unless feeds offers ``patient_feed_url(session, patient,
base_url)``, the welcome message says where to ask for the link instead (``None`` here).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ..models import Patient

try:  # the feeds module is optional for this one link
    from ..feeds import patient_feed_url as _patient_feed_url  # type: ignore[attr-defined]
except ImportError:
    _patient_feed_url = None


def feed_link(session: Session, patient: Patient, base_url: str) -> str | None:
    build = _patient_feed_url
    if build is None:
        return None
    link = build(session, patient, base_url)
    return str(link) if link else None
