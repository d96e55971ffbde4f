"""Each page runs the same number of SQL queries for 5 appointments as for 60 (eager loading,
one query per kind of related row, never one per appointment)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from sqlalchemy import event

from scheduler.db import db

from .busy_week import WEEK, BusyWeek, busy_week
from .conftest import sign_in


@contextmanager
def counting() -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    engine = db.engine  # the test's app context (from the ``make`` fixture) is active
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def queries_for(app: Flask, week: BusyWeek, who: str, url: str) -> int:
    client = app.test_client()
    sign_in(client, getattr(week, who))
    with counting() as statements:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(statements)


PAGES: list[tuple[str, Callable[[BusyWeek], str]]] = [
    ("therapist", lambda w: f"/my/week?date={WEEK.isoformat()}"),
    ("therapist", lambda w: f"/my/day?date={WEEK.isoformat()}"),
    ("front_desk", lambda w: f"/staff/{w.therapist.id}/week?date={WEEK.isoformat()}"),
    ("front_desk", lambda w: f"/desk/day?location={w.location.id}&date={WEEK.isoformat()}"),
]


@pytest.mark.parametrize(("who", "url"), PAGES, ids=["my-week", "my-day", "staff-week", "desk"])
@pytest.mark.slow
def test_schedule_pages_query_count_does_not_grow(app, make, who, url):
    few = busy_week(make, 5)
    few_count = queries_for(app, few, who, url(few))
    many = busy_week(make, 60)
    many_count = queries_for(app, many, who, url(many))
    assert few_count == many_count, (few_count, many_count)
    assert few_count <= 20


@pytest.mark.slow
def test_patient_and_course_pages_query_count_does_not_grow(app, make):
    few = busy_week(make, 5, one_patient=True)
    many = busy_week(make, 60, one_patient=True)
    for url in (
        lambda w: f"/patients/{w.patients[0].id}",
        lambda w: f"/courses/{w.courses[0].id}",
    ):
        few_count = queries_for(app, few, "front_desk", url(few))
        many_count = queries_for(app, many, "front_desk", url(many))
        assert few_count == many_count, (url(few), few_count, many_count)
