"""Reminders: policy, scheduling rows with appointment changes, rendering, channels, the worker.

``scheduler.booking.changes`` imports ``scheduler.reminders.scheduling`` to register the
listener, so this package imports nothing eagerly; the entry points other modules call are
loaded on first use: ``course_booked``, ``patient_changed``, ``policy_for``.
"""

from __future__ import annotations

import importlib
from typing import Any

_ENTRY_POINTS = {
    "course_booked": "scheduling",
    "patient_changed": "scheduling",
    "policy_for": "policy",
}

__all__ = sorted(_ENTRY_POINTS)


def __getattr__(name: str) -> Any:
    module = _ENTRY_POINTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
