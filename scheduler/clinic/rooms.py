"""Rooms, chairs and telehealth lines."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..audit import Action
from ..errors import ValidationFailed
from ..models import Appointment, Location, Room, RoomKind
from ..signals import record_changed
from .editing import apply, audit, delete, exists, refuse_if_used, view

FIELDS = ("name", "kind", "location_id", "active", "video_url")


def snapshot(room: Room) -> dict[str, Any]:
    return view(room, FIELDS)


def create_room(session: Session, action: Action, data: Mapping[str, Any]) -> Room:
    room = Room(active=True)
    _apply(session, room, data)
    session.add(room)
    session.flush()
    audit(session, action, "room", room.id, None, snapshot(room), "create")
    record_changed(
        session, action, "room", None, snapshot(room), room_id=room.id, location_id=room.location_id
    )
    return room


def update_room(session: Session, action: Action, room: Room, data: Mapping[str, Any]) -> Room:
    if "location_id" in data and data["location_id"] != room.location_id:
        # Its appointments were planned in the old location's hours and time zone.
        refuse_if_used(
            session,
            "room",
            [("appointments", select(Appointment.id).where(Appointment.room_id == room.id))],
        )
    before = snapshot(room)
    _apply(session, room, data)
    session.flush()
    after = snapshot(room)
    if after != before:
        audit(session, action, "room", room.id, before, after, "update")
    record_changed(
        session, action, "room", before, after, room_id=room.id, location_id=room.location_id
    )
    return room


def delete_room(session: Session, action: Action, room: Room) -> None:
    refuse_if_used(
        session,
        "room",
        [("appointments", select(Appointment.id).where(Appointment.room_id == room.id))],
    )
    before = snapshot(room)
    audit(session, action, "room", room.id, before, None, "delete")
    delete(session, room, "room")
    record_changed(
        session, action, "room", before, None, room_id=room.id, location_id=room.location_id
    )


def _apply(session: Session, room: Room, data: Mapping[str, Any]) -> None:
    if "location_id" in data and not exists(session, Location, data["location_id"]):
        raise ValidationFailed({"location_id": f"no location {data['location_id']}"})
    apply(room, data, FIELDS)
    if room.kind == RoomKind.TELEHEALTH and not room.video_url:
        raise ValidationFailed({"video_url": "a telehealth room needs its video link"})
    if room.kind is None or room.location_id is None or not room.name:
        raise ValidationFailed({"room": "a room needs a name, a kind and a location"})
