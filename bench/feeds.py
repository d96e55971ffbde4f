"""Calendar feeds under load, through gunicorn on loopback, measured with wrk.

A therapist with 1,000 appointments in the feed window and a patient with 40, on PostgreSQL.
Side by side, the same gunicorn serves the same bytes prebuilt from a bench-only route (the
ceiling) and a bare 304. Prints requests per second for: the unchanged feed against the
ceiling, the feed's 304 against the bare 304, and the latency of the first response after one
appointment of the feed changed; checks that bytes and ETag stay put while nothing changes and
that every worker serves the new body after a change.

    .venv/bin/python bench/feeds.py [--workers 2] [--threads 2] [--duration 6]

Needs wrk (``apt-get install -y wrk``). A throw-away PostgreSQL database is created and dropped.

Environment:
  BENCH_PORT           port gunicorn binds on 127.0.0.1 (default: a free port).
  BENCH_POSTGRES_URL   PostgreSQL server, as an SQLAlchemy URL (also read:
                       SCHEDULER_BENCH_POSTGRES_URL; default the local server, user postgres).
  BENCH_DATABASE       name of the throw-away database (default ``bench_feeds_<random>``; one
                       left over under a ``bench_`` name is dropped first).
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scheduler import create_app  # noqa: E402
from scheduler.audit import Action  # noqa: E402
from scheduler.db import Base, db, utcnow, write_transaction  # noqa: E402

ADMIN_URL = os.environ.get(
    "BENCH_POSTGRES_URL",
    os.environ.get(
        "SCHEDULER_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    ),
)
DATABASE = os.environ.get("BENCH_DATABASE") or f"bench_feeds_{uuid.uuid4().hex[:8]}"
BIG, SMALL = 1000, 40
TARGET_SHARE = 0.70
TARGET_LATENCY_MS = 50.0


# --- the app gunicorn runs: the real app plus two bench-only routes --------------------------


def bench_app() -> Any:
    """``gunicorn 'bench.feeds:bench_app()'``: the app, plus the ceiling routes."""
    from flask import Response

    app = create_app()
    prebuilt = {
        name: Path(os.environ[f"BENCH_{name.upper()}_BODY"]).read_bytes()
        for name in ("therapist", "patient")
    }
    etags = {name: os.environ[f"BENCH_{name.upper()}_ETAG"] for name in prebuilt}

    def ceiling(name: str) -> Response:
        return Response(
            prebuilt[name],
            headers={
                "Content-Type": "text/calendar; charset=utf-8",
                "ETag": etags[name],
                "Last-Modified": "Mon, 02 Mar 2026 07:00:00 GMT",
                "Cache-Control": "private",
                "Vary": "Accept-Encoding",
            },
        )

    def bare_304() -> Response:
        return Response(status=304, headers={"ETag": '"bench"', "Cache-Control": "private"})

    app.add_url_rule("/bench/prebuilt/<name>.ics", "bench_prebuilt", ceiling)
    app.add_url_rule("/bench/bare304", "bench_bare304", bare_304)
    return app


# --- set-up ---------------------------------------------------------------------------------


def create_database() -> tuple[str, str]:
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = DATABASE
    with admin.connect() as conn:
        exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if exists and not name.startswith("bench_"):
            raise SystemExit(f"database {name} exists; BENCH_DATABASE only reuses bench_ names")
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS btree_gist"))
    Base.metadata.create_all(engine)
    engine.dispose()
    return url, name


def drop_database(name: str) -> None:
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def seed(app: Any) -> dict[str, Any]:
    """A therapist with 1,000 integration sessions across the window (3 a day), 40 of them
    with one patient; booked through the booking rules."""
    from zoneinfo import ZoneInfo

    from scheduler.booking import AppointmentRequest, book_appointment
    from scheduler.feeds import issue_feed_token
    from scheduler.models import (
        AppointmentKind,
        FeedOwnerKind,
        FeedPrivacy,
        Location,
        OpeningHours,
        Patient,
        Role,
        Room,
        RoomKind,
        StaffMember,
        StaffPart,
        WorkingHours,
    )

    session = db.session
    now = utcnow()
    tz = ZoneInfo("America/New_York")
    location = Location(name="Bench Clinic", timezone=tz.key, address="1 Bench Street, NY")
    location.opening_hours = [
        OpeningHours(weekday=d, opens=dt.time(7), closes=dt.time(21)) for d in range(7)
    ]
    session.add(location)
    session.flush()
    rooms = [
        Room(location_id=location.id, name="Therapy A", kind=RoomKind.THERAPY_ROOM),
        Room(
            location_id=location.id,
            name="Video A",
            kind=RoomKind.TELEHEALTH,
            video_url="https://video.example.org/a",
        ),
    ]
    therapist = StaffMember(name="Dana Bench", email="dana@bench.example.org")
    therapist.set_roles([Role.THERAPIST])
    therapist.working_hours = [
        WorkingHours(location_id=location.id, weekday=d, starts=dt.time(7), ends=dt.time(21))
        for d in range(7)
    ]
    patients = [
        Patient(
            first_name=f"Pat{n}",
            last_name="Bench",
            date_of_birth=dt.date(1980, 1, 1),
            timezone=tz.key,
            feed_privacy=FeedPrivacy.STANDARD,
        )
        for n in range(25)
    ]
    session.add_all([*rooms, therapist, *patients])
    session.commit()

    first_day = now.astimezone(tz).date() - dt.timedelta(days=85)
    hours = (9, 11, 14)
    booked = []
    action = Action("bench", None, now)
    n = 0
    while n < BIG:
        with write_transaction(session):
            for _ in range(50):
                day = first_day + dt.timedelta(days=n // len(hours))
                start = dt.datetime.combine(day, dt.time(hours[n % len(hours)]), tz)
                # Every 25th session is the patient's: 40 of the 1,000.
                patient = patients[0] if n % 25 == 0 else patients[1 + n % 24]
                request = AppointmentRequest(
                    kind=AppointmentKind.INTEGRATION,
                    patient_id=patient.id,
                    location_id=location.id,
                    room_id=rooms[n % 2].id,
                    starts_at=start.astimezone(dt.UTC),
                    ends_at=(start + dt.timedelta(minutes=50)).astimezone(dt.UTC),
                    staff=[(therapist.id, StaffPart.THERAPIST)],
                    sequence=1 + n // 25,
                )
                booked.append(book_appointment(session, request, action, allow_past=True))
                n += 1
    with write_transaction(session):
        tokens = {
            "therapist": issue_feed_token(session, FeedOwnerKind.STAFF, therapist.id, action),
            "patient": issue_feed_token(session, FeedOwnerKind.PATIENT, patients[0].id, action),
        }
    future = [a for a in booked if a.starts_at > now + dt.timedelta(days=2)]
    return {"tokens": tokens, "movable": future[len(future) // 2].id}


def prebuilt_bodies(app: Any, tokens: dict[str, str]) -> dict[str, tuple[bytes, str]]:
    """The feeds' bytes as the server will send them, built here with the domain functions."""
    from scheduler.clock import now
    from scheduler.feeds.render import FeedSettings, build_feed
    from scheduler.feeds.tokens import resolve_feed

    settings = FeedSettings.from_config(app.config)
    found = {}
    for name, token in tokens.items():
        state = resolve_feed(db.session, token)
        assert state is not None
        built = build_feed(db.session, state, settings.window(now()), settings)
        assert built is not None
        found[name] = (built.body, f'"{built.etag}"')
    return found


