"""Signing in and out of the API: ``/api/auth/token`` and who the token belongs to."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Response, abort, current_app

from ..auth.api import bearer_token, current_actor, public
from ..auth.bearer_tokens import issue_token, revoke_token
from ..auth.passwords import authenticate
from ..auth.sign_in_limits import (
    account,
    account_and_address,
    per_account_limit,
    per_address_limit,
)
from ..clock import now
from ..db import db, write_transaction
from ..extensions import limiter
from .blueprint import Blueprint
from .responses import errors
from .schemas.auth import TokenRequestSchema, TokenSchema
from .schemas.staff import StaffSchema

blp = Blueprint("auth", __name__, url_prefix="/api/auth", description="Bearer tokens for the API")


def _failed(response: Response) -> bool:
    return response.status_code == 401


@blp.route("/token", methods=["POST"])
@public
@limiter.limit(per_address_limit, key_func=account_and_address, deduct_when=_failed)
@limiter.limit(per_account_limit, key_func=account, deduct_when=_failed)
@blp.arguments(TokenRequestSchema)
@blp.response(201, TokenSchema)
@errors(blp, 400, 401, 422, 429, public=True, _401="Unknown e-mail address or wrong password")
@blp.doc(security=[])
def sign_in(credentials: dict[str, Any]) -> dict[str, Any]:
    """Exchange a staff e-mail and password for a bearer token.

    Only failed attempts count: per account and address, and per account from anywhere
    (SIGN_IN_RATE_LIMIT, SIGN_IN_ACCOUNT_RATE_LIMIT); others' failures from your address
    never count against you.
    """
    member = authenticate(db.session, credentials["email"], credentials["password"])
    if member is None:
        abort(401, description="Unknown e-mail address or wrong password")
    ttl = dt.timedelta(hours=float(current_app.config["API_TOKEN_TTL_HOURS"]))
    with write_transaction(db.session):
        token, row = issue_token(db.session, member, now(), ttl)
    return {"token": token, "token_type": "bearer", "expires_at": row.expires_at}


@blp.route("/token", methods=["DELETE"])
@blp.response(204)
@errors(blp)
def sign_out() -> Response:
    """Revoke the token this request is signed with."""
    token = bearer_token()
    with write_transaction(db.session):
        revoke_token(db.session, token or "", now())
    return Response(status=204)


@blp.route("/me", methods=["GET"])
@blp.response(200, StaffSchema)
@errors(blp)
def me() -> Any:
    """The signed-in staff member."""
    return current_actor()
