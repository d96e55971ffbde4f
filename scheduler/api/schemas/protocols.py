"""Protocols on the wire: the versioned document (see ``scheduler.protocols.schema``)."""

from __future__ import annotations

from marshmallow import Schema, fields

from ...models import Protocol, ProtocolVersion, Route
from ...protocols import version_document
from .common import Flag, Instant


class VersionSummarySchema(Schema):
    id = fields.Integer()
    number = fields.Integer()
    created_at = Instant()
    created_by_id = fields.Integer(allow_none=True)


class VersionSchema(VersionSummarySchema):
    protocol_id = fields.Integer()
    definition = fields.Function(
        version_document,
        metadata={
            "type": "object",
            "description": "The protocol document (see the request body of POST)",
        },
    )


def _current(protocol: Protocol) -> ProtocolVersion:
    return max(protocol.versions, key=lambda v: v.number)


class ProtocolSummarySchema(Schema):
    id = fields.Integer()
    name = fields.String()
    route = fields.Enum(Route, by_value=True)
    active = fields.Boolean()
    created_at = Instant()
    current_version = fields.Function(
        lambda p: VersionSummarySchema().dump(_current(p)),
        metadata={"type": "object", "description": "The version new courses are planned with"},
    )


class ProtocolSchema(ProtocolSummarySchema):
    definition = fields.Function(
        lambda p: version_document(_current(p)),
        metadata={"type": "object", "description": "The current version's document"},
    )
    versions = fields.List(fields.Nested(VersionSummarySchema))


class ProtocolActiveSchema(Schema):
    active = Flag(required=True, metadata={"description": "false retires it from new courses"})
