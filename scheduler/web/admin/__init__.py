"""Admin pages: protocols, locations with hours, closures and rooms, staff with roles, hours and
time off, the reminder outbox and the audit log."""

from . import audit, dashboard, locations, outbox, protocols, staff  # noqa: F401  (each adds its pages to bp)
from .blueprint import bp

__all__ = ["bp"]
