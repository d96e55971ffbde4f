"""Reminder delivery under load, on PostgreSQL, through real ``flask worker`` processes.

10,000 reminders, all due at the start, go to a local SMTP server (aiosmtpd in a subprocess
that logs each Message-ID). Scenarios: one worker; two workers; two workers with one of them
killed with SIGKILL every few seconds and restarted. Prints messages per second, lateness
(sent_at - due_at: p50, p99, max), duplicates and lost messages; with kills, how many.

    .venv/bin/python bench/reminders.py [--count 10000] [--kill-every 3]

A throw-away PostgreSQL database is created and dropped.

Environment:
  BENCH_PORT           port of the local SMTP server the workers send to, on 127.0.0.1 (default:
                       a free port); each scenario starts its own, one after another.
  BENCH_POSTGRES_URL   PostgreSQL server, as an SQLAlchemy URL (also read:
                       SCHEDULER_BENCH_POSTGRES_URL; default the local server, user postgres).
  BENCH_DATABASE       name of the throw-away database (default ``bench_reminders_<random>``; one
                       left over under a ``bench_`` name is dropped first).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from collections import Counter
from pathlib import Path

from sqlalchemy import create_engine, func, insert, select, text, update
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scheduler.db import Base  # noqa: E402
from scheduler.models import (  # noqa: E402
    Appointment,
    AppointmentKind,
    Location,
    MessageKind,
    Patient,
    Reminder,
    ReminderChannel,
    Room,
    RoomKind,
)

ADMIN_URL = os.environ.get(
    "BENCH_POSTGRES_URL",
    os.environ.get(
        "SCHEDULER_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    ),
)
DATABASE = os.environ.get("BENCH_DATABASE") or f"bench_reminders_{uuid.uuid4().hex[:8]}"
DOMAIN = "bench.example.org"

SMTP_SERVER = textwrap.dedent(
    """
    import asyncio, sys, time
    from email.parser import BytesHeaderParser
    from aiosmtpd.controller import Controller

    out = open(sys.argv[2], "a", buffering=1)

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            headers = BytesHeaderParser().parsebytes(envelope.content)
            out.write(f"{time.time():.6f} {headers['Message-ID']}\\n")
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=int(sys.argv[1]))
    controller.start()
    print("ready", flush=True)
    try:
        sys.stdin.read()
    finally:
        controller.stop()
    """
)


def free_port() -> int:
    if os.environ.get("BENCH_PORT"):
        return int(os.environ["BENCH_PORT"])
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def create_database() -> tuple[str, Engine, str]:
    admin = create_engine(make_url(ADMIN_URL), isolation_level="AUTOCOMMIT")
    name = DATABASE
    with admin.connect() as conn:
        exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if exists and not name.startswith("bench_"):
            raise SystemExit(f"database {name} exists; BENCH_DATABASE only reuses bench_ names")
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS btree_gist"))
    Base.metadata.create_all(engine)
    return url, admin, name


def seed(engine: Engine, count: int, due: dt.datetime) -> None:
    """Patients with appointments a week ahead, and ``count`` reminders due at ``due``.

    Rows are written directly: the bench measures delivery, not booking.
    """
    with Session(engine) as session:
        location = Location(name="Bench clinic", timezone="America/New_York", address="1 Main")
        room = Room(location=location, name="Chair", kind=RoomKind.INFUSION_CHAIR)
        session.add_all([location, room])
        session.flush()
        start = (due + dt.timedelta(days=7)).replace(minute=0, second=0, microsecond=0)
        appointments = []
        for n in range(100):
            patient = Patient(
                first_name="Bench",
                last_name=f"Patient{n}",
                date_of_birth=dt.date(1980, 1, 1),
                email=f"patient{n}@example.org",
                timezone="America/New_York",
            )
            session.add(patient)
            session.flush()
            appointment = Appointment(
                kind=AppointmentKind.DOSING,
                starts_at=start + dt.timedelta(hours=n),
                ends_at=start + dt.timedelta(hours=n, minutes=100),
                location_id=location.id,
                room_id=room.id,
                patient_id=patient.id,
            )
            session.add(appointment)
            appointments.append(appointment)
        session.flush()
        rows = [
            {
                "appointment_id": a.id,
                "patient_id": a.patient_id,
                "kind": MessageKind.REMINDER,
                "template": "dosing_preparation",
                "channel": ReminderChannel.EMAIL,
                "offset_minutes": 2880,
                "dedupe_key": f"bench:{i}",
                "context": {"starts_at": a.starts_at.isoformat()},
                "due_at": due,
                "next_attempt_at": due,
                "stale_minutes": 0,
                "status": "pending",
                "attempts": 0,
                "resend_count": 0,
                "created_at": due,
                "updated_at": due,
            }
            for i in range(count)
            for a in [appointments[i % len(appointments)]]
        ]
        session.execute(insert(Reminder), rows)
        session.commit()


def reset(engine: Engine, due: dt.datetime) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(Reminder).values(
                status="pending",
                due_at=due,
                next_attempt_at=due,
                attempts=0,
                sent_at=None,
                claimed_at=None,
                claimed_by=None,
                last_error=None,
            )
        )


def start_worker(url: str, smtp_port: int, claim_timeout: float) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update(
        SCHEDULER_DATABASE_URL=url,
        SCHEDULER_SMTP_URL=f"smtp://127.0.0.1:{smtp_port}?from=clinic@{DOMAIN}",
        SCHEDULER_SECRET_KEY="bench",
        SCHEDULER_REMINDER_INTERVAL="1",
        SCHEDULER_REMINDER_CLAIM_TIMEOUT=str(claim_timeout),
        SCHEDULER_REMINDER_BATCH_SIZE="50",
    )
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "scheduler", "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def sent_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.scalar(select(func.count()).select_from(Reminder).where(Reminder.status == "sent"))
            or 0
        )


def run(
    name: str,
    url: str,
    engine: Engine,
    count: int,
    workers: int,
    kill_every: float | None,
    timeout: float,
) -> bool:
    log = Path(tempfile.mkstemp(prefix="bench-smtp-", suffix=".log")[1])
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", SMTP_SERVER, str(port), str(log)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert server.stdout is not None and server.stdout.readline().strip() == b"ready"
    due = dt.datetime.now(dt.UTC)
    reset(engine, due)
    # With kills, a dead worker's claims wait out this timeout before another takes them.
    claim_timeout = 5.0 if kill_every else 300.0
    procs = [start_worker(url, port, claim_timeout) for _ in range(workers)]
    kills = 0
    began = time.monotonic()
    next_kill = began + (kill_every or 0)
    try:
        while sent_count(engine) < count:
            if time.monotonic() - began > timeout:
                print(f"  {name}: timed out after {timeout:.0f} s")
                break
            if kill_every and time.monotonic() >= next_kill:
                victim = kills % len(procs)
                procs[victim].send_signal(signal.SIGKILL)
                procs[victim].wait()
                kills += 1
                procs[victim] = start_worker(url, port, claim_timeout)
                next_kill = time.monotonic() + kill_every
            time.sleep(0.2)
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
        time.sleep(0.3)
        assert server.stdin is not None
        server.stdin.close()
        server.wait(10)

    with engine.connect() as conn:
        sent = conn.execute(
            select(Reminder.id, Reminder.due_at, Reminder.sent_at).where(Reminder.status == "sent")
        ).all()
        ids = set(conn.scalars(select(Reminder.id)))
    received = Counter(line.split(" ", 1)[1].strip() for line in log.read_text().splitlines())
    log.unlink()
    expected = {f"<reminder-{i}.0@{DOMAIN}>" for i in ids}
    lost = len(expected - set(received))
    duplicates = sum(n - 1 for n in received.values() if n > 1)
    lateness = sorted((s - d).total_seconds() for _id, d, s in sent)
    span = (max(s for _i, _d, s in sent) - due).total_seconds() if sent else float("nan")
    p99 = lateness[int(len(lateness) * 0.99) - 1] if lateness else float("nan")
    print(
        f"  {name}: {len(received.keys() & expected)}/{count} delivered in {span:.1f} s "
        f"({count / span:.0f} msg/s); lateness p50 {statistics.median(lateness):.1f} s, "
        f"p99 {p99:.1f} s, max {lateness[-1]:.1f} s; duplicates {duplicates}, lost {lost}"
        + (f"; {kills} kills (SIGKILL)" if kill_every else "")
    )
    ok = lost == 0 and len(sent) == count
    if kill_every:
        # Killed workers' claims wait out the claim timeout: lateness is reported, not judged.
        ok = ok and duplicates <= kills
        print(f"  duplicates per kill: {duplicates}/{kills} (at most one each allowed)")
    else:
        ok = ok and duplicates == 0 and p99 < 60
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--kill-every", type=float, default=5.0)
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args()
    url, admin, name = create_database()
    engine = create_engine(url)
    ok = True
    try:
        seed(engine, args.count, dt.datetime.now(dt.UTC))
        print(f"Reminder delivery, {args.count} reminders due at once, PostgreSQL:")
        ok &= run("1 worker", url, engine, args.count, 1, None, args.timeout)
        ok &= run("2 workers", url, engine, args.count, 2, None, args.timeout)
        ok &= run(
            f"2 workers, one killed every {args.kill_every:g} s",
            url,
            engine,
            args.count,
            2,
            args.kill_every,
            args.timeout,
        )
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    print("OK" if ok else "FAILED: see the figures above")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
