"""Concurrent intake through the HTTP API: many front-desk clients booking IV induction courses
for the same start at once, against gunicorn (``wsgi:app`` with ``gunicorn.conf.py``, gthread
workers) on PostgreSQL and on SQLite. Printed figures, not timed tests; the exit status is 1
when a target is missed.

Every request is ``POST /api/courses`` without ``appointments`` (plan and book in one call,
201 or 409), signed with a bearer token, each client on its own HTTP connection.

Limited clinic: one location (America/New_York) open Monday to Friday 08:00-18:00 with
``--chairs`` infusion chairs (default 1), 1 procedure room, 2 therapy rooms and 2 telehealth
lines; 2 clinicians and 3 therapists working those hours; open for ``--open-days`` days (default
28) from the target Monday (the Monday at least a week ahead) and closed from then on (a
closure of two years), so only so many courses fit. All requests ask for the same
``earliest_start``: the target Monday, 00:00 local.
  Anchor: on a fresh database, one client books courses one at a time until a 409 says the
  capacity is gone: C courses fit (at most ``--anchor-limit``).
  Measured: on a fresh database with the same set-up, ``--clients`` clients (default 16)
  request a course each at once, for different patients.
  Target: booked >= 95% of fit, where fit is C, or the number requested if fewer.

Demo clinic: the demo (``flask demo``: New York and Berlin, booked courses around today) plus
16 new patients; 16 IV inductions at the New York location requested at once from the next
Monday (the issue's case: 1 booked, 15 x 409). Anchor: the same 16 one at a time on a fresh
demo database (fit: how many book before the first 409). Same target.

Printed per case: booked, fit, booked/fit, the 409s by rule (with the first message), other
statuses (and the errors the server logged for its 503s), the wall time of the whole burst and
the slowest answer, and the courses and appointments the database holds afterwards.

Measured on 2 December 2026 (2 shared CPUs, about 2 minutes for everything), before any change
to booking under contention: the limited clinic fits C = 9 courses on both databases; bursts of
16 booked 2-4 of the 9 on PostgreSQL and 7 on SQLite, the rest 409 ``overlap`` (and now and
then a 503 from a DeadlockDetected); the demo clinic booked 3-6 of 16 on PostgreSQL (409
``overlap``, 1-6 x 503 DeadlockDetected) and 6-7 on SQLite. Every case MISS.

    .venv/bin/python bench/intake.py [--databases postgresql,sqlite] [--cases limited,demo]
        [--clients 16] [--workers 2] [--threads 4] [--chairs 1] [--open-days 28]

Environment:
  BENCH_PORT           port gunicorn binds on 127.0.0.1 (default: a free port); the servers of
                       the runs use it one after another.
  BENCH_POSTGRES_URL   PostgreSQL server for the throw-away databases, as an SQLAlchemy URL
                       (also read: SCHEDULER_BENCH_POSTGRES_URL; default
                       postgresql+psycopg://postgres@127.0.0.1:5432/postgres).
  BENCH_DATABASE       name prefix of those databases (default ``bench_intake_<random>``); each
                       run appends ``_<case>_<anchor|burst>``; dropped at the end (one left over
                       from an earlier run under a ``bench_`` name is dropped first). SQLite
                       files go to a temporary directory.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scheduler import create_app  # noqa: E402
from scheduler.audit import Action  # noqa: E402
from scheduler.auth.bearer_tokens import issue_token  # noqa: E402
from scheduler.db import Base, db, utcnow  # noqa: E402
from scheduler.models import (  # noqa: E402
    Appointment,
    Closure,
    Course,
    Location,
    OpeningHours,
    Patient,
    Protocol,
    Role,
    Room,
    RoomKind,
    StaffMember,
    WorkingHours,
)
from scheduler.protocols import seed_protocols  # noqa: E402

ADMIN_URL = os.environ.get(
    "BENCH_POSTGRES_URL",
    os.environ.get(
        "SCHEDULER_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    ),
)
DATABASE_PREFIX = os.environ.get("BENCH_DATABASE") or f"bench_intake_{uuid.uuid4().hex[:8]}"
TZ = ZoneInfo("America/New_York")
IV = "IV ketamine induction series"
DEMO_FRONT_DESK = "frontdesk@demo.clinic"
DEMO_LOCATION = "Riverside Ketamine Clinic, New York"
TARGET = 0.95
HTTP_TIMEOUT = 300.0


def bench_port() -> int:
    if os.environ.get("BENCH_PORT"):
        return int(os.environ["BENCH_PORT"])
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- databases ------------------------------------------------------------------------------


@dataclass
class Database:
    kind: str
    url: str
    name: str  # the PostgreSQL database, or the SQLite file

    def drop(self) -> None:
        if self.kind == "sqlite":
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(self.name + suffix).unlink(missing_ok=True)
            return
        admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        admin.dispose()


def create_database(kind: str, suffix: str, tmp: str) -> Database:
    if kind == "sqlite":
        path = f"{tmp}/intake-{suffix}.sqlite"
        url = f"sqlite:///{path}"
        database = Database(kind, url, path)
    else:
        name = f"{DATABASE_PREFIX}_{suffix}"
        admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
            if exists and not name.startswith("bench_"):
                raise SystemExit(f"database {name} exists; BENCH_DATABASE only reuses bench_ names")
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
        database = Database(kind, url, name)
    engine = create_engine(database.url)
    if kind != "sqlite":
        with engine.begin() as conn:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS btree_gist"))
    Base.metadata.create_all(engine)
    engine.dispose()
    return database


# --- set-up ---------------------------------------------------------------------------------


@dataclass
class Setup:
    """What the clients need: where, which protocol, from when, for whom, signed by whom."""

    location_id: int
    protocol_id: int
    earliest: dt.datetime
    patients: list[int]
    tokens: list[str]
    description: str


def next_monday(today: dt.date, at_least: int) -> dt.date:
    day = today + dt.timedelta(days=at_least)
    return day + dt.timedelta(days=(7 - day.weekday()) % 7)


def _tokens(member: StaffMember, count: int, now: dt.datetime) -> list[str]:
    tokens = [issue_token(db.session, member, now, dt.timedelta(hours=6))[0] for _ in range(count)]
    db.session.commit()
    return tokens


def _iv_protocol() -> int:
    found = db.session.scalar(select(Protocol.id).where(Protocol.name == IV))
    assert found is not None
    return found


def seed_limited(url: str, args: argparse.Namespace, patients: int) -> Setup:
    """The limited clinic (see the module docstring); ``patients`` new patients."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    now = utcnow()
    monday = next_monday(now.astimezone(TZ).date(), 7)
    with app.app_context():
        session = db.session
        location = Location(name="Intake bench clinic", timezone=TZ.key, address="1 Main St")
        location.opening_hours = [
            OpeningHours(weekday=d, opens=dt.time(8), closes=dt.time(18)) for d in range(5)
        ]
        closed_from = monday + dt.timedelta(days=args.open_days)
        location.closures = [
            Closure(
                starts_on=closed_from,
                ends_on=closed_from + dt.timedelta(days=730),
                reason="Bench: capacity ends here",
            )
        ]
        session.add(location)
        session.flush()
        layout = [
            (RoomKind.INFUSION_CHAIR, args.chairs, None),
            (RoomKind.PROCEDURE_ROOM, 1, None),
            (RoomKind.THERAPY_ROOM, 2, None),
            (RoomKind.TELEHEALTH, 2, "https://video.example.org/bench"),
        ]
        for kind, count, video in layout:
            for n in range(count):
                session.add(
                    Room(
                        location_id=location.id,
                        name=f"{kind.value} {n + 1}",
                        kind=kind,
                        video_url=f"{video}-{n}" if video else None,
                    )
                )
        members = []
        for role, count in ((Role.CLINICIAN, 2), (Role.THERAPIST, 3), (Role.FRONT_DESK, 1)):
            for n in range(count):
                member = StaffMember(name=f"{role.value} {n + 1}", email=f"{role}{n}@bench.org")
                member.set_roles([role])
                if role != Role.FRONT_DESK:
                    member.working_hours = [
                        WorkingHours(
                            location_id=location.id,
                            weekday=d,
                            starts=dt.time(8),
                            ends=dt.time(18),
                        )
                        for d in range(5)
                    ]
                session.add(member)
                members.append(member)
        people = [
            Patient(
                first_name="Intake",
                last_name=f"Patient{n}",
                date_of_birth=dt.date(1980, 1, 1),
                timezone=TZ.key,
            )
            for n in range(patients)
        ]
        session.add_all(people)
        seed_protocols(session, Action("bench", None, now))
        session.commit()
        setup = Setup(
            location_id=location.id,
            protocol_id=_iv_protocol(),
            earliest=dt.datetime.combine(monday, dt.time(0), TZ),
            patients=[p.id for p in people],
            tokens=_tokens(members[-1], max(args.clients, 1), now),
            description=(
                f"limited clinic: {args.chairs} chair(s), 2 clinicians, 3 therapists, Mon-Fri "
                f"08-18, open {args.open_days} days from {monday:%a %d %b %Y}"
            ),
        )
        db.session.remove()
        db.engine.dispose()
    return setup


