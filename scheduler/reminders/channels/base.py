"""What every channel shares: the message handed over, and the two ways a send can fail."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.orm import Session

from ...models import ReminderChannel
from ..rendering import RenderedMessage


class DeliveryFailure(Exception):
    """A send that did not happen. The message is safe to store and show: no address in it."""


class TransientFailure(DeliveryFailure):
    """Worth retrying later: a server down, a timeout, a 4xx answer."""


class PermanentFailure(DeliveryFailure):
    """Retrying will not help: the recipient refused, a 5xx answer about this message."""


@dataclass
class Envelope:
    reminder_id: int
    channel: ReminderChannel
    #: The same for every attempt at one reminder, so a duplicate is recognisable downstream.
    message_id: str
    recipient: str
    message: RenderedMessage


class Channel(Protocol):
    #: True when delivering is a database write done in the transaction that marks it sent.
    in_transaction: bool

    def send(self, envelope: Envelope, session: Session) -> None: ...

    def close(self) -> None: ...
