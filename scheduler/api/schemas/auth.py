"""Signing in for a bearer token."""

from __future__ import annotations

from marshmallow import Schema, fields

from .common import Instant, Text


class TokenRequestSchema(Schema):
    email = Text(required=True, min_length=1, max_length=254)
    password = Text(required=True, min_length=1, max_length=1024, strip=False, load_only=True)


class TokenSchema(Schema):
    token = fields.String(
        required=True,
        metadata={"description": "Shown once; send it as `Authorization: Bearer <token>`"},
    )
    token_type = fields.String(required=True, metadata={"enum": ["bearer"]})
    expires_at = Instant(required=True)
