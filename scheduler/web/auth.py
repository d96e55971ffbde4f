"""Signing in and out of the pages, and the home page that sends each role to its start page."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from ..auth.passwords import authenticate
from ..db import db
from ..extensions import limiter
from ..models import Role
from .forms.auth import ActionForm, SignInForm
from .login import current_staff, sign_in, sign_out

bp = Blueprint("account", __name__)


def sign_in_limit() -> str:
    return str(current_app.config.get("SIGN_IN_RATE_LIMIT", "5 per minute;30 per hour"))


def failed(response: Response) -> bool:
    """Only failed attempts count against the limit: a successful sign-in redirects."""
    return response.status_code != 302


@bp.route("/sign-in", methods=["GET", "POST"], endpoint="sign_in")
@limiter.limit(sign_in_limit, methods=["POST"], deduct_when=failed)
def sign_in_page() -> Response | str | tuple[str, int]:
    form = SignInForm()
    if request.method == "GET":
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
