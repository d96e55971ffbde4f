"""Fields every resource shares, strict enough that no input can reach the database unchecked.

PostgreSQL refuses NUL characters, integers past 2**31-1 and over-long varchars with an error
that would surface as a 500; these fields turn each into a 422 naming the field instead.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any
from zoneinfo import available_timezones

from marshmallow import (
    INCLUDE,
    Schema,
    ValidationError,
    fields,
    pre_load,
    validate,
    validates_schema,
)
from webargs.multidictproxy import MultiDictProxy
from werkzeug.datastructures import MultiDict

#: The largest id a 32-bit integer column holds.
MAX_ID = 2**31 - 1
#: Instants outside these years are typing mistakes, and near datetime's limits arithmetic fails.
MIN_YEAR, MAX_YEAR = 1900, 2200
MAX_PAGE_SIZE = 200

_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$")


def Id(*, strict: bool = True, **kwargs: Any) -> fields.Integer:
    """A row id: a positive 32-bit integer. ``strict=False`` for query strings."""
    return fields.Integer(strict=strict, validate=validate.Range(min=1, max=MAX_ID), **kwargs)


class Flag(fields.Boolean):
    """A JSON boolean: ``true`` or ``false`` only, not 0, 1 or "yes"."""

    truthy = {True}
    falsy = {False}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


def BoundedInt(minimum: int, maximum: int, *, strict: bool = True, **kwargs: Any) -> fields.Integer:
    return fields.Integer(
        strict=strict, validate=validate.Range(min=minimum, max=maximum), **kwargs
    )


class Text(fields.String):
    """A string without NUL characters, optionally stripped, with a maximum length."""

    def __init__(
        self, *, max_length: int, min_length: int = 0, strip: bool = True, **kwargs: Any
    ) -> None:
        given = kwargs.pop("validate", None) or []
        validators = list(given) if isinstance(given, list | tuple) else [given]
        self.length = validate.Length(min=min_length, max=max_length)
        validators.insert(0, self.length)
        super().__init__(validate=validators, **kwargs)
        self.strip = strip
        self.max_length = max_length

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text:
            raise ValidationError("must not contain NUL characters")
        # The document's maxLength is of what is sent, before any stripping.
        if len(text) > self.max_length:
            self.length(text)  # raises, with the same words as for a stripped text
        return text.strip() if self.strip else text


class Email(fields.Email):
    """An e-mail address, stored lower-case."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(validate=validate.Length(max=254), **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, str) and "\x00" in value:
            raise ValidationError("must not contain NUL characters")
        return super()._deserialize(value, attr, data, **kwargs).strip().lower()


