"""Reminder fixtures: a real SMTP server on loopback, a clock the test moves, workers."""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import email
import email.policy
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from sqlalchemy import insert, select

from scheduler.models import (
    MessageKind,
    Reminder,
    ReminderChannel,
)
from scheduler.reminders.channels import LogSmsBackend, SmtpChannel, parse_smtp_url
from scheduler.reminders.worker import ReminderWorker, WorkerSettings

SENDER = "Clinic <clinic@clinic.example.org>"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A worker is another process in production and marks messages sent on a connection of
    its own (PostgreSQL): tests with one commit what they write."""
    for item in items:
        if "make_worker" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.committing)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Received:
    recipients: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])

    @property
    def text(self) -> str:
        part = self.message.get_body(("plain",))
        return part.get_content() if part is not None else ""

    @property
    def html(self) -> str:
        part = self.message.get_body(("html",))
        return part.get_content() if part is not None else ""

    @property
    def attachments(self) -> list[EmailMessage]:
        return list(self.message.iter_attachments())


@dataclass
class Mailbox:
    """What the SMTP server received, in order."""

    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: SMTP reply to give instead of accepting (e.g. "451 try later"), per recipient.
    refuse: dict[str, str] = field(default_factory=dict)
    #: Seconds to take over each message, to make a slow server.
    delay: float = 0.0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.received.append(Received(list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        return "250 Message accepted"

    def take(self) -> list[Received]:
        with self.lock:
            taken, self.received = self.received, []
        return taken

    def __len__(self) -> int:
        with self.lock:
            return len(self.received)


@dataclass
class SmtpServer:
    host: str
    port: int
    mailbox: Mailbox

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}?from=clinic@clinic.example.org"


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", port, mailbox)
    finally:
        controller.stop()


@pytest.fixture
def make_worker(app: Flask, smtp_server: SmtpServer) -> Callable[..., ReminderWorker]:
    def build(worker_id: str = "worker-1", **settings: object) -> ReminderWorker:
        channels = {
            "email": SmtpChannel(parse_smtp_url(smtp_server.url)),
            "sms": LogSmsBackend(),
        }
        return ReminderWorker(
            app,
            worker_id=worker_id,
            channels=channels,  # type: ignore[arg-type]
            settings=WorkerSettings(**settings),  # type: ignore[arg-type]
        )

    return build


def rows(session, **where: object) -> list[Reminder]:
    query = select(Reminder).order_by(Reminder.due_at, Reminder.id)
    for name, value in where.items():
        query = query.where(getattr(Reminder, name) == value)
    session.commit()  # a fresh snapshot: workers wrote through other sessions
    session.expire_all()
    return list(session.scalars(query))


# --- courses, booked the way a course booking does: one transaction, one welcome ------------

#: The protocol's document, in the schema's shape (``scheduler.protocols.schema``): the
#: infusion keeps the default reminders, its integration session has its own.
IV_DEFINITION = {
    "name": "IV induction",
    "route": "iv",
    "steps": [
        {
            "key": "infusion",
            "kind": "dosing",
            "label": "Ketamine infusion",
            "administration_minutes": 45,
            "monitoring_minutes": 55,
            "buffer_minutes": 15,
            "room_kinds": ["infusion_chair"],
            "staff": ["administering_clinician"],
            "phases": [{"count": 6, "min_gap": "48h", "max_gap": "7d"}],
            "instructions": "No solid food for 6 hours before.\nA driver must take you home.",
            "reminder_hours": [],
            "pairing": {
                "key": "integration",
                "kind": "integration",
                "label": "Integration session",
                "min_after": "18h",
                "max_after": "72h",
                "minutes": 50,
                "staff": ["therapist"],
                "room_kinds": ["therapy_room", "telehealth"],
                "instructions": "",
                "reminder_hours": [24, 1],
            },
        }
    ],
}


def iv_definition(count: int = 2, **infusion: Any) -> dict[str, Any]:
    """``IV_DEFINITION`` with ``count`` infusions and the infusion step changed by ``infusion``."""
    step = copy.deepcopy(IV_DEFINITION["steps"][0])
    step.update(infusion)
    step["phases"] = [{**step["phases"][0], "count": count}]
    return {**IV_DEFINITION, "steps": [step]}


def insert_due(session, appointment, count: int, due_at: dt.datetime, prefix: str = "bulk"):
    """``count`` reminders of ``appointment`` due at ``due_at``, inserted in one statement."""
    values = [
        {
            "appointment_id": appointment.id,
            "patient_id": appointment.patient_id,
            "kind": MessageKind.REMINDER,
            "template": "appointment_reminder",
            "channel": ReminderChannel.EMAIL,
            "offset_minutes": 60,
            "dedupe_key": f"{prefix}:{appointment.id}:{i}",
            "context": {"starts_at": appointment.starts_at.isoformat()},
            "due_at": due_at,
            "next_attempt_at": due_at,
            "stale_minutes": 0,
            "status": "pending",
            "attempts": 0,
            "resend_count": 0,
            "created_at": due_at,
            "updated_at": due_at,
        }
        for i in range(count)
    ]
    session.execute(insert(Reminder), values)
    session.commit()
