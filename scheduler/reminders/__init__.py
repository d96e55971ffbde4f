"""Reminders: policy, scheduling rows with appointment changes, rendering, channels, the worker.

Callers import what they use from its module (``.policy``, ``.scheduling``, ``.admin``,
``.worker``). ``init_app(app)`` connects reminders to ``scheduler.signals``: booking and the
clinic's records announce their changes there and never import this package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .scheduling import connect_listeners

if TYPE_CHECKING:
    from flask import Flask


def init_app(app: Flask) -> None:
    """Plan, re-time and skip reminder rows with every announced change. Signals are
    process-wide: the first app connects, later ones find the listeners connected."""
    connect_listeners()


__all__ = ["init_app"]