# --- measuring ------------------------------------------------------------------------------


def free_port() -> int:
    if os.environ.get("BENCH_PORT"):
        return int(os.environ["BENCH_PORT"])
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(port: int, timeout: float = 30.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start")


class Server:
    """The gunicorn under test: its address, and the CPU time its workers and their
    PostgreSQL backends have used (the machine may be shared: CPU per request is the steadier
    figure, req/s the one the targets name)."""

    def __init__(self, master: int, port: int, database: str) -> None:
        self.master, self.port, self.database = master, port, database
        self.admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")

    def cpu_seconds(self) -> tuple[float, float]:
        """CPU seconds used so far by the workers, and by their database backends."""
        with self.admin.connect() as conn:
            backends = list(
                conn.execute(
                    text("SELECT pid FROM pg_stat_activity WHERE datname = :d"),
                    {"d": self.database},
                ).scalars()
            )
        return sum(_cpu(p) for p in _children(self.master)), sum(_cpu(p) for p in backends)


def _children(master: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == master:
                found.append(int(entry.name))
    return found


def _cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(
    server: Server,
    path: str,
    duration: int,
    connections: int,
    headers: dict[str, str] | None = None,
) -> dict:
    url = f"http://127.0.0.1:{server.port}{path}"
    command = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency"]
    for key, value in (headers or {}).items():
        command += ["-H", f"{key}: {value}"]
    cpu_before = server.cpu_seconds()
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    cpu_after = server.cpu_seconds()
    workers, backends = (cpu_after[i] - cpu_before[i] for i in (0, 1))
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", output)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "rps": rate,
        "cpu_us": (workers + backends) / max(total, 1) * 1e6,
        "db_us": backends / max(total, 1) * 1e6,
        "p50_ms": _ms(p50.group(1), p50.group(2)) if p50 else float("nan"),
        "non_2xx_3xx": int(errors.group(1)) if errors else 0,
    }


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def get(
    port: int, path: str, headers: dict[str, str] | None = None
) -> tuple[int, dict, bytes, float]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    started = time.perf_counter()
    connection.request("GET", path, headers=headers or {})
    response = connection.getresponse()
    body = response.read()
    elapsed = (time.perf_counter() - started) * 1000
    connection.close()
    return response.status, dict(response.getheaders()), body, elapsed


def _median(runs: list[dict]) -> dict:
    return {
        "rps": statistics.median(r["rps"] for r in runs),
        "cpu_us": statistics.median(r["cpu_us"] for r in runs),
        "db_us": statistics.median(r["db_us"] for r in runs),
        "p50_ms": statistics.median(r["p50_ms"] for r in runs),
        "non_2xx_3xx": sum(r["non_2xx_3xx"] for r in runs),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--duration", type=int, default=6, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3, help="paired wrk runs per comparison")
    parser.add_argument("--changes", type=int, default=15, help="changes for the latency test")
    args = parser.parse_args()

    if shutil.which("wrk") is None:
        print("wrk is not installed; install it with:  apt-get install -y wrk", file=sys.stderr)
        return 2

    url, name = create_database()
    workdir = Path(tempfile.mkdtemp(prefix="bench-feeds-"))
    server = None
    try:
        config = {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench",
            "BASE_URL": "https://clinic.example.org",
        }
        app = create_app(config)
        with app.app_context():
            print(f"seeding {BIG} appointments on PostgreSQL ...", flush=True)
            started = time.time()
            seeded = seed(app)
            print(f"  seeded in {time.time() - started:.1f}s")
            bodies = prebuilt_bodies(app, seeded["tokens"])
            db.session.remove()
        env = dict(os.environ)
        env.update(
            SCHEDULER_DATABASE_URL=url,
            SCHEDULER_SECRET_KEY="bench",
            SCHEDULER_BASE_URL="https://clinic.example.org",
        )
        for who, (body, etag) in bodies.items():
            path = workdir / f"{who}.ics"
            path.write_bytes(body)
            env[f"BENCH_{who.upper()}_BODY"] = str(path)
            env[f"BENCH_{who.upper()}_ETAG"] = etag
        port = free_port()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--chdir",
                str(ROOT),
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(args.workers),
                "--worker-class",
                "gthread",
                "--threads",
                str(args.threads),
                "--log-level",
                "warning",
                "bench.feeds:bench_app()",
            ],
            env=env,
        )
        wait_for(port)
        measured = Server(server.pid, port, name)
        tokens = seeded["tokens"]
        feed_path = {who: f"/feeds/{token}.ics" for who, token in tokens.items()}

        # Same bytes and ETag on every request, from every worker, as built in-process.
        for who in ("therapist", "patient"):
            answers = [get(port, feed_path[who]) for _ in range(4 * args.workers)]
            seen = {(body, headers["ETag"]) for _status, headers, body, _ms in answers}
            assert len(seen) == 1, f"{who}: bytes or ETag differ between requests"
            assert seen == {bodies[who]}, f"{who}: the server's bytes differ from the prebuilt"
        size = {who: len(bodies[who][0]) for who in bodies}
        print(
            f"feeds: therapist {BIG} events {size['therapist'] / 1024:.0f} KiB, "
            f"patient {SMALL} events {size['patient'] / 1024:.0f} KiB; identical bytes and "
            f"ETag across requests and workers: yes"
        )
        # Warm every worker (and open every thread's lookup connection).
        wrk(measured, feed_path["therapist"], 2, args.connections)
        wrk(measured, feed_path["patient"], 2, args.connections)

        def paired(a: tuple, b: tuple) -> tuple[dict, dict, tuple[float, float]]:
            """A and B in alternation (the machine's load drifts): median figures, and the
            medians of the per-pair ratios of B to A by req/s and by CPU per request."""
            runs_a, runs_b = [], []
            for _ in range(args.runs):
                runs_a.append(wrk(measured, a[0], args.duration, args.connections, a[1]))
                runs_b.append(wrk(measured, b[0], args.duration, args.connections, b[1]))
            pairs = list(zip(runs_a, runs_b, strict=True))
            ratio = statistics.median(y["rps"] / x["rps"] for x, y in pairs)
            cpu_ratio = statistics.median(x["cpu_us"] / y["cpu_us"] for x, y in pairs)
            return _median(runs_a), _median(runs_b), (ratio, cpu_ratio)

        results: dict[str, dict] = {}
        ratios: dict[str, tuple[float, float]] = {}
        for who in ("therapist", "patient"):
            etag = bodies[who][1]
            ceiling, served, ratios[f"{who} feed"] = paired(
                (f"/bench/prebuilt/{who}.ics", None), (feed_path[who], None)
            )
            results[f"{who} ceiling"], results[f"{who} feed"] = ceiling, served
            bare, served_304, ratios[f"{who} 304"] = paired(
                ("/bench/bare304", None), (feed_path[who], {"If-None-Match": etag})
            )
            results[f"bare 304 (vs {who})"], results[f"{who} feed 304"] = bare, served_304
        for key, value in results.items():
            assert value["non_2xx_3xx"] == 0, f"{key}: unexpected statuses"

        latencies, latencies_gzip, every_worker = post_change(app, port, seeded, args)

        print()
        print(f"{'scenario':28} {'req/s':>9} {'p50 ms':>8} {'CPU us/req':>11} {'(db)':>6}")
        for key, value in results.items():
            print(
                f"{key:28} {value['rps']:9.0f} {value['p50_ms']:8.2f} {value['cpu_us']:11.0f} "
                f"{value['db_us']:6.0f}"
            )
        print()
        print("share of the ceiling: by req/s (paired runs), and by CPU per request (workers and")
        print("their PostgreSQL backends; what req/s would show on an otherwise idle machine)")
        ok = True
        for who in ("therapist", "patient"):
            (share, cpu_share), (share_304, cpu_share_304) = (
                ratios[f"{who} feed"],
                ratios[f"{who} 304"],
            )
            mark = who == "therapist"
            ok &= not mark or (share >= TARGET_SHARE and share_304 >= TARGET_SHARE)
            print(
                f"{who:9} unchanged feed: {share:6.1%} (CPU {cpu_share:6.1%}) of the ceiling; "
                f"304: {share_304:6.1%} (CPU {cpu_share_304:6.1%}) of a bare 304"
                + ("   (target >= 70%)" if mark else "")
            )
        median = statistics.median(latencies)
        print(
            f"therapist first response after one change: median {median:.1f} ms, "
            f"p90 {sorted(latencies)[int(0.9 * (len(latencies) - 1))]:.1f} ms, "
            f"max {max(latencies):.1f} ms over {len(latencies)} changes (target median < 50 ms)"
        )
        print(f"  same, client accepting gzip: median {statistics.median(latencies_gzip):.1f} ms")
        print(f"every worker served the new ETag right after each change: {every_worker}")
        ok &= median < TARGET_LATENCY_MS and every_worker
        print("targets met" if ok else "TARGETS MISSED")
        return 0 if ok else 1
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        shutil.rmtree(workdir, ignore_errors=True)
        drop_database(name)


