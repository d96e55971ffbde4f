"""The reminder outbox (messages kept in the app when no SMTP server is set up), failed
deliveries with resend, and the message templates; through ``scheduler.reminders.admin``."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response

from ...audit import Action
from ...auth import permissions
from ...auth.web import allowed, current_staff
from ...clock import now
from ...db import db, write_transaction
from ...errors import DomainError, ValidationFailed
from ...models import Appointment, Reminder, ReminderChannel, ReminderStatus
from ...reminders.admin import (
    failed_reminders,
    get_outbox_message,
    get_template,
    list_templates,
    outbox_messages,
    resend,
    update_template,
)
from ..forms.admin_reminders import TemplateForm
from ..forms.auth import ActionForm
from ..forms.fields import show_domain_errors
from ..query_params import MAX_ID, page_param, text_param
from .blueprint import bp

ADMIN = permissions.can_manage_clinic
PAGE_SIZE = 50


def action(name: str) -> Action:
    return Action(name, current_staff(), now())


@bp.get("/outbox")
@allowed(ADMIN, "read the reminder outbox")
def outbox() -> str:
    wanted = text_param("channel", 10)
    channel = ReminderChannel(wanted) if wanted in {c.value for c in ReminderChannel} else None
    query = outbox_messages(channel)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = page_param()
    messages = db.session.scalars(query.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    failed = db.session.scalars(
        failed_reminders()
        .options(
            joinedload(Reminder.patient),
            joinedload(Reminder.appointment).joinedload(Appointment.location),
        )
        .limit(100)
    ).all()
    counts = dict(
        db.session.execute(
            select(Reminder.status, func.count(Reminder.id)).group_by(Reminder.status)
        ).all()
    )
    return render_template(
        "admin/outbox.html",
        messages=messages,
        failed=failed,
        counts={s.value: counts.get(s, 0) for s in ReminderStatus},
        channel=channel,
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
    )


@bp.get("/outbox/<int:message_id>")
@allowed(ADMIN, "read the reminder outbox")
def outbox_message(message_id: int) -> str:
    message = get_outbox_message(db.session, message_id if message_id <= MAX_ID else 0)
    return render_template("admin/outbox_message.html", message=message)


@bp.post("/reminders/<int:reminder_id>/resend")
@allowed(ADMIN, "resend reminders")
def reminder_resend(reminder_id: int) -> Response:
    form = ActionForm()
    back = request.form.get("back", "")
    target = back if back.startswith("/") and not back.startswith("//") else url_for("admin.outbox")
    if form.validate_on_submit():
        try:
            with write_transaction(db.session):
                resend(
                    db.session,
                    reminder_id if reminder_id <= MAX_ID else 0,
                    action("reminder.resend"),
                )
        except DomainError as error:
            flash(error.message, "error")
        else:
            flash("The message is queued to go out again.", "success")
    return redirect(target)


@bp.get("/templates")
@allowed(ADMIN, "edit message templates")
def templates() -> str:
    return render_template("admin/templates.html", templates=list_templates(db.session))


@bp.route("/templates/<name>", methods=["GET", "POST"])
@allowed(ADMIN, "edit message templates")
def template(name: str) -> Response | tuple[str, int]:
    view = get_template(db.session, name[:40])
    form = TemplateForm(obj=view) if request.method == "GET" else TemplateForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            with write_transaction(db.session):
                update_template(db.session, view.name, action("template.update"), form.parts())
        except ValidationFailed as error:
            show_domain_errors(form, error.fields, error.message)
        else:
            flash("Template saved.", "success")
            return redirect(url_for("admin.template", name=view.name))
    status = 422 if request.method == "POST" else 200
    return render_template("admin/template.html", view=view, form=form), status