def seed_demo(url: str, args: argparse.Namespace) -> Setup:
    """The demo clinic as ``flask demo`` loads it, plus 16 (``--clients``) new patients."""
    from scheduler.demo import load_demo

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    now = utcnow()
    with app.app_context():
        session = db.session
        load_demo(session, Action("bench.demo", None, now))
        session.commit()
        location = session.scalars(select(Location).where(Location.name == DEMO_LOCATION)).one()
        zone = ZoneInfo(location.timezone)
        people = [
            Patient(
                first_name="New",
                last_name=f"Patient{n}",
                date_of_birth=dt.date(1985, 1, 1),
                timezone=location.timezone,
            )
            for n in range(args.clients)
        ]
        session.add_all(people)
        session.commit()
        desk = session.scalars(
            select(StaffMember).where(StaffMember.email == DEMO_FRONT_DESK)
        ).one()
        monday = next_monday(now.astimezone(zone).date(), 1)
        setup = Setup(
            location_id=location.id,
            protocol_id=_iv_protocol(),
            earliest=dt.datetime.combine(monday, dt.time(0), zone),
            patients=[p.id for p in people],
            tokens=_tokens(desk, max(args.clients, 1), now),
            description=f"demo clinic, New York, from {monday:%a %d %b %Y}",
        )
        db.session.remove()
        db.engine.dispose()
    return setup


