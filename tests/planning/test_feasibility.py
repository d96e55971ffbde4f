"""Requests that can never fit are refused before the search, with the cause in the clinic's
words and the change that would help; the change, applied, plans."""

from __future__ import annotations

import datetime as dt

from scheduler.models import Role
from scheduler.planning import Preferences
from scheduler.protocols.seed import BOOSTER

from .builders import ClinicBuilder
from .conftest import plan

MONDAYS = frozenset({0})


def _reason(p):  # type: ignore[no-untyped-def]
    assert p.status == "impossible" and p.failure is not None
    assert p.checks == 0, "refused before the search"
    return p.failure.reasons[0]


def test_closed_days_are_named(clinic: ClinicBuilder) -> None:
    reason = _reason(plan(clinic, prefs=Preferences(weekdays=frozenset({6}))))
    assert reason.cause == "Midtown is closed on Sundays."
    assert reason.fix == "Ask for Monday, Tuesday, Wednesday, Thursday or Friday."


def test_a_session_that_cannot_end_by_the_latest_time(clinic: ClinicBuilder) -> None:
    reason = _reason(plan(clinic, prefs=Preferences(latest_time=dt.time(9))))
    assert reason.code == "latest_time" and reason.step == "dosing-1"
    assert reason.cause == "A 100-minute infusion can't end by 09:00; the earliest end is 09:40."
    assert reason.change == {"latest_time": "09:40"}
    assert plan(clinic, prefs=Preferences(latest_time=dt.time(9, 40))).complete


def test_a_session_that_cannot_start_at_the_earliest_time(clinic: ClinicBuilder) -> None:
    reason = _reason(plan(clinic, prefs=Preferences(earliest_time=dt.time(17))))
    assert reason.code == "earliest_time"
    assert reason.cause == (
        "A 100-minute infusion can't start at 17:00 or later; the latest start is 16:15."
    )
    assert plan(clinic, prefs=Preferences(earliest_time=dt.time(16, 15))).complete


def test_a_pairing_window_that_never_meets_the_preferred_days(clinic: ClinicBuilder) -> None:
    # Integration 18-72 h after a Monday infusion is Tuesday to Thursday: never a Monday.
    p = plan(clinic, BOOSTER, prefs=Preferences(weekdays=MONDAYS))
    reason = _reason(p)
    assert reason.code == "protocol_days" and reason.step == "integration-1"
    assert reason.cause == (
        "Integration session 1 must be 18 h to 72 h after the end of Infusion 1; with Mondays "
        "only there is no such day."
    )
    assert reason.fix is not None and reason.fix.startswith("Allow Tuesday, Wednesday, Thursday")
    allowed = Preferences(weekdays=frozenset(reason.change["weekdays"]))
    assert plan(clinic, BOOSTER, prefs=allowed).complete


def test_nobody_working_on_the_preferred_days(clinic: ClinicBuilder) -> None:
    for member in clinic.staff:
        if Role.THERAPIST in member.roles:
            member.working_hours = [h for h in member.working_hours if h.weekday != 2]
    p = plan(clinic, BOOSTER, prefs=Preferences(weekdays=frozenset({2})))
    reason = _reason(p)
    assert reason.code == "no_staff_on_days"
    assert reason.cause.startswith("No therapist works at Midtown on Wednesdays")


def test_a_request_that_fits_is_left_to_the_search(clinic: ClinicBuilder) -> None:
    p = plan(clinic, prefs=Preferences(weekdays=frozenset({0, 2, 4})))
    assert p.complete and p.status == "complete" and p.checks > 0
