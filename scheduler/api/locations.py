"""Locations: ``/api/locations`` with nested opening hours and closures. Admins write."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView
from sqlalchemy import select

from ..auth.api import current_actor
from ..auth.permissions import can_manage_clinic, require
from ..clinic.locations import create_location, delete_location, update_location
from ..db import db, write_transaction
from ..integrity.impact import guarded_change, on_conflict_choice
from ..models import Location
from .access import action, get_or_404
from .blueprint import Blueprint
from .responses import errors
from .schemas.common import updatable
from .schemas.locations import LocationSchema, LocationUpdateSchema

blp = Blueprint(
    "locations",
    __name__,
    url_prefix="/api/locations",
    description="Clinic locations, their time zone, opening hours and closures",
)


@blp.route("")
class Locations(MethodView):
    @blp.response(200, LocationSchema(many=True))
    @errors(blp)
    def get(self) -> Any:
        """All locations, by name."""
        return db.session.scalars(select(Location).order_by(Location.name, Location.id)).all()

    @blp.arguments(LocationSchema)
    @blp.response(201, LocationSchema)
    @errors(blp, 400, 403, 422)
    def post(self, data: dict[str, Any]) -> Any:
        """Add a location (admins)."""
        require(can_manage_clinic(current_actor()), "manage locations")
        with write_transaction(db.session):
            location = create_location(db.session, action("location.create"), data)
        return location


@blp.route("/<int:location_id>")
class LocationById(MethodView):
    @blp.response(200, LocationSchema)
    @errors(blp, 404)
    def get(self, location_id: int) -> Any:
        """One location."""
        return get_or_404(Location, location_id, "location")

    @blp.arguments(updatable(LocationUpdateSchema))
    @blp.response(200, LocationSchema)
    @errors(blp, 400, 403, 404, 422)
    def patch(self, data: dict[str, Any], location_id: int) -> Any:
        """Change some fields; a list given replaces the stored list (admins)."""
        require(can_manage_clinic(current_actor()), "manage locations")
        with write_transaction(db.session):
            location = get_or_404(Location, location_id, "location")
            act = action("location.update")
            choice = on_conflict_choice(data.pop("on_conflict", None))
            guarded_change(
                db.session, act, choice, lambda: update_location(db.session, act, location, data)
            )
        return location

    @blp.response(204)
    @errors(blp, 403, 404, 409)
    def delete(self, location_id: int) -> Response:
        """Remove a location nothing refers to; otherwise 409: deactivate it instead (admins)."""
        require(can_manage_clinic(current_actor()), "manage locations")
        with write_transaction(db.session):
            location = get_or_404(Location, location_id, "location")
            delete_location(db.session, action("location.delete"), location)
        return Response(status=204)
