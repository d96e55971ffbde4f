"""Locations, with weekly opening hours and closures as nested lists."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from .common import Day, Flag, Id, ImpactChoiceSchema, LocalTime, Text, Timezone, Weekday


class OpeningHoursSchema(Schema):
    weekday = Weekday(required=True)
    opens = LocalTime(required=True)
    closes = LocalTime(required=True)


class ClosureSchema(Schema):
    id = fields.Integer(dump_only=True)
    starts_on = Day(required=True)
    ends_on = Day(required=True, metadata={"description": "Last closed day (inclusive)"})
    reason = Text(max_length=200, load_default="")


class LocationSchema(Schema):
    id = Id(dump_only=True)
    name = Text(required=True, min_length=1, max_length=120)
    timezone = Timezone(required=True)
    address = Text(max_length=300, load_default="")
    phone = Text(max_length=40, load_default="")
    active = Flag(load_default=True)
    opening_hours = fields.List(
        fields.Nested(OpeningHoursSchema),
        load_default=list,
        validate=validate.Length(max=50),
        metadata={"description": "Local opening intervals; a weekday without any is closed"},
    )
    closures = fields.List(
        fields.Nested(ClosureSchema),
        load_default=list,
        validate=validate.Length(max=500),
        metadata={"description": "Whole local days the location is closed"},
    )


class LocationUpdateSchema(LocationSchema, ImpactChoiceSchema):
    """Any subset of the fields (see ``updatable``); a list replaces the stored one."""
