"""What every page's layout needs: the navigation for the signed-in role, and the filters that
show times in a location's zone and enum values as words."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, current_app, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from ..auth import permissions
from ..auth.web import current_staff
from ..clock import now
from ..db import db
from ..integrity.check import OPEN
from ..models import Appointment
from .forms.auth import ActionForm


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    #: The endpoints (or endpoint prefixes ending in ".") under which the item is current.
    active_for: tuple[str, ...]
    #: A count shown next to the label when above zero, and what it counts (a noun, for
    #: screen readers).
    count: int = 0
    counted: str = ""

    @property
    def current(self) -> bool:
        endpoint = request.endpoint or ""
        return any(
            endpoint.startswith(name) if name.endswith(".") else endpoint == name
            for name in self.active_for
        )


def navigation() -> list[NavItem]:
    if not current_user.is_authenticated:
        return []
    actor = current_staff()
    items: list[NavItem] = []
    if permissions.can_book(actor):
        items.append(NavItem("Day view", url_for("front_desk.day"), ("front_desk.",)))
        items.append(
            NavItem(
                "Needs attention",
                url_for("needs_attention.index"),
                ("needs_attention.",),
                count=attention_count(),
                counted="session",
            )
        )
    if permissions.has_schedule(actor):
        items.append(NavItem("My day", url_for("schedule.day"), ("schedule.day",)))
        items.append(NavItem("My week", url_for("schedule.week"), ("schedule.week",)))
    items.append(
        NavItem("Patients", url_for("patient.index"), ("patient.", "course.", "appointment."))
    )
    if permissions.can_manage_clinic(actor):
        items.append(NavItem("Admin", url_for("admin.dashboard"), ("admin.",)))
    return items


def attention_count() -> int:
    """Open sessions flagged as needing attention: one COUNT on every page, so it leans on the
    index over ``attention_rule`` (flags are few; most rows are NULL there)."""
    statement = select(func.count(Appointment.id)).where(
        Appointment.attention_rule.is_not(None), Appointment.status.in_(OPEN)
    )
    return db.session.scalar(statement) or 0


def admin_navigation() -> list[NavItem]:
    """The admin area's own tabs."""
    entries = [
        ("Overview", "admin.dashboard", ("admin.dashboard",)),
        ("Protocols", "admin.protocols", ("admin.protocol",)),
        ("Locations", "admin.locations", ("admin.location", "admin.room", "admin.closure")),
        ("Staff", "admin.staff", ("admin.staff", "admin.working", "admin.time_off")),
        ("Reminder outbox", "admin.outbox", ("admin.outbox", "admin.reminder")),
        ("Audit log", "admin.audit", ("admin.audit",)),
    ]
    return [
        NavItem(label, url_for(endpoint), active)
        for label, endpoint, active in entries
        if endpoint in current_app.view_functions
    ]


def local(value: dt.datetime | None, zone: str | ZoneInfo, fmt: str = "%a %d %b %Y %H:%M") -> str:
    """An aware instant as wall-clock text in ``zone``."""
    if value is None:
        return ""
    tz = zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)
    return value.astimezone(tz).strftime(fmt)


#: Values that are abbreviations, not words (protocol routes).
ABBREVIATIONS = {"iv": "IV", "im": "IM", "intranasal_esketamine": "Intranasal esketamine"}


#: A rule a flagged session breaks, in a few words for a badge (``integrity.check`` names them).
RULE_WORDS = {
    "closure": "Clinic closed",
    "time_off": "Staff time off",
    "opening_hours": "Outside opening hours",
    "working_hours": "Outside working hours",
    "room": "Room not suitable",
    "staff_role": "Staff role missing",
    "overlap": "Double booking",
    "dosing_interval": "Doses too close",
    "other_course": "Among another course",
    "prerequisite": "Earlier session cancelled",
    "pair_missing": "Pair missing",
    "protocol": "Protocol spacing",
    "precondition": "Precondition missing",
}


def rule_words(rule: str | None) -> str:
    """``time_off`` → ``Staff time off``; ``precondition:rems_enrollment`` → its family's words."""
    if not rule:
        return ""
    family = rule.split(":", 1)[0]
    return RULE_WORDS.get(family) or label(family)


def number(value: float) -> str:
    """48.0 → 48, 1.5 → 1.5."""
    return f"{value:g}"


def label(value: Any) -> str:
    """``checked_in`` → ``Checked in``; enums by their value."""
    if value is None:
        return ""
    text = value.value if isinstance(value, enum.Enum) else str(value)
    if text in ABBREVIATIONS:
        return ABBREVIATIONS[text]
    text = text.replace("_", " ")
    return text[:1].upper() + text[1:]


def minutes(delta: dt.timedelta) -> int:
    return int(delta.total_seconds() // 60)


def template_globals() -> dict[str, Any]:
    return {
        "nav_items": navigation(),
        "admin_nav_items": admin_navigation,
        "clinic_name": current_app.config.get("CLINIC_NAME", "Ketamine Clinic"),
        "action_form": ActionForm,
        "staff": current_staff() if current_user.is_authenticated else None,
        "clock_now": now,
    }


def init_app(app: Flask) -> None:
    app.context_processor(template_globals)
    app.add_template_filter(local, "local")
    app.add_template_filter(label, "label")
    app.add_template_filter(minutes, "minutes")
    app.add_template_filter(number, "number")
    app.add_template_filter(rule_words, "rule_words")
