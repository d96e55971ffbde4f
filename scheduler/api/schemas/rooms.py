"""Rooms, chairs and telehealth lines."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from ...models import RoomKind
from .common import Flag, Id, ImpactChoiceSchema, Text


class RoomSchema(Schema):
    id = Id(dump_only=True)
    location_id = Id(required=True)
    name = Text(required=True, min_length=1, max_length=120)
    kind = fields.Enum(RoomKind, by_value=True, required=True)
    active = Flag(load_default=True)
    video_url = Text(
        max_length=500,
        allow_none=True,
        load_default=None,
        validate=[validate.URL(schemes={"https", "http"})],
        metadata={"description": "Telehealth rooms: the video link"},
    )


class RoomUpdateSchema(RoomSchema, ImpactChoiceSchema):
    pass


class RoomQuerySchema(Schema):
    location_id = Id(
        strict=False,
    )
    kind = fields.Enum(RoomKind, by_value=True)
    active = fields.Boolean()
