"""Reminders: policy, scheduling rows with appointment changes, rendering, channels, the worker.

Entry points other modules call: ``course_booked``, ``patient_changed``, ``policy_for``.
``init_app(app)`` connects reminders to ``scheduler.signals``: booking and the clinic's records
announce their changes there and never import this package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .policy import policy_for
from .scheduling import connect_listeners, course_booked, patient_changed

if TYPE_CHECKING:
    from flask import Flask


def init_app(app: Flask) -> None:
    """Plan, re-time and skip reminder rows with every announced change. Signals are
    process-wide: the first app connects, later ones find the listeners connected."""
    connect_listeners()


__all__ = ["course_booked", "init_app", "patient_changed", "policy_for"]
