"""The JSON API under /api (flask-smorest), with its OpenAPI document."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Registers the API blueprints. Filled in by the API module."""
