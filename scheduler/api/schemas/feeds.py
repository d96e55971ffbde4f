"""Calendar-feed links: their state, and a newly issued link (shown once)."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from ...models import FeedOwnerKind
from .common import Id, Instant


class FeedStatusSchema(Schema):
    owner_kind = fields.Enum(FeedOwnerKind, by_value=True, required=True)
    owner_id = Id(required=True)
    active = fields.Boolean(
        required=True, metadata={"description": "Whether a subscribe link is live"}
    )
    created_at = Instant(allow_none=True, metadata={"description": "When the live link was issued"})


class FeedLinkSchema(FeedStatusSchema):
    url = fields.String(
        required=True,
        metadata={
            "description": "The subscribe URL (https). Shown only now: the clinic keeps just a "
            "hash of it. Rotate again for a new link if this one is lost."
        },
    )
    webcal_url = fields.String(
        required=True,
        metadata={
            "description": "The same link as webcal://, which opens the "
            "calendar app's subscribe dialog"
        },
    )
    qr_svg = fields.String(
        allow_none=True,
        metadata={
            "description": "Patients' links: a QR code of the webcal link, as an SVG data URI"
        },
    )


class IcsQuerySchema(Schema):
    class Meta:
        unknown = RAISE

    view = fields.String(
        load_default="patient",
        validate=validate.OneOf(["patient", "staff"]),
        metadata={
            "description": "patient: as the patient sees it (their privacy level, reminders); "
            "staff: as you see it in your own feed"
        },
    )