def holdings(url: str) -> tuple[int, int]:
    """Courses and appointments in the database."""
    engine = create_engine(url)
    with engine.connect() as conn:
        courses = conn.scalar(select(func.count()).select_from(Course)) or 0
        appointments = conn.scalar(select(func.count()).select_from(Appointment)) or 0
    engine.dispose()
    return int(courses), int(appointments)


# --- the server -----------------------------------------------------------------------------


@contextmanager
def server(url: str, port: int, args: argparse.Namespace, log: Path) -> Iterator[None]:
    """gunicorn serving ``wsgi:app`` with the project's gunicorn.conf.py on ``port``."""
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(ROOT),
        SCHEDULER_DATABASE_URL=url,
        SCHEDULER_SECRET_KEY="bench",
        SCHEDULER_BASE_URL=f"http://127.0.0.1:{port}",
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS=str(args.workers),
        GUNICORN_THREADS=str(args.threads),
    )
    with log.open("ab") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--config",
                str(ROOT / "gunicorn.conf.py"),
                "--chdir",
                str(ROOT),
                "wsgi:app",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {log}:\n{log.read_text()[-2000:]}")
            try:
                status = request(port, "GET", "/api/openapi.json", None, None)[0]
                if status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not answer within 60 s; see {log}")
            time.sleep(0.2)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def request(
    port: int,
    method: str,
    path: str,
    token: str | None,
    body: dict[str, Any] | None,
    connection: http.client.HTTPConnection | None = None,
) -> tuple[int, dict[str, Any]]:
    own = connection is None
    conn = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=HTTP_TIMEOUT)
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    payload = None
    if body is not None:
        payload = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    try:
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        raw = response.read()
    finally:
        if own:
            conn.close()
    try:
        data = json.loads(raw) if raw else {}
    except ValueError:
        data = {"message": raw[:200].decode(errors="replace")}
    return response.status, data if isinstance(data, dict) else {"items": data}


