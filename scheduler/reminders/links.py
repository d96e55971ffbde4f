"""The calendar link in a course's welcome message.

Feed tokens are stored only as digests, so an existing link cannot be shown again, and
issuing a new one would cut off the calendar the patient already subscribed. So the welcome
carries a link only when the patient has none yet: it is issued then, in its own short
transaction, and the message is the one place its plain value ever goes. A patient who already
has a link is told their calendar keeps showing the current times.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..audit import Action
from ..clock import now
from ..db import write_transaction
from ..feeds.tokens import FeedLinks, active_token, feed_links, issue_feed_token
from ..models import Patient
from ..models.feeds import FeedOwnerKind


def welcome_feed_links(session: Session, patient: Patient, base_url: str) -> FeedLinks | None:
    if active_token(session, FeedOwnerKind.PATIENT, patient.id) is not None:
        return None
    with write_transaction(session):
        # The patient row lock keeps two welcomes sent at once from issuing two links, the
        # second of which would end the first.
        session.scalars(select(Patient.id).where(Patient.id == patient.id).with_for_update()).one()
        if active_token(session, FeedOwnerKind.PATIENT, patient.id) is not None:
            return None
        token = issue_feed_token(
            session, FeedOwnerKind.PATIENT, patient.id, Action("reminders.welcome", None, now())
        )
    return feed_links(base_url, token)
