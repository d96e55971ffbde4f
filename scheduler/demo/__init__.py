"""The demo clinic: two locations in different time zones, staff, patients and booked courses.

Loaded by ``flask --app scheduler demo``; idempotent (it recognises its own data).
"""

from .loader import DemoSummary, demo_present, load_demo

__all__ = ["DemoSummary", "demo_present", "load_demo"]