# --- clients --------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    rule: str
    message: str
    ms: float
    appointments: int = 0


def book(
    port: int,
    setup: Setup,
    n: int,
    connection: http.client.HTTPConnection | None = None,
) -> Answer:
    body = {
        "patient_id": setup.patients[n],
        "location_id": setup.location_id,
        "protocol_id": setup.protocol_id,
        "earliest_start": setup.earliest.isoformat(),
    }
    token = setup.tokens[n % len(setup.tokens)]
    started = time.perf_counter()
    try:
        status, data = request(port, "POST", "/api/courses", token, body, connection)
    except OSError as error:
        return Answer(0, "", f"{type(error).__name__}: {error}", 0.0)
    ms = (time.perf_counter() - started) * 1000
    return Answer(
        status,
        str(data.get("rule") or ""),
        str(data.get("message") or ""),
        ms,
        len(data.get("appointments") or []) if status == 201 else 0,
    )


def one_at_a_time(port: int, setup: Setup, limit: int) -> list[Answer]:
    """Book courses one after another until the first answer that is not 201."""
    answers: list[Answer] = []
    for n in range(limit):
        answer = book(port, setup, n)
        answers.append(answer)
        if answer.status != 201:
            break
    return answers


def all_at_once(port: int, setup: Setup, clients: int) -> tuple[list[Answer], float]:
    """``clients`` threads, each on its own connection, released together; the burst's wall
    time from release to the last answer."""
    answers: list[Answer | None] = [None] * clients
    ready = threading.Barrier(clients + 1)

    def client(n: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=HTTP_TIMEOUT)
        connection.connect()
        ready.wait()
        try:
            answers[n] = book(port, setup, n, connection)
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    ready.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    return [a if a is not None else Answer(0, "", "client failed", 0.0) for a in answers], wall


# --- a case ---------------------------------------------------------------------------------


@dataclass
class Result:
    database: str
    case: str
    requested: int
    booked: int
    fit: int
    fit_known: bool
    conflicts: Counter[str] = field(default_factory=Counter)
    others: Counter[int] = field(default_factory=Counter)
    wall: float = 0.0

    @property
    def share(self) -> float:
        return self.booked / self.fit if self.fit else 1.0

    @property
    def ok(self) -> bool:
        return self.share >= TARGET


def describe(answers: list[Answer]) -> tuple[Counter[str], Counter[int], dict[str, str]]:
    conflicts: Counter[str] = Counter()
    others: Counter[int] = Counter()
    first: dict[str, str] = {}
    for answer in answers:
        if answer.status == 409:
            conflicts[answer.rule or "?"] += 1
            first.setdefault(answer.rule or "?", answer.message)
        elif answer.status != 201:
            others[answer.status] += 1
            first.setdefault(str(answer.status), answer.message)
    return conflicts, others, first


