"""Staff members with roles, working hours and time off: ``/api/staff``. Admins write;
passwords are write-only."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView
from sqlalchemy import select

from ..auth.api import current_actor
from ..auth.permissions import can_manage_clinic, require
from ..clinic.staff import create_staff, delete_staff, update_staff
from ..db import db, write_transaction
from ..integrity.impact import guarded_change, on_conflict_choice
from ..models import StaffMember, StaffRole, WorkingHours
from .access import action, get_or_404
from .blueprint import Blueprint
from .responses import errors
from .schemas.common import updatable
from .schemas.staff import StaffQuerySchema, StaffSchema, StaffUpdateSchema

blp = Blueprint(
    "staff",
    __name__,
    url_prefix="/api/staff",
    description="Staff members, their roles, working hours and time off",
)


@blp.route("")
class Staff(MethodView):
    @blp.arguments(StaffQuerySchema, location="query")
    @blp.response(200, StaffSchema(many=True))
    @errors(blp, 422)
    def get(self, query: dict[str, Any]) -> Any:
        """Staff, by name; filter by role, active, working location."""
        statement = select(StaffMember).order_by(StaffMember.name, StaffMember.id)
        if "role" in query:
            statement = statement.where(
                StaffMember.id.in_(
                    select(StaffRole.staff_id).where(StaffRole.role == query["role"])
                )
            )
        if "active" in query:
            statement = statement.where(StaffMember.active == query["active"])
        if "location_id" in query:
            statement = statement.where(
                StaffMember.id.in_(
                    select(WorkingHours.staff_id).where(
                        WorkingHours.location_id == query["location_id"]
                    )
                )
            )
        return db.session.scalars(statement).all()

    @blp.arguments(StaffSchema)
    @blp.response(201, StaffSchema)
    @errors(blp, 400, 403, 422)
    def post(self, data: dict[str, Any]) -> Any:
        """Add a staff member (admins). Without a password they cannot sign in yet."""
        require(can_manage_clinic(current_actor()), "manage staff")
        with write_transaction(db.session):
            member = create_staff(db.session, action("staff.create"), data)
        return member


@blp.route("/<int:staff_id>")
class StaffById(MethodView):
    @blp.response(200, StaffSchema)
    @errors(blp, 404)
    def get(self, staff_id: int) -> Any:
        """One staff member."""
        return get_or_404(StaffMember, staff_id, "staff member")

    @blp.arguments(updatable(StaffUpdateSchema))
    @blp.response(200, StaffSchema)
    @errors(blp, 400, 403, 404, 409, 422)
    def patch(self, data: dict[str, Any], staff_id: int) -> Any:
        """Change some fields; a list given replaces the stored one (admins)."""
        require(can_manage_clinic(current_actor()), "manage staff")
        with write_transaction(db.session):
            member = get_or_404(StaffMember, staff_id, "staff member")
            act = action("staff.update")
            choice = on_conflict_choice(data.pop("on_conflict", None))
            guarded_change(
                db.session, act, choice, lambda: update_staff(db.session, act, member, data)
            )
        return member

    @blp.response(204)
    @errors(blp, 403, 404, 409)
    def delete(self, staff_id: int) -> Response:
        """Remove a staff member without appointments; otherwise 409: deactivate (admins)."""
        require(can_manage_clinic(current_actor()), "manage staff")
        with write_transaction(db.session):
            member = get_or_404(StaffMember, staff_id, "staff member")
            delete_staff(db.session, action("staff.delete"), member)
        return Response(status=204)
