"""Locations with their weekly opening hours and closures."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..audit import Action
from ..errors import ValidationFailed
from ..models import Appointment, Closure, Course, Location, OpeningHours, Room, WorkingHours
from ..signals import record_changed
from .editing import apply, audit, delete, refuse_if_used, require_unique, view
from .weekly import check_intervals, check_timezone

FIELDS = ("name", "timezone", "address", "phone", "active")


def snapshot(location: Location) -> dict[str, Any]:
    return view(
        location,
        FIELDS,
        opening_hours=[(h.weekday, h.opens, h.closes) for h in location.opening_hours],
        closures=[(c.starts_on, c.ends_on, c.reason) for c in location.closures],
    )


def create_location(session: Session, action: Action, data: Mapping[str, Any]) -> Location:
    location = Location(address="", phone="", active=True)
    _apply(session, location, data)
    session.add(location)
    session.flush()
    audit(session, action, "location", location.id, None, snapshot(location), "create")
    record_changed(session, action, "location", None, snapshot(location), location_id=location.id)
    return location


def update_location(
    session: Session, action: Action, location: Location, data: Mapping[str, Any]
) -> Location:
    before = snapshot(location)
    _apply(session, location, data)
    session.flush()
    after = snapshot(location)
    if after != before:
        audit(session, action, "location", location.id, before, after, "update")
    record_changed(session, action, "location", before, after, location_id=location.id)
    return location


def delete_location(session: Session, action: Action, location: Location) -> None:
    refuse_if_used(
        session,
        "location",
        [
            ("appointments", select(Appointment.id).where(Appointment.location_id == location.id)),
            ("rooms", select(Room.id).where(Room.location_id == location.id)),
            ("courses", select(Course.id).where(Course.location_id == location.id)),
            (
                "staff working hours",
                select(WorkingHours.id).where(WorkingHours.location_id == location.id),
            ),
        ],
    )
    before = snapshot(location)
    audit(session, action, "location", location.id, before, None, "delete")
    delete(session, location, "location")
    record_changed(session, action, "location", before, None, location_id=location.id)


def _apply(session: Session, location: Location, data: Mapping[str, Any]) -> None:
    if "name" in data:
        require_unique(
            session,
            select(Location).where(func.lower(Location.name) == data["name"].lower()),
            "name",
            "another location has this name",
            current_id=location.id,
        )
        if not data["name"]:
            raise ValidationFailed({"name": "must not be empty"})
    if "timezone" in data:
        check_timezone("timezone", data["timezone"])
    apply(location, data, FIELDS)
    if "opening_hours" in data:
        location.opening_hours = _opening_hours(data["opening_hours"])
    if "closures" in data:
        location.closures = _closures(data["closures"])


def _opening_hours(items: Sequence[Mapping[str, Any]]) -> list[OpeningHours]:
    check_intervals("opening_hours", [(None, i["weekday"], i["opens"], i["closes"]) for i in items])
    return [
        OpeningHours(weekday=i["weekday"], opens=i["opens"], closes=i["closes"])
        for i in sorted(items, key=lambda i: (i["weekday"], i["opens"]))
    ]


def _closures(items: Sequence[Mapping[str, Any]]) -> list[Closure]:
    for item in items:
        if item["starts_on"] > item["ends_on"]:
            raise ValidationFailed({"closures": "a closure must end on or after its first day"})
    return [
        Closure(starts_on=i["starts_on"], ends_on=i["ends_on"], reason=i.get("reason", ""))
        for i in sorted(items, key=lambda i: i["starts_on"])
    ]
