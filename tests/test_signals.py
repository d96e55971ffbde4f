"""One change signal: booking and clinic records announce changes, listeners connect to them."""

from __future__ import annotations

import ast
import datetime as dt
import importlib.util
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from blinker import NamedSignal
from flask import Flask

import scheduler
from scheduler.audit import Action
from scheduler.booking import cancel_appointment, progress_appointment, reschedule_appointment
from scheduler.clinic.locations import update_location
from scheduler.clinic.staff import update_staff
from scheduler.db import write_transaction
from scheduler.feeds import invalidation
from scheduler.models import AppointmentKind
from scheduler.reminders import scheduling
from scheduler.signals import (
    AppointmentChange,
    ClinicDataChange,
    appointment_changed,
    clinic_data_changed,
)
from tests.conftest import NOW
from tests.factories import Factory

PACKAGE = Path(scheduler.__file__).parent
ACTION = Action("test", None, NOW)


@contextmanager
def caught(signal: NamedSignal) -> Iterator[list[tuple[Any, Any]]]:
    """Every (sender, change) the signal sends inside the block."""
    seen: list[tuple[Any, Any]] = []

    def receiver(sender: Any, *, change: Any) -> None:
        seen.append((sender, change))

    with signal.connected_to(receiver):
        yield seen


def test_each_booking_change_is_announced_once_with_its_kind(session, make: Factory) -> None:
    clinic = make.clinic()
    with caught(appointment_changed) as seen:
        appointment = make.appointment(clinic, kind=AppointmentKind.INTEGRATION, minutes=60)
    assert [(s, c.kind, c.appointment) for s, c in seen] == [(session, "created", appointment)]
    steps: list[tuple[str, Callable[[], object]]] = [
        (
            "rescheduled",
            lambda: reschedule_appointment(
                session,
                appointment,
                ACTION,
                starts_at=appointment.starts_at + dt.timedelta(hours=2),
            ),
        ),
        ("status", lambda: progress_appointment(session, appointment, ACTION, "confirm")),
        ("cancelled", lambda: cancel_appointment(session, appointment, ACTION, "patient asked")),
    ]
    for kind, step in steps:
        with caught(appointment_changed) as seen, write_transaction(session):
            step()
        assert len(seen) == 1
        change: AppointmentChange = seen[0][1]
        assert seen[0][0] is session
        assert (change.kind, change.appointment.id) == (kind, appointment.id)
        assert change.before is not None and change.action is ACTION


def test_a_move_to_the_same_place_and_time_announces_nothing(session, make: Factory) -> None:
    appointment = make.appointment(kind=AppointmentKind.INTEGRATION, minutes=60)
    with caught(appointment_changed) as seen, write_transaction(session):
        reschedule_appointment(session, appointment, ACTION, starts_at=appointment.starts_at)
    assert seen == []


def test_time_off_and_closures_are_announced_as_clinic_data(session, make: Factory) -> None:
    clinic = make.clinic()
    start = make.local(clinic.location, NOW.date() + dt.timedelta(days=3), 9)
    day = start.date()
    with caught(clinic_data_changed) as seen, write_transaction(session):
        update_staff(
            session,
            ACTION,
            clinic.therapist,
            {"time_off": [{"starts_at": start, "ends_at": start + dt.timedelta(hours=8)}]},
        )
        update_location(
            session, ACTION, clinic.location, {"closures": [{"starts_on": day, "ends_on": day}]}
        )
    changes: list[ClinicDataChange] = [c for _s, c in seen]
    assert all(s is session for s, _c in seen)
    assert [(c.what, c.kind, c.staff_id, c.location_id) for c in changes] == [
        ("time_off", "updated", clinic.therapist.id, None),
        ("closure", "updated", None, clinic.location.id),
    ]
    # Saving the same data again changes nothing, and says nothing.
    with caught(clinic_data_changed) as again, write_transaction(session):
        update_location(
            session, ACTION, clinic.location, {"closures": [{"starts_on": day, "ends_on": day}]}
        )
    assert again == []


def test_a_renamed_location_is_told_apart_from_its_hours(session, make: Factory) -> None:
    clinic = make.clinic()
    hours = [
        {"weekday": d, "opens": dt.time(13), "closes": dt.time(18)} for d in range(5)
    ]  # New York moved to 13:00
    with caught(clinic_data_changed) as seen, write_transaction(session):
        update_location(
            session, ACTION, clinic.location, {"name": "Midtown", "opening_hours": hours}
        )
    assert sorted((c.what, c.fields) for _s, c in seen) == [
        ("location", frozenset({"name"})),
        ("opening_hours", frozenset({"opening_hours"})),
    ]


def _imported_modules(path: Path, package: str) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = importlib.util.resolve_name("." * node.level + (node.module or ""), package)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def test_senders_import_none_of_their_listeners() -> None:
    """Booking and clinic code only know the signals, not who follows them (also under
    TYPE_CHECKING and inside functions: every import statement counts)."""
    for sender in ("booking", "clinic"):
        for path in sorted((PACKAGE / sender).glob("*.py")):
            imported = _imported_modules(path, f"scheduler.{sender}")
            listeners = {
                name
                for name in imported
                if name.startswith(("scheduler.feeds", "scheduler.reminders"))
            }
            assert not listeners, f"{path.name} imports {sorted(listeners)}"


def _ours(signal: NamedSignal) -> list[Callable[..., Any]]:
    modules = {scheduling.__name__, invalidation.__name__}
    return [r for r in signal.receivers_for(None) if r.__module__ in modules]


def test_reminders_then_feeds_connected_once_however_many_apps(
    fresh_app: Callable[..., Flask],
) -> None:
    for _ in range(3):
        fresh_app()
    assert _ours(appointment_changed) == [
        scheduling.on_appointment_change,
        invalidation.on_appointment_change,
    ]
    assert _ours(clinic_data_changed) == [
        scheduling.on_clinic_data_change,
        invalidation.on_clinic_data_change,
    ]
