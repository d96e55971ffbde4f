"""Reading the times a reminder row keeps in its JSON ``context`` (ISO 8601 strings)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any


def context_time(context: Mapping[str, Any] | None, key: str) -> dt.datetime | None:
    """The aware UTC time stored under ``key``, or None when absent or unreadable."""
    value = (context or {}).get(key)
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
