"""Reminders: each appointment's messages with their status (anyone who may see the
appointment); failed deliveries, resending, the outbox and templates (admins)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from ..auth.api import current_actor
from ..auth.permissions import can_view_appointment, is_admin, require
from ..db import db, write_transaction
from ..models import Appointment, Reminder
from ..record_reads import note_read
from ..reminders import admin
from .access import action, get_or_404, visible_or_404
from .blueprint import Blueprint
from .responses import errors
from .schemas.common import updatable
from .schemas.reminders import (
    ListQuerySchema,
    OutboxMessageSchema,
    OutboxQuerySchema,
    ReminderSchema,
    ReminderTemplateSchema,
    ReminderTemplateUpdateSchema,
)

blp = Blueprint(
    "reminders",
    __name__,
    url_prefix="/api",
    description="Reminders and notices to patients: status, failures, the outbox, templates",
)


def _require_admin(what: str) -> None:
    require(is_admin(current_actor()), what)


@blp.route("/appointments/<int:appointment_id>/reminders")
class AppointmentReminders(MethodView):
    @blp.response(200, ReminderSchema(many=True))
    @errors(blp, 403, 404)
    def get(self, appointment_id: int) -> Any:
        """The messages about one appointment, in the order they go out, with their status."""
        appointment = get_or_404(Appointment, appointment_id, "appointment")
        visible_or_404(
            can_view_appointment(db.session, current_actor(), appointment),
            "appointment",
            appointment_id,
        )
        note_read(current_actor(), appointment.patient_id)
        return admin.list_for_appointment(db.session, appointment.id)


@blp.route("/reminders/failed")
class FailedReminders(MethodView):
    @blp.arguments(ListQuerySchema, location="query", unknown=None)
    @blp.response(200, ReminderSchema(many=True))
    @errors(blp, 403, 422)
    def get(self, query: dict[str, Any]) -> Any:
        """Deliveries that gave up, newest first (admins)."""
        _require_admin("see failed deliveries")
        return admin.list_failed(db.session, limit=query["limit"], offset=query["offset"])


@blp.route("/reminders/<int:reminder_id>/resend")
class ResendReminder(MethodView):
    @blp.response(200, ReminderSchema)
    @errors(blp, 403, 404, 409)
    def post(self, reminder_id: int) -> Any:
        """Queue a failed, skipped or sent message again, now (admins)."""
        _require_admin("resend reminders")
        get_or_404(Reminder, reminder_id, "reminder")  # ids past 32 bits: 404, not a 500
        with write_transaction(db.session):
            reminder = admin.resend(db.session, reminder_id, action("reminder.resend"))
        return reminder


@blp.route("/reminders/outbox")
class Outbox(MethodView):
    @blp.arguments(OutboxQuerySchema, location="query", unknown=None)
    @blp.response(200, OutboxMessageSchema(many=True))
    @errors(blp, 403, 422)
    def get(self, query: dict[str, Any]) -> Any:
        """Messages kept in the app instead of delivered (no SMTP server; SMS log backend)."""
        _require_admin("read the outbox")
        return admin.list_outbox(
            db.session, limit=query["limit"], offset=query["offset"], channel=query["channel"]
        )


@blp.route("/reminders/templates")
class Templates(MethodView):
    @blp.response(200, ReminderTemplateSchema(many=True))
    @errors(blp, 403)
    def get(self) -> Any:
        """Every reminder template with its current parts (admins)."""
        _require_admin("see reminder templates")
        return admin.list_templates(db.session)


@blp.route("/reminders/templates/<string:name>")
class TemplateByName(MethodView):
    @blp.response(200, ReminderTemplateSchema)
    @errors(blp, 403, 404)
    def get(self, name: str) -> Any:
        """One template (admins)."""
        _require_admin("see reminder templates")
        return admin.get_template(db.session, name)

    @blp.arguments(updatable(ReminderTemplateUpdateSchema))
    @blp.response(200, ReminderTemplateSchema)
    @errors(blp, 400, 403, 404, 422)
    def patch(self, data: dict[str, Any], name: str) -> Any:
        """Change parts of a template; an empty part returns to the packaged default (admins)."""
        _require_admin("edit reminder templates")
        with write_transaction(db.session):
            view = admin.update_template(db.session, name, action("reminder_template.update"), data)
        return view
