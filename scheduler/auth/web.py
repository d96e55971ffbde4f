"""Signing in to the pages: Flask-Login glue, idle expiry, role-gated views, and the sign-in,
sign-out and home pages (the ``account`` blueprint).

The session cookie holds the staff id and a fingerprint of the password hash, so changing a
password (or deactivating the account) signs out every browser that was signed in with it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import AnonymousUserMixin, UserMixin, current_user, login_user, logout_user
from werkzeug.wrappers import Response

from ..clock import now
from ..db import db, write_transaction
from ..extensions import limiter, login_manager
from ..models import Role, StaffMember
from ..web.forms.auth import ActionForm, SignInForm
from . import permissions
from .passwords import authenticate
from .sign_in_limits import account, account_and_address, per_account_limit, per_address_limit

F = TypeVar("F", bound=Callable[..., Any])

#: Session key holding the time (POSIX seconds) of the signed-in user's last request.
LAST_SEEN = "seen"
#: Session key holding when the user signed in: a session ends this long after, however busy.
SIGNED_IN_AT = "since"

bp = Blueprint("account", __name__)


class SignedIn(UserMixin):  # type: ignore[misc]
    """The Flask-Login user: a staff member, identified by id and password fingerprint."""

    def __init__(self, member: StaffMember) -> None:
        self.member = member

    def get_id(self) -> str:
        member = self.member
        return f"{member.id}.{fingerprint(member)}.{member.session_generation or 0}"

    @property
    def is_active(self) -> bool:
        return bool(self.member.active)


def fingerprint(member: StaffMember) -> str:
    return hashlib.sha256((member.password_hash or "").encode()).hexdigest()[:16]


def load_user(user_id: str) -> SignedIn | None:
    """The session's staff member, if the session is still one the server stands behind: the
    same password, and no sign-out, role change or deactivation since it began."""
    staff_id, _, rest = user_id.partition(".")
    mark, _, generation = rest.partition(".")
    if not staff_id.isdigit() or len(staff_id) > 10 or not generation.isdigit():
        return None
    member = db.session.get(StaffMember, int(staff_id))
    if member is None or not member.active or fingerprint(member) != mark:
        return None
    if int(generation) != (member.session_generation or 0):
        return None
    return SignedIn(member)


def current_staff() -> StaffMember:
    """The signed-in staff member; views behind ``signed_in`` or ``allowed`` may rely on it."""
    return cast(SignedIn, current_user).member


def sign_in(member: StaffMember) -> None:
    session.clear()
    session.permanent = True
    login_user(SignedIn(member))
    session[LAST_SEEN] = session[SIGNED_IN_AT] = now().timestamp()


def sign_out(*, everywhere: bool = True) -> None:
    """End the session. Signing out on purpose ends every session of the account (a copied
    cookie, the PC someone forgot to sign out of); an expired session ends only itself."""
    if everywhere and current_user.is_authenticated:
        with write_transaction(db.session):
            member = db.session.get(StaffMember, current_staff().id)
            if member is not None:
                member.session_generation = (member.session_generation or 0) + 1
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
    """Sign out after SESSION_LIFETIME_MINUTES without a request (the clinic's shared PCs), and
    SESSION_ABSOLUTE_HOURS after signing in whatever happened since."""
    if request.endpoint in {None, "static"} or request.path.startswith("/api"):
        return None
    if not current_user.is_authenticated:
        return None
    lifetime = dt.timedelta(minutes=current_app.config["SESSION_LIFETIME_MINUTES"])
    longest = dt.timedelta(hours=current_app.config["SESSION_ABSOLUTE_HOURS"])
    moment = now().timestamp()
    seen = session.get(LAST_SEEN)
    since = session.get(SIGNED_IN_AT)
    idle = not isinstance(seen, int | float) or moment - seen > lifetime.total_seconds()
    old = not isinstance(since, int | float) or moment - since > longest.total_seconds()
    if idle or old:
        sign_out(everywhere=False)
        flash("Your session expired. Please sign in again.", "info")
        return redirect(url_for("account.sign_in", next=request.full_path.rstrip("?")))
    session[LAST_SEEN] = moment
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


def failed(response: Response) -> bool:
    """Only failed attempts count against the limit: a successful sign-in redirects."""
    return response.status_code != 302


@bp.route("/sign-in", methods=["GET", "POST"], endpoint="sign_in")
@limiter.limit(
    per_address_limit, key_func=account_and_address, methods=["POST"], deduct_when=failed
)
@limiter.limit(per_account_limit, key_func=account, methods=["POST"], deduct_when=failed)
def sign_in_page() -> Response | str | tuple[str, int]:
    form = SignInForm()
    if request.method in ("GET", "HEAD"):
        if current_user.is_authenticated:
            return redirect(url_for("account.home"))
        form.next.data = request.args.get("next", "")
        return render_template("auth/sign_in.html", form=form)
    if form.validate_on_submit():
        member = authenticate(db.session, form.email.data, form.password.data)
        if member is not None:
            sign_in(member)
            return redirect(safe_next(form.next.data) or url_for("account.home"))
        form.password.errors = ["That e-mail and password do not match an active account."]
    return render_template("auth/sign_in.html", form=form), 401


@bp.post("/sign-out", endpoint="sign_out")
def sign_out_page() -> Response:
    form = ActionForm()
    if form.validate_on_submit():
        sign_out()
        flash("You are signed out.", "info")
    return redirect(url_for("account.sign_in"))


@bp.get("/")
def home() -> Response:
    """Each role's start page: front desk the day view, care staff their week, admins the
    dashboard."""
    if not current_user.is_authenticated:
        return redirect(url_for("account.sign_in"))
    return redirect(start_page())


def start_page() -> str:
    roles = current_staff().roles
    if Role.FRONT_DESK in roles:
        return url_for("front_desk.day")
    if roles & {Role.CLINICIAN, Role.THERAPIST}:
        return url_for("schedule.week")
    if Role.ADMIN in roles:
        return url_for("admin.dashboard")
    return url_for("schedule.week")


def safe_next(target: str | None) -> str | None:
    """Only a path on this site: never send a freshly signed-in user to another host."""
    if not target:
        return None
    parts = urlsplit(target)
    if (parts.scheme or parts.netloc) and parts.netloc != request.host:
        return None
    path = parts.path or "/"
    if not path.startswith("/") or path.startswith("//") or "\\" in target:
        return None
    if path.startswith(("/sign-in", "/sign-out", "/api")):
        return None
    return path + (f"?{parts.query}" if parts.query else "")
