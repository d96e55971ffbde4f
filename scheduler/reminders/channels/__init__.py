"""Delivery channels: e-mail over SMTP, SMS through a pluggable backend, the in-app outbox.

A channel either delivers outside the database (SMTP, an SMS webhook), after which the worker
marks the row sent, or writes into the database (the outbox), in the same transaction that
marks the row sent, so that such a message is stored exactly once.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from ...models import ReminderChannel
from .base import Channel, Envelope, PermanentFailure, TransientFailure
from .outbox import OutboxChannel
from .sms import LogSmsBackend, WebhookSmsBackend
from .smtp import SmtpChannel, parse_smtp_url


def channels_from_config(config: Mapping[str, Any]) -> dict[ReminderChannel, Channel]:
    """E-mail goes over SMTP when ``SMTP_URL`` is set, else to the outbox; SMS goes to the
    webhook when ``SMS_WEBHOOK_URL`` is set, else to the log backend. ``SMS_BACKEND`` may name
    another backend as ``"package.module:Class"`` (constructed with the config)."""
    smtp_url = config.get("SMTP_URL")
    email: Channel = SmtpChannel(parse_smtp_url(smtp_url)) if smtp_url else OutboxChannel()
    return {ReminderChannel.EMAIL: email, ReminderChannel.SMS: sms_backend(config)}


def sms_backend(config: Mapping[str, Any]) -> Channel:
    name = config.get("SMS_BACKEND") or ("webhook" if config.get("SMS_WEBHOOK_URL") else "log")
    if name == "log":
        return LogSmsBackend()
    if name == "webhook":
        url = config.get("SMS_WEBHOOK_URL")
        if not url:
            raise ValueError("SMS_BACKEND is 'webhook' but SMS_WEBHOOK_URL is not set")
        return WebhookSmsBackend(str(url))
    module_name, _, attribute = str(name).partition(":")
    backend = getattr(importlib.import_module(module_name), attribute)
    return backend(config)  # type: ignore[no-any-return]


__all__ = [
    "Channel",
    "Envelope",
    "LogSmsBackend",
    "OutboxChannel",
    "PermanentFailure",
    "SmtpChannel",
    "TransientFailure",
    "WebhookSmsBackend",
    "channels_from_config",
    "parse_smtp_url",
    "sms_backend",
]
