"""Rate limits on failed sign-ins, for the pages and the API alike.

Failures are counted per account and address together (someone guessing one account's
password from one place) and per account from anywhere (guessing from many places). Nothing is
counted per address alone: a clinic's front desks share one address, and a correct password
must never be refused because a colleague mistyped theirs. Only failures count. With
RATELIMIT_STORAGE_URI on Redis, every worker and machine shares the counts.
"""

from __future__ import annotations

from flask import current_app, request
from flask_limiter.util import get_remote_address


def _account() -> str:
    """The e-mail address tried, from the sign-in form or the API's JSON body."""
    if request.is_json:
        body = request.get_json(silent=True)
        email = body.get("email") if isinstance(body, dict) else None
    else:
        email = request.form.get("email")
    return str(email or "").strip().lower()[:254]


def account_and_address() -> str:
    return f"sign-in:{_account()}:{get_remote_address()}"


def account() -> str:
    return f"sign-in:{_account()}"


def per_address_limit() -> str:
    """Failures of one account from one address (SIGN_IN_RATE_LIMIT)."""
    return str(current_app.config["SIGN_IN_RATE_LIMIT"])


def per_account_limit() -> str:
    """Failures of one account from anywhere (SIGN_IN_ACCOUNT_RATE_LIMIT)."""
    return str(current_app.config["SIGN_IN_ACCOUNT_RATE_LIMIT"])
