"""When no plan exists: which step fails and why, the best partial plan, and alternatives."""

from __future__ import annotations

import datetime as dt

from scheduler.models import Role, RoomKind
from scheduler.planning import Preferences

from .builders import ClinicBuilder
from .conftest import local, plan

BLOCKED_FROM = dt.date(2026, 3, 10)


def _chairs_and_clinicians_never_together(clinic: ClinicBuilder, days: int = 8) -> None:
    """Chairs are free only in the mornings and clinicians only in the afternoons."""
    for offset in range(days):
        day = BLOCKED_FROM + dt.timedelta(days=offset)
        for room in clinic.rooms:
            if room.kind == RoomKind.INFUSION_CHAIR:
                clinic.book("room", room.id, clinic.at(day, 12), clinic.at(day, 18))
        for member in clinic.staff:
            if Role.CLINICIAN in member.roles:
                clinic.book("staff", member.id, clinic.at(day, 8), clinic.at(day, 12))


def test_names_the_step_and_why(clinic):
    _chairs_and_clinicians_never_together(clinic)
    p = plan(clinic, days=23)  # the planning window ends before a series after the gap fits
    assert not p.complete and p.failure is not None
    assert p.failure.message == (
        "Infusion 4 of 6: No infusion chair with a clinician free between Wed 11 Mar and "
        "Mon 16 Mar 2026."
    )
    assert p.failure.key == "dosing-4" and p.failure.exhausted


def test_returns_the_best_partial_plan_with_pairs(clinic):
    _chairs_and_clinicians_never_together(clinic)
    p = plan(clinic, days=23)
    keys = [a.key for a in p.appointments]
    assert keys[:2] == ["evaluation-1", "dosing-1"]
    assert {"dosing-1", "dosing-2", "dosing-3"} <= set(keys)
    assert {"integration-1", "integration-2", "integration-3"} <= set(keys)
    assert "dosing-4" not in keys


def test_offers_alternatives_saying_what_they_break(clinic):
    _chairs_and_clinicians_never_together(clinic)
    p = plan(clinic, days=23)
    assert p.failure is not None and p.failure.alternatives_for == "dosing-4"
    options = p.failure.alternatives
    assert len(options) == 3
    first = options[0]
    assert first.starts_at.astimezone(clinic.tz).date() == dt.date(2026, 3, 18)
    assert first.breaks == ("not 48 h to 7 days after Infusion 3 of 6",)
    assert len({o.starts_at.date() for o in options}) == 3


def test_a_later_start_is_found_when_the_window_allows(clinic):
    _chairs_and_clinicians_never_together(clinic)
    p = plan(clinic, days=60)
    assert p.complete
    doses = [local(p, a.key).date() for a in p.appointments if a.step_key == "dosing"]
    assert doses[0] >= dt.date(2026, 3, 18)


def test_the_planning_window_as_the_reason(clinic):
    p = plan(clinic, days=10)
    assert not p.complete and p.failure is not None
    assert "after the end of the planning window" in p.failure.message


def test_no_room_of_the_kind(clinic: ClinicBuilder):
    clinic.rooms = [r for r in clinic.rooms if r.kind != RoomKind.INFUSION_CHAIR]
    p = plan(clinic)
    assert p.failure is not None
    assert "Midtown has no infusion chair in service" in p.failure.message


def test_preferences_as_the_reason(clinic):
    p = plan(clinic, prefs=Preferences(weekdays=frozenset({5, 6})))
    assert p.failure is not None
    assert p.failure.message.startswith("Midtown is closed on Saturdays and Sundays.")
    assert p.status == "impossible" and p.failure.reasons[0].code == "closed_days"
    assert p.failure.reasons[0].change == {"weekdays": None}
