"""Who is signed in to the pages: Flask-Login glue, idle expiry and role-gated views.

The session cookie holds the staff id and a fingerprint of the password hash, so changing a
password (or deactivating the account) signs out every browser that was signed in with it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Flask, flash, redirect, request, session, url_for
from flask_login import AnonymousUserMixin, UserMixin, current_user, login_user, logout_user
from werkzeug.wrappers import Response

from ..auth import permissions
from ..clock import now
from ..db import db
from ..extensions import login_manager
from ..models import StaffMember

F = TypeVar("F", bound=Callable[..., Any])

#: Session key holding the time (POSIX seconds) of the signed-in user's last request.
LAST_SEEN = "seen"


class SignedIn(UserMixin):  # type: ignore[misc]
    """The Flask-Login user: a staff member, identified by id and password fingerprint."""

    def __init__(self, member: StaffMember) -> None:
        self.member = member

    def get_id(self) -> str:
        return f"{self.member.id}.{fingerprint(self.member)}"

    @property
    def is_active(self) -> bool:
        return bool(self.member.active)


def fingerprint(member: StaffMember) -> str:
    return hashlib.sha256((member.password_hash or "").encode()).hexdigest()[:16]


def load_user(user_id: str) -> SignedIn | None:
    staff_id, _, mark = user_id.partition(".")
    if not staff_id.isdigit() or len(staff_id) > 10:
        return None
    member = db.session.get(StaffMember, int(staff_id))
    if member is None or not member.active or fingerprint(member) != mark:
        return None
    return SignedIn(member)


def current_staff() -> StaffMember:
    """The signed-in staff member; views behind ``signed_in`` or ``allowed`` may rely on it."""
    return cast(SignedIn, current_user).member


def sign_in(member: StaffMember) -> None:
    session.clear()
    session.permanent = True
    login_user(SignedIn(member))
    session[LAST_SEEN] = now().timestamp()


def sign_out() -> None:
    logout_user()
    session.clear()


def signed_in(view: F) -> F:
    """Pages for any signed-in staff member; others go to the sign-in page."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        return view(*args, **kwargs)

    return cast(F, wrapper)


def allowed(check: Callable[[StaffMember], bool], what: str) -> Callable[[F], F]:
    """Pages for staff for whom ``check`` (from ``scheduler.auth.permissions``) holds; others
    get 403, signed-out visitors the sign-in page."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            permissions.require(check(current_staff()), what)
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorate


def expire_idle_session() -> Response | None:
    """Sign out after SESSION_LIFETIME_MINUTES without a request (the clinic's shared PCs)."""
    if request.endpoint in {None, "static"} or request.path.startswith("/api"):
        return None
    if not current_user.is_authenticated:
        return None
    from flask import current_app

    lifetime = dt.timedelta(minutes=current_app.config["SESSION_LIFETIME_MINUTES"])
    moment = now()
    seen = session.get(LAST_SEEN)
    if not isinstance(seen, int | float) or moment.timestamp() - seen > lifetime.total_seconds():
        sign_out()
        flash("Your session expired. Please sign in again.", "info")
        return redirect(url_for("account.sign_in", next=request.full_path.rstrip("?")))
    session[LAST_SEEN] = moment.timestamp()
    return None


def init_app(app: Flask) -> None:
    minutes = app.config["SESSION_LIFETIME_MINUTES"]
    app.permanent_session_lifetime = dt.timedelta(minutes=minutes)
    login_manager.user_loader(load_user)
    login_manager.anonymous_user = AnonymousUserMixin
    login_manager.login_view = "account.sign_in"
    login_manager.login_message = "Please sign in to see that page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    app.before_request(expire_idle_session)
