"""Render time of a therapist's week view with 60 appointments (target: median under 50 ms).

Builds a throw-away SQLite clinic (or ``--database-url``), signs in as the therapist and
requests ``/my/week`` through the app, printing the median and p95 of the full request
(queries, eager loading, template) and the number of SQL queries per request.

    .venv/bin/python bench/week_view.py [--runs 200] [--database-url URL]

Exit status 1 when the target is missed.

Environment:
  BENCH_DATABASE_URL   the database to build the week in, as an SQLAlchemy URL (the same as
                       ``--database-url``; default a throw-away SQLite file). The bench creates
                       its tables there and leaves the data behind, so give it an empty one.
  BENCH_PORT           not used: requests go through the app in-process.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, event  # noqa: E402

from scheduler import create_app  # noqa: E402
from scheduler.db import Base, db  # noqa: E402
from tests.conftest import NOW, app_config  # noqa: E402
from tests.factories import Factory  # noqa: E402
from tests.web.busy_week import WEEK, busy_week  # noqa: E402
from tests.web.conftest import sign_in  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--appointments", type=int, default=60)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL") or None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.sqlite"
        engine = create_engine(url)
        Base.metadata.create_all(engine)
        engine.dispose()
        app = create_app(app_config(url, RATELIMIT_ENABLED=False))
        with app.app_context():
            week = busy_week(Factory(db.session, NOW), args.appointments)
            client = app.test_client()
            sign_in(client, week.therapist)
            path = f"/my/week?date={WEEK.isoformat()}"
            queries: list[str] = []
            event.listen(db.engine, "before_cursor_execute", lambda *a: queries.append(a[2]))
            first = client.get(path)
            assert first.status_code == 200, first.status_code
            shown = first.get_data(as_text=True).count('class="appt appt-')
            per_request = len(queries)
            for _ in range(10):
                client.get(path)
            timings = []
            for _ in range(args.runs):
                started = time.perf_counter()
                response = client.get(path)
                timings.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200
            if not args.database_url:
                Base.metadata.drop_all(db.engine)
    timings.sort()
    median = statistics.median(timings)
    p95 = timings[int(len(timings) * 0.95) - 1]
    backend = url.split(":", 1)[0]
    print(
        f"week view, {shown} appointments shown ({backend}): median {median:.1f} ms, "
        f"p95 {p95:.1f} ms over {args.runs} requests; {per_request} SQL queries per request "
        f"(target: median < 50 ms) {'PASS' if median < 50 else 'MISS'}"
    )
    return 0 if median < 50 else 1


if __name__ == "__main__":
    sys.exit(main())
