"""The audit log: who changed what and when, with the state before and after, filtered."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask import render_template, request
from sqlalchemy import Select, func, select

from ...auth import permissions
from ...auth.web import allowed
from ...db import db
from ...models import AuditEntry, StaffMember
from ..query_params import day_param, id_param, page_param, text_param
from .blueprint import bp

PAGE_SIZE = 50


@dataclass(frozen=True)
class Change:
    key: str
    before: Any
    after: Any


def changes(entry: AuditEntry) -> list[Change]:
    """The fields that differ between before and after (all of them on create or delete)."""
    before = entry.before or {}
    after = entry.after or {}
    keys = sorted(set(before) | set(after))
    return [Change(k, before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)]


def filtered(query: Select[tuple[AuditEntry]]) -> tuple[Select[tuple[AuditEntry]], dict[str, Any]]:
    filters: dict[str, Any] = {
        "actor": id_param("actor"),
        "action": text_param("action", 64),
        "entity": text_param("entity", 40),
        "entity_id": id_param("entity_id"),
        "from": day_param("from"),
        "to": day_param("to"),
        "group": text_param("group", 36),
    }
    if filters["actor"]:
        query = query.where(AuditEntry.actor_id == filters["actor"])
    if filters["action"]:
        query = query.where(AuditEntry.action == filters["action"])
    if filters["entity"]:
        query = query.where(AuditEntry.entity_type == filters["entity"])
    if filters["entity_id"]:
        query = query.where(AuditEntry.entity_id == filters["entity_id"])
    if filters["from"]:
        start = dt.datetime.combine(filters["from"], dt.time(0), dt.UTC)
        query = query.where(AuditEntry.at >= start)
    if filters["to"]:
        end = dt.datetime.combine(filters["to"] + dt.timedelta(days=1), dt.time(0), dt.UTC)
        query = query.where(AuditEntry.at < end)
    if filters["group"]:
        query = query.where(AuditEntry.action_id == filters["group"])
    return query, filters


@bp.get("/audit")
@allowed(permissions.can_manage_clinic, "read the audit log")
def audit() -> str:
    query, filters = filtered(select(AuditEntry))
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = page_param()
    entries = db.session.scalars(
        query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    actions = db.session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action))
    entities = db.session.scalars(
        select(AuditEntry.entity_type).distinct().order_by(AuditEntry.entity_type)
    )
    staff = db.session.execute(select(StaffMember.id, StaffMember.name).order_by(StaffMember.name))
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template(
        "admin/audit.html",
        entries=[(e, changes(e)) for e in entries],
        filters=filters,
        actions=list(actions),
        entities=list(entities),
        staff_choices=list(staff),
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        args=args,
    )
