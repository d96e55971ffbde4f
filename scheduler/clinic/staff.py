"""Staff members: roles, weekly working hours per location, time off, sign-in password."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..audit import Action
from ..auth.bearer_tokens import revoke_all
from ..auth.passwords import password_problem, set_password
from ..errors import Conflict, ValidationFailed
from ..models import AppointmentStaff, Location, Role, StaffMember, StaffRole, TimeOff, WorkingHours
from ..signals import record_changed
from .editing import apply, audit, delete, refuse_if_used, require_unique, view
from .weekly import check_intervals

FIELDS = ("name", "email", "active", "feed_full_names")


def snapshot(member: StaffMember) -> dict[str, Any]:
    # Never the password hash.
    return view(
        member,
        FIELDS,
        roles=member.roles,
        working_hours=[(h.location_id, h.weekday, h.starts, h.ends) for h in member.working_hours],
        time_off=[(t.starts_at, t.ends_at, t.reason) for t in member.time_off],
    )


def create_staff(session: Session, action: Action, data: Mapping[str, Any]) -> StaffMember:
    member = StaffMember(active=True, feed_full_names=False)
    if not data.get("roles"):
        raise ValidationFailed({"roles": "give at least one role"})
    _apply(session, member, data)
    session.add(member)
    session.flush()
    audit(session, action, "staff", member.id, None, snapshot(member), "create")
    record_changed(session, action, "staff", None, snapshot(member), staff_id=member.id)
    return member


def update_staff(
    session: Session, action: Action, member: StaffMember, data: Mapping[str, Any]
) -> StaffMember:
    before = snapshot(member)
    password_changed = bool(data.get("password"))
    _apply(session, member, data)
    session.flush()
    _keep_an_admin(session, member)
    after = snapshot(member)
    if password_changed or any(after[k] != before[k] for k in ("roles", "active")):
        # What the account may do changed: nothing issued before keeps working, including a
        # token of a deactivated account that is later reactivated.
        end_sessions(session, member, action.now)
    if after != before or password_changed:
        audit(session, action, "staff", member.id, before, after, "update")
    record_changed(session, action, "staff", before, after, staff_id=member.id)
    return member


def delete_staff(session: Session, action: Action, member: StaffMember) -> None:
    refuse_if_used(
        session,
        "staff member",
        [
            (
                "appointments",
                select(AppointmentStaff.staff_id).where(AppointmentStaff.staff_id == member.id),
            )
        ],
    )
    if Role.ADMIN in member.roles and member.active and _active_admins(session) <= 1:
        raise Conflict("The last active admin cannot be removed", rule="last_admin")
    before = snapshot(member)
    audit(session, action, "staff", member.id, before, None, "delete")
    delete(session, member, "staff member")
    record_changed(session, action, "staff", before, None, staff_id=member.id)


def end_sessions(session: Session, member: StaffMember, now: dt.datetime) -> None:
    """End every signed-in session and revoke every API token of ``member``."""
    member.session_generation = (member.session_generation or 0) + 1
    revoke_all(session, member.id, now)


def _apply(session: Session, member: StaffMember, data: Mapping[str, Any]) -> None:
    if "email" in data:
        require_unique(
            session,
            select(StaffMember).where(func.lower(StaffMember.email) == data["email"].lower()),
            "email",
            "another staff member has this e-mail address",
            current_id=member.id,
        )
    apply(member, data, FIELDS)
    if "roles" in data:
        if not data["roles"]:
            raise ValidationFailed({"roles": "give at least one role"})
        member.set_roles({Role(r) for r in data["roles"]})
    if data.get("password"):
        problem = password_problem(
            data["password"], email=data.get("email") or member.email or "", name=member.name or ""
        )
        if problem:
            raise ValidationFailed({"password": problem})
        set_password(member, data["password"])
    if "working_hours" in data:
        member.working_hours = _working_hours(session, data["working_hours"])
    if "time_off" in data:
        member.time_off = _time_off(data["time_off"])


def _working_hours(session: Session, items: Sequence[Mapping[str, Any]]) -> list[WorkingHours]:
    location_ids = {i["location_id"] for i in items}
    if location_ids:
        found = set(session.scalars(select(Location.id).where(Location.id.in_(location_ids))))
        missing = sorted(location_ids - found)
        if missing:
            raise ValidationFailed({"working_hours": f"no location {missing[0]}"})
    check_intervals(
        "working_hours", [(i["location_id"], i["weekday"], i["starts"], i["ends"]) for i in items]
    )
    return [
        WorkingHours(
            location_id=i["location_id"], weekday=i["weekday"], starts=i["starts"], ends=i["ends"]
        )
        for i in sorted(items, key=lambda i: (i["location_id"], i["weekday"], i["starts"]))
    ]


def _time_off(items: Sequence[Mapping[str, Any]]) -> list[TimeOff]:
    for item in items:
        if item["starts_at"] >= item["ends_at"]:
            raise ValidationFailed({"time_off": "time off must end after it starts"})
    return [
        TimeOff(starts_at=i["starts_at"], ends_at=i["ends_at"], reason=i.get("reason", ""))
        for i in sorted(items, key=lambda i: i["starts_at"])
    ]


def _active_admins(session: Session) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(StaffMember)
            .join(StaffRole, StaffRole.staff_id == StaffMember.id)
            .where(StaffRole.role == Role.ADMIN, StaffMember.active)
        )
        or 0
    )


def _keep_an_admin(session: Session, member: StaffMember) -> None:
    """Someone must be able to sign in and manage staff: refuse to demote the last admin."""
    if _active_admins(session) == 0:
        raise Conflict(
            "This change would leave the clinic without an active admin", rule="last_admin"
        )


def home_location_id(hours: list[WorkingHours]) -> int | None:
    """The location where someone works the most weekly intervals."""
    counts: dict[int, int] = {}
    for h in hours:
        counts[h.location_id] = counts.get(h.location_id, 0) + 1
    return max(counts, key=lambda k: (counts[k], -k)) if counts else None
