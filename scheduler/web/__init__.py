"""Server-rendered pages for the front desk, clinicians, therapists and admins."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Registers the page blueprints."""
    from ..auth import web as auth_web
    from . import (
        appointments,
        attention,
        courses,
        front_desk,
        layout,
        patients,
        schedule,
    )
    from .admin import bp as admin_bp

    auth_web.init_app(app)
    layout.init_app(app)
    for blueprint in (
        auth_web.bp,
        front_desk.bp,
        attention.bp,
        schedule.bp,
        patients.bp,
        courses.bp,
        appointments.bp,
        admin_bp,
    ):
        app.register_blueprint(blueprint)
