"""Rooms, chairs and telehealth lines: ``/api/rooms``. Admins write; deactivate rather than
delete a room with appointments."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView
from sqlalchemy import select

from ..auth.api import current_actor
from ..auth.permissions import can_manage_clinic, require
from ..clinic.rooms import create_room, delete_room, update_room
from ..db import db, write_transaction
from ..integrity.impact import guarded_change, on_conflict_choice
from ..models import Room
from .access import action, get_or_404
from .blueprint import Blueprint
from .responses import errors
from .schemas.common import updatable
from .schemas.rooms import RoomQuerySchema, RoomSchema, RoomUpdateSchema

blp = Blueprint(
    "rooms", __name__, url_prefix="/api/rooms", description="Rooms, chairs and telehealth lines"
)


@blp.route("")
class Rooms(MethodView):
    @blp.arguments(RoomQuerySchema, location="query")
    @blp.response(200, RoomSchema(many=True))
    @errors(blp, 422)
    def get(self, query: dict[str, Any]) -> Any:
        """Rooms, by location and name; filter by location, kind, active."""
        statement = select(Room).order_by(Room.location_id, Room.name, Room.id)
        if "location_id" in query:
            statement = statement.where(Room.location_id == query["location_id"])
        if "kind" in query:
            statement = statement.where(Room.kind == query["kind"])
        if "active" in query:
            statement = statement.where(Room.active == query["active"])
        return db.session.scalars(statement).all()

    @blp.arguments(RoomSchema)
    @blp.response(201, RoomSchema)
    @errors(blp, 400, 403, 422)
    def post(self, data: dict[str, Any]) -> Any:
        """Add a room (admins)."""
        require(can_manage_clinic(current_actor()), "manage rooms")
        with write_transaction(db.session):
            room = create_room(db.session, action("room.create"), data)
        return room


@blp.route("/<int:room_id>")
class RoomById(MethodView):
    @blp.response(200, RoomSchema)
    @errors(blp, 404)
    def get(self, room_id: int) -> Any:
        """One room."""
        return get_or_404(Room, room_id, "room")

    @blp.arguments(updatable(RoomUpdateSchema))
    @blp.response(200, RoomSchema)
    @errors(blp, 400, 403, 404, 409, 422)
    def patch(self, data: dict[str, Any], room_id: int) -> Any:
        """Change some fields; `active: false` takes it out of service (admins)."""
        require(can_manage_clinic(current_actor()), "manage rooms")
        with write_transaction(db.session):
            room = get_or_404(Room, room_id, "room")
            act = action("room.update")
            choice = on_conflict_choice(data.pop("on_conflict", None))
            guarded_change(
                db.session, act, choice, lambda: update_room(db.session, act, room, data)
            )
        return room

    @blp.response(204)
    @errors(blp, 403, 404, 409)
    def delete(self, room_id: int) -> Response:
        """Remove a room without appointments; otherwise 409 (admins)."""
        require(can_manage_clinic(current_actor()), "manage rooms")
        with write_transaction(db.session):
            room = get_or_404(Room, room_id, "room")
            delete_room(db.session, action("room.delete"), room)
        return Response(status=204)
