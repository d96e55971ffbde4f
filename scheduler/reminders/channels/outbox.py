"""The in-app outbox: the embedded default for e-mail when no SMTP server is configured."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import OutboxMessage
from .base import Envelope


class OutboxChannel:
    in_transaction = True

    def send(self, envelope: Envelope, session: Session) -> None:
        store(session, envelope)

    def close(self) -> None:
        return None


def store(session: Session, envelope: Envelope) -> OutboxMessage | None:
    """Keep the message for admins to read; a second copy of one Message-ID is not stored."""
    found = session.scalar(
        select(OutboxMessage.id).where(OutboxMessage.message_id == envelope.message_id)
    )
    if found is not None:
        return None
    message = envelope.message
    row = OutboxMessage(
        reminder_id=envelope.reminder_id,
        channel=envelope.channel,
        recipient=envelope.recipient,
        subject=message.subject,
        body_text=message.text,
        body_html=message.html,
        attachment_name=message.attachment_name,
        attachment=message.attachment.decode("utf-8") if message.attachment else None,
        message_id=envelope.message_id,
    )
    session.add(row)
    return row