def run_case(kind: str, case: str, args: argparse.Namespace, tmp: str, port: int) -> Result:
    log = Path(tmp) / f"gunicorn-{kind}-{case}.log"

    def prepare(suffix: str) -> tuple[Database, Setup]:
        database = create_database(kind, f"{case}_{suffix}", tmp)
        if case == "demo":
            return database, seed_demo(database.url, args)
        return database, seed_limited(database.url, args, max(args.anchor_limit, args.clients))

    # Anchor: one at a time, on a fresh database.
    database, setup = prepare("anchor")
    try:
        limit = args.clients if case == "demo" else args.anchor_limit
        with server(database.url, port, args, log):
            started = time.perf_counter()
            answers = one_at_a_time(port, setup, limit)
            took = time.perf_counter() - started
    finally:
        database.drop()
    fit = sum(a.status == 201 for a in answers)
    fit_known = fit < limit
    stop = answers[-1] if answers and answers[-1].status != 201 else None
    median = statistics.median(a.ms for a in answers) if answers else 0.0
    print(f"  {kind:<10} {case:<8} {setup.description}")
    print(
        f"  {kind:<10} {case:<8} anchor, one at a time: {fit} booked in {took:.1f} s "
        f"(median {median:.0f} ms a request)"
        + (
            f"; then {stop.status} {stop.rule}: {stop.message[:100]}"
            if stop
            else f"; stopped at {limit}"
        ),
        flush=True,
    )

    # Burst: every client at once, on a fresh database with the same set-up.
    database, setup = prepare("burst")
    logged = log.stat().st_size if log.exists() else 0
    try:
        with server(database.url, port, args, log):
            burst, wall = all_at_once(port, setup, args.clients)
        courses, appointments = holdings(database.url)
    finally:
        database.drop()
    # What the server logged about its 503s ("database busy: <the driver's error>").
    busy = Counter(
        line.split("database busy:", 1)[1].strip()
        for line in log.read_bytes()[logged:].decode(errors="replace").splitlines()
        if "database busy:" in line
    )
    booked = sum(a.status == 201 for a in burst)
    conflicts, others, first = describe(burst)
    result = Result(
        kind,
        case,
        args.clients,
        booked,
        min(fit, args.clients),
        fit_known or fit >= args.clients,
        conflicts,
        others,
        wall,
    )
    slowest = max((a.ms for a in burst), default=0.0)
    print(
        f"  {kind:<10} {case:<8} burst of {args.clients}: {booked} booked, fit {result.fit}, "
        f"{result.share:.0%} of fit; 409s {sum(conflicts.values())}"
        f"{' (' + ', '.join(f'{n} {r}' for r, n in conflicts.items()) + ')' if conflicts else ''}"
        f"; other statuses {dict(others) or 'none'}; wall {wall:.1f} s, slowest answer "
        f"{slowest / 1000:.1f} s; the database holds {courses} courses, {appointments} "
        f"appointments",
        flush=True,
    )
    for key, message in first.items():
        print(f"  {'':<10} {'':<8}   first {key}: {message[:100]}")
    if busy:
        logged_text = ", ".join(f"{n} x {error}" for error, n in busy.items())
        print(f"  {'':<10} {'':<8}   server log, database busy: {logged_text}")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--databases", default="postgresql,sqlite")
    parser.add_argument("--cases", default="limited,demo")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    parser.add_argument("--chairs", type=int, default=1, help="limited clinic: infusion chairs")
    parser.add_argument("--open-days", type=int, default=28, help="limited clinic: days open")
    parser.add_argument(
        "--anchor-limit", type=int, default=40, help="limited clinic: most courses the anchor books"
    )
    args = parser.parse_args()
    port = bench_port()
    print(
        f"Concurrent intake over HTTP: gunicorn {args.workers} workers x {args.threads} threads "
        f"on 127.0.0.1:{port}; {args.clients} clients (load average {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} CPUs)",
        flush=True,
    )
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="bench-intake-") as tmp:
        for kind in args.databases.split(","):
            for case in args.cases.split(","):
                results.append(run_case(kind, case, args, tmp, port))
    print()
    print(
        f"{'database':<10} {'case':<8} {'booked':>6} {'fit':>4} {'share':>6} {'409s':>5} "
        f"{'other':>5} {'wall s':>7}  target booked >= {TARGET:.0%} of fit"
    )
    ok = True
    for r in results:
        ok &= r.ok
        print(
            f"{r.database:<10} {r.case:<8} {r.booked:>6} {r.fit:>4}{'' if r.fit_known else '+'}"
            f"{r.share:>6.0%} {sum(r.conflicts.values()):>5} {sum(r.others.values()):>5} "
            f"{r.wall:>7.1f}  {'PASS' if r.ok else 'MISS'}"
        )
    print("targets met" if ok else "TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
