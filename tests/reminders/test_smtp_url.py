"""SCHEDULER_SMTP_URL: parsing, and a login against a real server that requires one."""

from __future__ import annotations

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from scheduler.models import ReminderChannel
from scheduler.reminders.channels import (
    Envelope,
    SmtpChannel,
    TransientFailure,
    channels_from_config,
    parse_smtp_url,
)
from scheduler.reminders.channels.outbox import OutboxChannel
from scheduler.reminders.channels.sms import LogSmsBackend, WebhookSmsBackend
from scheduler.reminders.rendering import RenderedMessage

from .conftest import Mailbox, free_port


def test_parse_smtp_url():
    s = parse_smtp_url(
        "smtp://us%40er:p%3Ass@mail.example.org:587?starttls=1&from=Clinic%20<c@x.org>"
    )
    assert (s.host, s.port, s.username, s.password, s.starttls, s.tls) == (
        "mail.example.org",
        587,
        "us@er",
        "p:ss",
        True,
        False,
    )
    assert s.sender == "Clinic <c@x.org>" and s.domain == "x.org"
    tls = parse_smtp_url("smtps://mail.example.org")
    assert (tls.port, tls.tls, tls.starttls, tls.sender) == (
        465,
        True,
        False,
        "noreply@mail.example.org",
    )
    for bad in ("http://mail.example.org", "smtp://"):
        with pytest.raises(ValueError):
            parse_smtp_url(bad)


def test_channels_follow_the_configuration():
    embedded = channels_from_config({"SMTP_URL": None, "SMS_WEBHOOK_URL": None})
    assert isinstance(embedded[ReminderChannel.EMAIL], OutboxChannel)
    assert isinstance(embedded[ReminderChannel.SMS], LogSmsBackend)
    configured = channels_from_config(
        {"SMTP_URL": "smtp://127.0.0.1:25", "SMS_WEBHOOK_URL": "http://127.0.0.1:9/sms"}
    )
    assert isinstance(configured[ReminderChannel.EMAIL], SmtpChannel)
    assert isinstance(configured[ReminderChannel.SMS], WebhookSmsBackend)
    custom = channels_from_config({"SMS_BACKEND": "tests.reminders.test_smtp_url:RecordingBackend"})
    assert isinstance(custom[ReminderChannel.SMS], RecordingBackend)


class RecordingBackend:
    in_transaction = False

    def __init__(self, config):
        self.config = config

    def send(self, envelope, session):
        return None

    def close(self):
        return None


def envelope() -> Envelope:
    return Envelope(
        7,
        ReminderChannel.EMAIL,
        "<reminder-7.0@x.org>",
        "patient@example.org",
        RenderedMessage(subject="Hello", text="Body\n", html="<p>Body</p>"),
    )


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
@pytest.mark.slow
def test_login_and_a_refused_login():
    mailbox = Mailbox()

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == b"clinic" and auth_data.password == b"secret"
        return AuthResult(success=ok)

    port = free_port()
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticator,
        auth_required=True,
        auth_require_tls=False,
    )
    controller.start()
    try:
        good = SmtpChannel(parse_smtp_url(f"smtp://clinic:secret@127.0.0.1:{port}?from=c@x.org"))
        good.send(envelope(), None)
        good.close()
        (received,) = mailbox.take()
        assert received.message_id == "<reminder-7.0@x.org>"
        assert received.message["Auto-Submitted"] == "auto-generated"
        bad = SmtpChannel(
            parse_smtp_url(f"smtp://clinic:wrong@127.0.0.1:{port}?from=c@x.org&timeout=3")
        )
        # Refused logins are a configuration problem: retried later, never "failed" for good.
        with pytest.raises(TransientFailure):
            bad.send(envelope(), None)
    finally:
        controller.stop()


def test_an_unreachable_server_is_a_transient_failure():
    channel = SmtpChannel(parse_smtp_url(f"smtp://127.0.0.1:{free_port()}?timeout=2"))
    with pytest.raises(TransientFailure, match="unreachable"):
        channel.send(envelope(), None)
