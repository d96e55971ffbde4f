"""Server-rendered pages for the front desk, clinicians, therapists and admins."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Registers the page blueprints."""
