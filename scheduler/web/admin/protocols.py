"""Treatment protocols: read them, create one, edit one (every edit is a new version, so booked
courses keep theirs), retire or bring back; through ``scheduler.protocols``.

A protocol is edited as its JSON document; the protocol's own validation names each problem by
its field path ("steps.1.phases.0.max_gap") and says why the protocol cannot be planned.
"""

from __future__ import annotations

import json
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from ...audit import Action
from ...auth import permissions
from ...auth.web import allowed, current_staff
from ...clock import now
from ...db import db, write_transaction
from ...errors import ValidationFailed
from ...models import Course, Protocol, ProtocolVersion
from ...protocols import (
    SEED_PROTOCOLS,
    add_version,
    create_protocol,
    current_version,
    definition_of,
    get_protocol,
    set_active,
    version_document,
)
from ..forms.admin_protocols import ProtocolForm
from ..forms.auth import ActionForm
from ..query_params import MAX_ID
from .blueprint import bp

ADMIN = permissions.can_manage_clinic
WHAT = "manage protocols"


def action(name: str) -> Action:
    return Action(name, current_staff(), now())


def pretty(document: Any) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False)


@bp.get("/protocols")
@allowed(ADMIN, WHAT)
def protocols() -> str:
    rows = db.session.scalars(
        select(Protocol).options(selectinload(Protocol.versions)).order_by(Protocol.name)
    ).all()
    in_use = dict(
        db.session.execute(
            select(ProtocolVersion.protocol_id, func.count(Course.id))
            .join(Course, Course.protocol_version_id == ProtocolVersion.id)
            .group_by(ProtocolVersion.protocol_id)
        ).all()
    )
    summaries = {p.id: definition_of(p.versions[-1]) for p in rows if p.versions}
    return render_template("admin/protocols.html", rows=rows, summaries=summaries, in_use=in_use)


def document_from(form: ProtocolForm) -> Any:
    """The JSON the admin typed, or a field error saying where it stops being JSON."""
    try:
        return json.loads(form.document.data or "")
    except json.JSONDecodeError as error:
        form.document.errors = [
            *form.document.errors,
            f"Not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})",
        ]
        return None


def problems_of(error: ValidationFailed) -> list[tuple[str, str]]:
    return [(path, m) for path, messages in error.fields.items() for m in messages]


@bp.route("/protocols/new", methods=["GET", "POST"])
@allowed(ADMIN, WHAT)
def protocol_new() -> Response | tuple[str, int]:
    form = ProtocolForm()
    problems: list[tuple[str, str]] = []
    if request.method == "GET":
        starter = dict(SEED_PROTOCOLS[0])
        starter["name"] = "New protocol"
        form.document.data = pretty(starter)
    elif form.validate_on_submit():
        document = document_from(form)
        if document is not None:
            try:
                with write_transaction(db.session):
                    protocol = create_protocol(db.session, action("protocol.create"), document)
            except ValidationFailed as error:
                problems = problems_of(error)
            else:
                flash(f"{protocol.name} created.", "success")
                return redirect(url_for("admin.protocol", protocol_id=protocol.id))
    status = 422 if request.method == "POST" else 200
    return render_template(
        "admin/protocol_edit.html", form=form, protocol=None, problems=problems
    ), status


def load(protocol_id: int) -> Protocol:
    return get_protocol(db.session, protocol_id if protocol_id <= MAX_ID else 0)


@bp.get("/protocols/<int:protocol_id>")
@allowed(ADMIN, WHAT)
def protocol(protocol_id: int) -> str:
    protocol = load(protocol_id)
    version = current_version(db.session, protocol)
    versions = db.session.scalars(
        select(ProtocolVersion)
        .where(ProtocolVersion.protocol_id == protocol.id)
        .order_by(ProtocolVersion.number.desc())
    ).all()
    return render_template(
        "admin/protocol.html",
        protocol=protocol,
        version=version,
        definition=definition_of(version),
        versions=versions,
        document=pretty(version_document(version)),
    )


@bp.route("/protocols/<int:protocol_id>/edit", methods=["GET", "POST"])
@allowed(ADMIN, WHAT)
def protocol_edit(protocol_id: int) -> Response | tuple[str, int]:
    protocol = load(protocol_id)
    form = ProtocolForm()
    problems: list[tuple[str, str]] = []
    if request.method == "GET":
        form.document.data = pretty(version_document(current_version(db.session, protocol)))
    elif form.validate_on_submit():
        document = document_from(form)
        if document is not None:
            try:
                with write_transaction(db.session):
                    version = add_version(
                        db.session, action("protocol.new_version"), protocol, document
                    )
            except ValidationFailed as error:
                db.session.rollback()
                problems = problems_of(error)
            else:
                flash(f"Saved as version {version.number}. Booked courses keep theirs.", "success")
                return redirect(url_for("admin.protocol", protocol_id=protocol.id))
    status = 422 if request.method == "POST" else 200
    return render_template(
        "admin/protocol_edit.html", form=form, protocol=protocol, problems=problems
    ), status


@bp.post("/protocols/<int:protocol_id>/active")
@allowed(ADMIN, WHAT)
def protocol_active(protocol_id: int) -> Response:
    protocol = load(protocol_id)
    form = ActionForm()
    if form.validate_on_submit():
        active = request.form.get("active") == "1"
        with write_transaction(db.session):
            set_active(db.session, action("protocol.active"), protocol, active)
        flash("Protocol offered for new courses." if active else "Protocol retired.", "success")
    return redirect(url_for("admin.protocol", protocol_id=protocol.id))
