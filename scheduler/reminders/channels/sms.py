"""SMS backends: a log backend for installs without an SMS provider, and a generic webhook.

The webhook receives ``POST`` JSON ``{"to", "body", "message_id", "reminder_id"}`` with an
``Idempotency-Key`` header equal to ``message_id``; a 2xx answer means accepted, a 4xx (other
than 408/429) means the message will never be accepted, anything else is retried.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request

from sqlalchemy.orm import Session

from .base import Envelope, PermanentFailure, TransientFailure
from .outbox import store

log = logging.getLogger(__name__)

RETRYABLE_STATUS = {408, 425, 429}


class LogSmsBackend:
    """Keeps the SMS in the in-app outbox and logs that it did, without number or text."""

    in_transaction = True

    def send(self, envelope: Envelope, session: Session) -> None:
        store(session, envelope)
        log.info(
            "SMS for reminder %s kept in the outbox (%d characters)",
            envelope.reminder_id,
            len(envelope.message.text),
        )

    def close(self) -> None:
        return None


class WebhookSmsBackend:
    in_transaction = False

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url
        self.timeout = timeout

    def send(self, envelope: Envelope, session: Session) -> None:
        payload = json.dumps(
            {
                "to": envelope.recipient,
                "body": envelope.message.text,
                "message_id": envelope.message_id,
                "reminder_id": envelope.reminder_id,
            }
        ).encode()
        request = urllib.request.Request(
            self.url,
            data=payload,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Idempotency-Key": envelope.message_id,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read()
        except urllib.error.HTTPError as error:
            text = f"SMS webhook answered {error.code}"
            if 400 <= error.code < 500 and error.code not in RETRYABLE_STATUS:
                raise PermanentFailure(text) from None
            raise TransientFailure(text) from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise TransientFailure(f"SMS webhook unreachable: {type(reason).__name__}") from None

    def close(self) -> None:
        return None
