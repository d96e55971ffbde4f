"""Planning time of an IV induction course (evaluation, 6 infusions, 6 integration sessions) in
a clinic with 30 staff and 12 chairs and rooms, holding 1,000 / 10,000 / 100,000 booked
appointments over a year, on SQLite and PostgreSQL.

Targets: median under 100 ms at 10,000 bookings, and under twice that at 100,000 (the planner
reads only the window it plans in). Each run is the whole domain call a request makes: loading
the protocol and the availability for the window from the database, and planning.

The bookings are written directly (appointments, their staff and their resource claims, the
rows booking would write) for set-up speed. The clinic is open every day 07:00-21:00 with 6
infusion chairs, 2 procedure rooms, 1 monitored treatment room and 3 therapy rooms, plus 24
telehealth lines (video links are not rooms); 10 clinicians and 20 therapists work every day.
At 100,000 bookings (274 a day) chairs, rooms and staff are about half busy.

    .venv/bin/python bench/plan.py [--sizes 1000,10000,100000] [--runs 40]
        [--databases sqlite,postgresql] [--postgres-url URL]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from scheduler import create_app  # noqa: E402
from scheduler.audit import Action  # noqa: E402
from scheduler.courses import new_course, plan_new_course  # noqa: E402
from scheduler.db import Base, db  # noqa: E402
from scheduler.models import (  # noqa: E402
    Appointment,
    AppointmentKind,
    AppointmentStaff,
    AppointmentStatus,
    Location,
    OpeningHours,
    Patient,
    Protocol,
    ResourceClaim,
    Role,
    Room,
    RoomKind,
    StaffMember,
    StaffRole,
    WorkingHours,
)
from scheduler.planning import Preferences  # noqa: E402
from scheduler.protocols import seed_protocols  # noqa: E402

TZ = ZoneInfo("America/New_York")
YEAR_START = dt.date(2026, 1, 1)
DAYS = 365
OPEN, CLOSE = 7, 21
PATIENTS = 3000
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@dataclass(frozen=True)
class Kind:
    kind: AppointmentKind
    share: float
    minutes: int
    buffer: int
    rooms: tuple[RoomKind, ...]
    role: Role | None


#: The day's mix at 100,000 a year: about 26 infusions, 12 evaluations, 3 esketamine sessions,
#: 150 integration or preparation sessions and 83 staff-less follow-ups.
MIX = (
    Kind(AppointmentKind.DOSING, 0.095, 100, 15, (RoomKind.INFUSION_CHAIR,), Role.CLINICIAN),
    Kind(AppointmentKind.EVALUATION, 0.044, 60, 0, (RoomKind.PROCEDURE_ROOM,), Role.CLINICIAN),
    Kind(
        AppointmentKind.DOSING,
        0.011,
        150,
        15,
        (RoomKind.MONITORED_TREATMENT_ROOM,),
        Role.CLINICIAN,
    ),
    Kind(
        AppointmentKind.INTEGRATION,
        0.55,
        50,
        0,
        (RoomKind.THERAPY_ROOM, RoomKind.TELEHEALTH),
        Role.THERAPIST,
    ),
    Kind(
        AppointmentKind.FOLLOW_UP, 0.30, 30, 0, (RoomKind.THERAPY_ROOM, RoomKind.TELEHEALTH), None
    ),
)
PART = {Role.CLINICIAN: "administering_clinician", Role.THERAPIST: "therapist"}
EVALUATING = "evaluating_clinician"


class Busy:
    """Per resource and day, the spans taken so far (generation only)."""

    def __init__(self) -> None:
        self.spans: dict[tuple[str, int, int], list[tuple[int, int]]] = defaultdict(list)

    def free(self, key: tuple[str, int], day: int, start: int, end: int) -> bool:
        return all(e <= start or end <= s for s, e in self.spans[(*key, day)])

    def take(self, key: tuple[str, int], day: int, start: int, end: int) -> None:
        self.spans[(*key, day)].append((start, end))


def build_clinic(session) -> dict[str, object]:  # type: ignore[no-untyped-def]
    location = Location(name="Bench clinic", timezone=TZ.key, address="1 Main St", phone="")
    location.opening_hours = [
        OpeningHours(weekday=d, opens=dt.time(OPEN), closes=dt.time(CLOSE)) for d in range(7)
    ]
    session.add(location)
    session.flush()
    rooms: dict[RoomKind, list[int]] = defaultdict(list)
    layout = [
        (RoomKind.INFUSION_CHAIR, 6),
        (RoomKind.PROCEDURE_ROOM, 2),
        (RoomKind.MONITORED_TREATMENT_ROOM, 1),
        (RoomKind.THERAPY_ROOM, 3),
        (RoomKind.TELEHEALTH, 24),
    ]
    for kind, count in layout:
        for n in range(count):
            room = Room(location_id=location.id, name=f"{kind.value} {n + 1}", kind=kind)
            session.add(room)
            session.flush()
            rooms[kind].append(room.id)
    staff: dict[Role, list[int]] = defaultdict(list)
    for role, count in ((Role.CLINICIAN, 10), (Role.THERAPIST, 20)):
        for n in range(count):
            member = StaffMember(name=f"{role.value.title()} {n + 1}", email=f"{role}{n}@b.org")
            member.role_rows = [StaffRole(role=role)]
            member.working_hours = [
                WorkingHours(
                    location_id=location.id, weekday=d, starts=dt.time(OPEN), ends=dt.time(CLOSE)
                )
                for d in range(7)
            ]
            session.add(member)
            session.flush()
            staff[role].append(member.id)
    patients = []
    for n in range(PATIENTS + 1):
        patient = Patient(
            first_name="Bench",
            last_name=f"Patient{n}",
            date_of_birth=dt.date(1980, 1, 1),
            timezone=TZ.key,
        )
        session.add(patient)
        patients.append(patient)
    session.flush()
    seed_protocols(session, Action("bench", None, dt.datetime.now(dt.UTC)))
    session.commit()
    return {
        "location": location.id,
        "rooms": rooms,
        "staff": staff,
        "patients": [p.id for p in patients[:-1]],
        "planner_patient": patients[-1].id,
    }


def fill(session, clinic: dict[str, object], count: int, seed: int = 7) -> int:  # type: ignore[no-untyped-def]
    """Book ``count`` appointments spread over the year, without overlaps, by direct insert."""
    rng = random.Random(seed)
    busy = Busy()
    rooms: dict[RoomKind, list[int]] = clinic["rooms"]  # type: ignore[assignment]
    staff: dict[Role, list[int]] = clinic["staff"]  # type: ignore[assignment]
    patients: list[int] = clinic["patients"]  # type: ignore[assignment]
    location_id: int = clinic["location"]  # type: ignore[assignment]
    weights = [k.share for k in MIX]
    appointments, parts, claims = [], [], []
    made = 0
    attempts = 0
    while made < count and attempts < count * 30:
        attempts += 1
        kind = rng.choices(MIX, weights)[0]
        day = rng.randrange(DAYS)
        date = YEAR_START + dt.timedelta(days=day)
        minute = rng.randrange(OPEN * 60, CLOSE * 60 - kind.minutes + 1, 5)
        local = dt.datetime.combine(date, dt.time(minute // 60, minute % 60), TZ)
        start = int(local.timestamp())
        end = start + kind.minutes * 60
        room_end = end + kind.buffer * 60
        patient = rng.choice(patients)
        if not busy.free(("patient", patient), day, start, end):
            continue
        room_kind = rng.choice(kind.rooms)
        room = rng.choice(rooms[room_kind])
        if not busy.free(("room", room), day, start, room_end):
            continue
        member = None
        if kind.role is not None:
            member = rng.choice(staff[kind.role])
            if not busy.free(("staff", member), day, start, end):
                continue
        busy.take(("patient", patient), day, start, end)
        busy.take(("room", room), day, start, room_end)
        made += 1
        starts_at = dt.datetime.fromtimestamp(start, dt.UTC)
        ends_at = dt.datetime.fromtimestamp(end, dt.UTC)
        appointments.append(
            {
                "id": made,
                "uid": f"{uuid.UUID(int=rng.getrandbits(128))}@bench",
                "kind": kind.kind,
                "status": AppointmentStatus.SCHEDULED,
                "starts_at": starts_at,
                "ends_at": ends_at,
                "buffer_minutes": kind.buffer,
                "location_id": location_id,
                "room_id": room,
                "patient_id": patient,
                "revision": 1,
                "created_at": starts_at,
                "updated_at": starts_at,
                "internal_note": "",
            }
        )
        claims.append(("patient", patient, starts_at, ends_at, made))
        claims.append(("room", room, starts_at, dt.datetime.fromtimestamp(room_end, dt.UTC), made))
        if member is not None:
            busy.take(("staff", member), day, start, end)
            part = EVALUATING if kind.kind == AppointmentKind.EVALUATION else PART[kind.role]  # type: ignore[index]
            parts.append({"appointment_id": made, "staff_id": member, "part": part})
            claims.append(("staff", member, starts_at, ends_at, made))
    for chunk in range(0, len(appointments), 5000):
        session.execute(insert(Appointment.__table__), appointments[chunk : chunk + 5000])
    for chunk in range(0, len(parts), 5000):
        session.execute(insert(AppointmentStaff.__table__), parts[chunk : chunk + 5000])
    rows = [
        {
            "resource": r,
            "resource_id": i,
            "starts_at": s,
            "ends_at": e,
            "appointment_id": a,
            "active": True,
        }
        for r, i, s, e, a in claims
    ]
    for chunk in range(0, len(rows), 10000):
        session.execute(insert(ResourceClaim.__table__), rows[chunk : chunk + 10000])
    session.commit()
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT setval('appointments_id_seq', (SELECT max(id) FROM appointments))")
        )
        session.commit()
    return made


def analyze(engine) -> None:  # type: ignore[no-untyped-def]
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))


def measure(app, clinic: dict[str, object], runs: int, seed: int = 11) -> dict[str, float]:  # type: ignore[no-untyped-def]
    rng = random.Random(seed)
    timings: list[float] = []
    cpu: list[float] = []
    complete = 0
    with app.app_context():
        protocol_id = db.session.scalar(
            select(Protocol.id).where(Protocol.name == "IV ketamine induction series")
        )
        for run in range(runs + 3):
            # Starts spread over the year's busy months, at a random hour.
            day = YEAR_START + dt.timedelta(days=rng.randrange(20, DAYS - 60))
            earliest = dt.datetime.combine(day, dt.time(rng.randrange(6, 18)), TZ)
            db.session.remove()
            started = time.perf_counter()
            cpu_started = time.process_time()
            request = new_course(
                db.session,
                patient_id=clinic["planner_patient"],  # type: ignore[arg-type]
                location_id=clinic["location"],  # type: ignore[arg-type]
                protocol_id=protocol_id,
                protocol_version_id=None,
                preferences=Preferences(),
                earliest=earliest,
                now=earliest,
            )
            plan = plan_new_course(db.session, request)
            elapsed = (time.perf_counter() - started) * 1000
            used = (time.process_time() - cpu_started) * 1000
            db.session.rollback()
            if run >= 3:  # the first runs warm caches (zoneinfo, statements)
                timings.append(elapsed)
                cpu.append(used)
                complete += plan.complete
    timings.sort()
    return {
        "median": statistics.median(timings),
        "p95": timings[max(int(len(timings) * 0.95) - 1, 0)],
        "cpu": statistics.median(cpu),
        "complete": complete / runs,
    }


def database(kind: str, tmp: str, postgres_url: str) -> tuple[str, object]:
    if kind == "sqlite":
        return f"sqlite:///{tmp}/plan-{uuid.uuid4().hex[:6]}.sqlite", None
    admin = create_engine(make_url(postgres_url), isolation_level="AUTOCOMMIT")
    name = f"bench_plan_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS btree_gist"))
    engine.dispose()
    return url, (admin, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--postgres-url", default=POSTGRES)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results: list[tuple[str, int, int, dict[str, float], float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.databases.split(","):
            for size in sizes:
                url, cleanup = database(kind, tmp, args.postgres_url)
                engine = create_engine(url)
                Base.metadata.create_all(engine)
                app = create_app(
                    {
                        "TESTING": True,
                        "SECRET_KEY": "bench",
                        "SQLALCHEMY_DATABASE_URI": url,
                        "RATELIMIT_ENABLED": False,
                    }
                )
                started = time.perf_counter()
                with app.app_context():
                    clinic = build_clinic(db.session)
                    made = fill(db.session, clinic, size)
                    db.session.remove()
                analyze(engine)
                setup = time.perf_counter() - started
                figures = measure(app, clinic, args.runs)
                results.append((kind, size, made, figures, setup))
                print(
                    f"{kind:<10} {made:>7} bookings: median {figures['median']:6.1f} ms, "
                    f"p95 {figures['p95']:6.1f} ms, median CPU of this process "
                    f"{figures['cpu']:6.1f} ms, complete plans {figures['complete']:.0%} "
                    f"(set-up {setup:.0f} s)",
                    flush=True,
                )
                with app.app_context():
                    db.session.remove()
                    db.engine.dispose()
                engine.dispose()
                if cleanup is not None:
                    admin, name = cleanup  # type: ignore[misc]
                    with admin.connect() as conn:  # type: ignore[attr-defined]
                        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                    admin.dispose()  # type: ignore[attr-defined]
    print()
    print(
        "IV induction course (13 appointments), planned from a random day of the year "
        f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs):"
    )
    for kind, size, made, figures, _setup in results:
        target = 100 if size <= 10000 else 200
        verdict = "OK" if figures["median"] < target else "SLOW"
        print(
            f"  {kind:<10} {made:>7} bookings  median {figures['median']:6.1f} ms  "
            f"p95 {figures['p95']:6.1f} ms  (target median < {target} ms) {verdict}"
        )


if __name__ == "__main__":
    main()
