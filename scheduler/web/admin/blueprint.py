"""The admin area's blueprint; each module of this package adds its pages to it."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")
