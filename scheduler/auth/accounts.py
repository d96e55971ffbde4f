"""Creating and updating staff sign-ins; shared by the CLI, the demo loader and admin pages."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..audit import Action, jsonable, record
from ..errors import ValidationFailed
from ..models import Role, StaffMember
from ..signals import record_changed
from .passwords import password_problem, set_password


def upsert_user(
    session: Session,
    action: Action,
    *,
    email: str,
    password: str,
    roles: Iterable[str],
    name: str | None = None,
) -> tuple[StaffMember, bool]:
    """Create the staff member with this e-mail, or update their password and roles.

    Returns the member and whether it was created. Running it twice changes nothing more.
    """
    email = email.strip().lower()
    if "@" not in email:
        raise ValidationFailed({"email": "not an e-mail address"})
    problem = password_problem(password, email=email)
    if problem:
        raise ValidationFailed({"password": problem})
    try:
        wanted = {Role(r) for r in roles}
    except ValueError:
        valid = ", ".join(r.value for r in Role)
        raise ValidationFailed({"role": f"each role must be one of: {valid}"}) from None
    if not wanted:
        raise ValidationFailed({"role": "give at least one role"})

    member = session.scalars(
        select(StaffMember).where(func.lower(StaffMember.email) == email)
    ).first()
    created = member is None
    before = None if created else _view(member)
    if member is None:
        member = StaffMember(email=email, name=name or email.split("@")[0].title())
        session.add(member)
    elif name:
        member.name = name
    member.set_roles(wanted)
    set_password(member, password)
    session.flush()
    record(
        session,
        action,
        "staff",
        member.id,
        before,
        _view(member),
        what="staff.create" if created else "staff.update",
    )
    record_changed(session, action, "staff", before, _view(member), staff_id=member.id)
    return member, created


def _view(member: StaffMember) -> dict[str, object]:
    return jsonable(
        {"name": member.name, "email": member.email, "roles": member.roles, "active": member.active}
    )