class Instant(fields.AwareDateTime):
    """An ISO 8601 date-time with a UTC offset; naive input is refused. Loaded as aware UTC."""

    default_error_messages = {
        "invalid_awareness": "must include a UTC offset, e.g. 2026-03-03T09:00:00-05:00",
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="iso", **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dt.datetime:
        if isinstance(value, str) and "\x00" in value:
            raise ValidationError("must not contain NUL characters")
        moment = super()._deserialize(value, attr, data, **kwargs)
        if not MIN_YEAR <= moment.year <= MAX_YEAR:
            raise ValidationError(f"must lie between the years {MIN_YEAR} and {MAX_YEAR}")
        return moment.astimezone(dt.UTC)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        return value.astimezone(dt.UTC).isoformat()


class Day(fields.Date):
    """A calendar date within the years the clinic can plan for."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dt.date:
        if isinstance(value, str) and "\x00" in value:
            raise ValidationError("must not contain NUL characters")
        day = super()._deserialize(value, attr, data, **kwargs)
        if not MIN_YEAR <= day.year <= MAX_YEAR:
            raise ValidationError(f"must lie between the years {MIN_YEAR} and {MAX_YEAR}")
        return day


class LocalTime(fields.Field):
    """A wall-clock time 'HH:MM' (seconds allowed), without an offset: local to a location."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"type": "string", "pattern": _TIME.pattern, "example": "09:00"}
        metadata.update(kwargs.pop("metadata", {}))
        super().__init__(metadata=metadata, **kwargs)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        return value.strftime("%H:%M:%S" if value.second else "%H:%M")

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dt.time:
        match = _TIME.match(value) if isinstance(value, str) else None
        if match is None:
            raise ValidationError("must be a time as HH:MM (24-hour clock, no offset)")
        hour, minute, second = match.groups()
        return dt.time(int(hour), int(minute), int(second or 0))


@lru_cache(maxsize=1)
def known_timezones() -> frozenset[str]:
    return frozenset(available_timezones())


def _check_timezone(value: str) -> None:
    if value not in known_timezones():
        raise ValidationError("must be an IANA time zone such as America/New_York")


def Timezone(**kwargs: Any) -> Text:
    return Text(
        max_length=64,
        validate=[_check_timezone],
        metadata={"example": "America/New_York"},
        **kwargs,
    )


def Weekday(**kwargs: Any) -> fields.Integer:
    return fields.Integer(
        strict=True,
        validate=validate.Range(min=0, max=6),
        metadata={"description": "0 = Monday ... 6 = Sunday"},
        **kwargs,
    )


class ErrorSchema(Schema):
    """Every error answer: 400, 401, 403, 404, 405, 422, 429, 503."""

    class Meta:
        unknown = INCLUDE

    code = fields.Integer(required=True, metadata={"description": "HTTP status code"})
    status = fields.String(required=True, metadata={"description": "HTTP status phrase"})
    message = fields.String(required=True)
    errors = fields.Dict(
        metadata={
            "description": "Messages per field, under the location they were read from: "
            '{"json": {"starts_at": ["..."]}}'
        }
    )


class ConflictErrorSchema(ErrorSchema):
    """409: the booking rule that would be broken and what stands in the way."""

    rule = fields.String(
        required=True,
        metadata={
            "description": "overlap, opening_hours, working_hours, closure, time_off, room_kind, "
            "staff_role, status, check_in_day, no_show_time, revision, in_use, ..."
        },
    )
    conflicts = fields.List(fields.Dict(), required=True)


#: Fields of an update that say how to apply it, not what to change.
HOW_FIELDS = frozenset({"on_conflict"})


def updatable(schema_cls: type[Schema]) -> Schema:
    """An instance loading any subset of the top-level fields, nested items still complete;
    an update that changes nothing (no body, ``{}``) is refused naming the fields it may set."""
    names = tuple(name for name, field in schema_cls().fields.items() if not field.dump_only)

    class Update(schema_cls):  # type: ignore[valid-type,misc]
        @validates_schema
        def _changes_something(self, data: Mapping[str, Any], **_kwargs: Any) -> None:
            if not set(data) - HOW_FIELDS:
                settable = ", ".join(sorted(set(names) - HOW_FIELDS))
                raise ValidationError(f"give at least one field to change: {settable}", "_schema")

    Update.__name__ = schema_cls.__name__.removesuffix("Schema") + "ChangeSchema"
    Update.__qualname__ = Update.__name__
    return Update(partial=names)


#: Read, checked and documented by flask-smorest's ``@blp.paginate`` (``api/pagination.py``).
PAGING_PARAMETERS = frozenset({"page", "page_size"})


class PageQuerySchema(Schema):
    """Query-string base for paged listings: the operation's own parameters. The paging ones
    belong to ``@blp.paginate``; they are set aside here, so that any other parameter the
    operation does not declare is still a 422."""

    @pre_load
    def _leave_paging_to_paginate(self, data: Mapping[str, Any], **_kwargs: Any) -> Any:
        if isinstance(data, MultiDictProxy):
            # webargs' view of request.args: keep repeated values for list fields.
            pairs = data.data.items(multi=True)
            kept = MultiDict([(k, v) for k, v in pairs if k not in PAGING_PARAMETERS])
            return MultiDictProxy(kept, self)
        return {k: v for k, v in data.items() if k not in PAGING_PARAMETERS}


class ImpactChoiceSchema(Schema):
    """A change of clinic data that would break booked sessions: what to do about them."""

    on_conflict = fields.String(
        load_only=True,
        validate=validate.OneOf(["refuse", "replan", "flag"]),
        metadata={
            "description": "When the change would break booked sessions: refuse (default, 409 "
            "listing them), replan (each with its pair, atomically), or flag (save and list "
            "them as needing attention)"
        },
    )
