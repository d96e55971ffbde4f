"""The schedule's invariant: after every accepted change each rule holds, or the session that
breaks one is flagged as needing attention for the front desk.

``check.py`` lists what breaks a rule, ``flags.py`` keeps the flags in step with it at every
commit, ``impact.py`` shows a change of clinic data its impact first (refuse, re-plan or flag).
"""

from __future__ import annotations

from flask import Flask

from .check import Scope, Violation, find_violations, violations_of
from .flags import complete_finished_courses, note, refresh_flags
from .listeners import connect_listeners


def init_app(app: Flask) -> None:
    """Follow appointment and clinic-data changes (process-wide, connected once)."""
    connect_listeners()


__all__ = [
    "Scope",
    "Violation",
    "complete_finished_courses",
    "find_violations",
    "init_app",
    "note",
    "refresh_flags",
    "violations_of",
]
