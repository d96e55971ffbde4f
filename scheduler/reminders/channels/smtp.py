"""E-mail over SMTP, configured by one URL:
``smtp://user:pass@host:587?starttls=1&from=clinic@example.org`` (``smtps://`` for TLS from
the first byte). The connection is kept open across a batch of messages.
"""

from __future__ import annotations

import datetime as dt
import email.policy
import smtplib
import ssl
from dataclasses import dataclass
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, parseaddr
from urllib.parse import parse_qs, unquote, urlsplit

from sqlalchemy.orm import Session

from ...db import utcnow
from .base import Envelope, PermanentFailure, TransientFailure

TRUE = {"1", "true", "yes", "on"}
#: CRLF line ends; headers folded only past RFC 5322's hard limit, because Python folds a long
#: subject right after "Subject:", which some clients show as a leading space.
POLICY = email.policy.compat32.clone(linesep="\r\n", max_line_length=998)


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    username: str | None
    password: str | None
    starttls: bool
    tls: bool
    sender: str
    timeout: float = 30.0

    @property
    def domain(self) -> str:
        """The domain of the sender address: the right-hand side of our Message-IDs."""
        _name, address = parseaddr(self.sender)
        return address.rpartition("@")[2] or self.host


def parse_smtp_url(url: str) -> SmtpSettings:
    parts = urlsplit(url)
    if parts.scheme not in {"smtp", "smtps"}:
        raise ValueError("SMTP URL must start with smtp:// or smtps://")
    if not parts.hostname:
        raise ValueError("SMTP URL has no host")
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    tls = parts.scheme == "smtps"
    sender = query.get("from") or f"noreply@{parts.hostname}"
    return SmtpSettings(
        host=parts.hostname,
        port=parts.port or (465 if tls else 25),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        starttls=query.get("starttls", "0").lower() in TRUE,
        tls=tls,
        sender=sender,
        timeout=float(query.get("timeout", 30)),
    )


def build_email(envelope: Envelope, sender: str, now: dt.datetime) -> Message:
    """text/plain and text/html alternatives, plus the .ics when there is one.

    Built with the compat32 MIME classes: several times cheaper than ``EmailMessage``'s
    header objects, which matters at hundreds of messages a second.
    """
    message = envelope.message
    body: Message = MIMEText(message.text, "plain", "utf-8")
    if message.html:
        alternative = MIMEMultipart("alternative")
        alternative.attach(body)
        alternative.attach(MIMEText(message.html, "html", "utf-8"))
        body = alternative
    if message.attachment:
        mixed = MIMEMultipart("mixed")
        mixed.attach(body)
        ics = MIMEText(message.attachment.decode("utf-8"), "calendar", "utf-8")
        ics.set_param("method", "PUBLISH")
        ics.add_header(
            "Content-Disposition", "attachment", filename=message.attachment_name or "invite.ics"
        )
        mixed.attach(ics)
        body = mixed
    body["From"] = sender
    body["To"] = envelope.recipient
    body["Subject"] = _header(message.subject)
    body["Date"] = format_datetime(now.astimezone(dt.UTC))
    body["Message-ID"] = envelope.message_id
    body["Auto-Submitted"] = "auto-generated"
    return body


def email_bytes(email: Message) -> bytes:
    return email.as_bytes(policy=POLICY)


def _header(value: str) -> str | Header:
    return value if value.isascii() else Header(value, "utf-8")


class SmtpChannel:
    in_transaction = False

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._connection: smtplib.SMTP | None = None

    @property
    def domain(self) -> str:
        return self.settings.domain

    def send(self, envelope: Envelope, session: Session | None = None) -> None:
        email = build_email(envelope, self.settings.sender, utcnow())
        _name, sender_address = parseaddr(self.settings.sender)
        try:
            connection = self._connect()
            connection.sendmail(sender_address, [envelope.recipient], email_bytes(email))
        except smtplib.SMTPRecipientsRefused as error:
            self._reset()
            code, text = next(iter(error.recipients.values()), (550, b""))
            raise _failure(code, "recipient refused", text, envelope.recipient) from None
        except (smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as error:
            self._reset()
            if isinstance(error, smtplib.SMTPSenderRefused):
                # Our own address refused: a configuration problem, worth retrying once fixed.
                raise TransientFailure(f"sender refused: {error.smtp_code}") from None
            raise _failure(
                error.smtp_code, "message refused", error.smtp_error, envelope.recipient
            ) from None
        except smtplib.SMTPAuthenticationError as error:
            self.close()
            raise TransientFailure(f"SMTP login failed: {error.smtp_code}") from None
        except smtplib.SMTPResponseException as error:
            self.close()
            raise _failure(
                error.smtp_code, "SMTP error", error.smtp_error, envelope.recipient
            ) from None
        except (smtplib.SMTPException, OSError) as error:
            self.close()
            raise TransientFailure(f"SMTP server unreachable: {type(error).__name__}") from None

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            connection.quit()
        except (smtplib.SMTPException, OSError):
            connection.close()

    def _connect(self) -> smtplib.SMTP:
        if self._connection is not None:
            return self._connection
        s = self.settings
        connection: smtplib.SMTP
        if s.tls:
            connection = smtplib.SMTP_SSL(
                s.host, s.port, timeout=s.timeout, context=ssl.create_default_context()
            )
        else:
            connection = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        connection.ehlo()
        if s.starttls:
            connection.starttls(context=ssl.create_default_context())
            connection.ehlo()
        if s.username:
            connection.login(s.username, s.password or "")
        self._connection = connection
        return connection

    def _reset(self) -> None:
        if self._connection is None:
            return
        try:
            self._connection.rset()
        except (smtplib.SMTPException, OSError):
            self.close()


def _failure(
    code: int, what: str, text: bytes | str, recipient: str
) -> PermanentFailure | TransientFailure:
    detail = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    # Servers often echo the address back: keep it out of stored errors and logs.
    detail = detail.replace(recipient, "<recipient>")[:200]
    message = f"{what}: {code} {detail}".strip()
    return PermanentFailure(message) if 500 <= code < 600 else TransientFailure(message)