def post_change(
    app: Any, port: int, seeded: dict, args: Any
) -> tuple[list[float], list[float], bool]:
    """Move one appointment of the therapist's feed back and forth; after each move, time the
    next request, then check that every worker answers with the new ETag."""
    from scheduler.booking import get_appointment, reschedule_appointment

    path = f"/feeds/{seeded['tokens']['therapist']}.ics"
    latencies: list[float] = []
    latencies_gzip: list[float] = []
    every_worker = True
    previous = get(port, path)[1]["ETag"]
    with app.app_context():
        for number in range(args.changes * 2):
            appointment = get_appointment(db.session, seeded["movable"])
            shift = dt.timedelta(hours=1 if number % 2 == 0 else -1)
            with write_transaction(db.session):
                reschedule_appointment(
                    db.session,
                    appointment,
                    Action("bench", None, utcnow()),
                    starts_at=appointment.starts_at + shift,
                )
            db.session.remove()
            gzip = number % 2 == 1
            headers = {"Accept-Encoding": "gzip"} if gzip else {}
            status, response_headers, _body, elapsed = get(port, path, headers)
            assert status == 200
            (latencies_gzip if gzip else latencies).append(elapsed)
            tag = response_headers["ETag"].removesuffix('-gz"').rstrip('"') + '"'
            if tag == previous:
                every_worker = False
            for _ in range(4 * args.workers):
                other = get(port, path)[1]["ETag"]
                every_worker &= other == tag
            previous = tag
    return latencies, latencies_gzip, every_worker


if __name__ == "__main__":
    sys.exit(main())
