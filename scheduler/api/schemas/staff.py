"""Staff members. The password is write-only; its hash is never part of any answer."""

from __future__ import annotations

from typing import Any

from flask import g
from marshmallow import Schema, fields, post_dump, validate

from ...auth.permissions import is_admin
from ...models import Role
from .common import Email, Flag, Id, ImpactChoiceSchema, Instant, LocalTime, Text, Weekday


class WorkingHoursSchema(Schema):
    location_id = Id(required=True)
    weekday = Weekday(required=True)
    starts = LocalTime(required=True)
    ends = LocalTime(required=True)


class TimeOffSchema(Schema):
    id = fields.Integer(dump_only=True)
    starts_at = Instant(required=True)
    ends_at = Instant(required=True)
    reason = Text(max_length=200, load_default="")


class RoleList(fields.List):
    """Roles as a sorted list (they are a set on the model)."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return super()._serialize(sorted(value or ()), attr, obj, **kwargs)


class StaffSchema(Schema):
    id = Id(dump_only=True)
    name = Text(required=True, min_length=1, max_length=120)
    email = Email(required=True)
    roles = RoleList(
        fields.Enum(Role, by_value=True),
        required=True,
        validate=validate.Length(min=1, max=len(Role)),
    )
    active = Flag(load_default=True)
    feed_full_names = Flag(load_default=False)
    password = Text(
        load_only=True,
        strip=False,
        min_length=15,
        max_length=256,
        metadata={
            "description": "Sets the sign-in password: at least 15 characters, not a common or "
            "easily guessed one, not the name or e-mail (NIST SP 800-63B); no other rules"
        },
    )
    working_hours = fields.List(
        fields.Nested(WorkingHoursSchema), load_default=list, validate=validate.Length(max=200)
    )
    time_off = fields.List(
        fields.Nested(TimeOffSchema), load_default=list, validate=validate.Length(max=500)
    )

    @post_dump(pass_original=True)
    def _private_to_others(self, data: dict[str, Any], member: Any, **_: Any) -> dict[str, Any]:
        """A colleague's e-mail, working hours and why they are away are theirs and the
        admins' to see; others see the name, roles and when they are away."""
        viewer = getattr(g, "actor", None)
        if viewer is None or is_admin(viewer) or viewer.id == getattr(member, "id", None):
            return data
        data.pop("email", None)
        data.pop("working_hours", None)
        for item in data.get("time_off") or ():
            item.pop("reason", None)
        return data


class StaffUpdateSchema(StaffSchema, ImpactChoiceSchema):
    pass


class StaffQuerySchema(Schema):
    role = fields.Enum(Role, by_value=True)
    active = fields.Boolean()
    location_id = Id(
        strict=False, metadata={"description": "Staff with working hours at this location"}
    )
