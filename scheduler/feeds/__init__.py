"""Calendar feeds: subscribe URLs per patient, staff member, room and location; .ics files.

Domain entry points (no request state):

- ``render_appointment_ics(session, appointment)`` / ``render_course_ics(session, course)``:
  .ics bytes for e-mail attachments and downloads.
- ``issue_feed_token`` / ``revoke_feed_tokens`` / ``feed_links``: subscribe links.
- ``touch_owner(session, kind, id)``: mark a feed changed after an edit no signal announces.
- ``init_app(app)``: follow ``scheduler.signals`` (appointment and clinic-data changes).

The HTTP side is ``scheduler.feeds.blueprint`` (``/feeds/<token>.ics``) and
``scheduler.api.feeds`` (link management and downloads under /api).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .invalidation import connect_listeners, touch_clinic, touch_owner, touch_owners
from .privacy import Audience
from .render import (
    FeedSettings,
    patient_audience,
    render_appointment_ics,
    render_course_ics,
    staff_audience,
)
from .tokens import (
    FeedLinks,
    active_token,
    feed_links,
    issue_feed_token,
    resolve_feed,
    revoke_feed_tokens,
)

if TYPE_CHECKING:
    from flask import Flask


def init_app(app: Flask) -> None:
    """Mark feeds stale with every change announced in ``scheduler.signals``. Signals are
    process-wide: the first app connects, later ones find the listeners connected."""
    connect_listeners()


__all__ = [
    "Audience",
    "FeedLinks",
    "FeedSettings",
    "active_token",
    "feed_links",
    "init_app",
    "issue_feed_token",
    "patient_audience",
    "render_appointment_ics",
    "render_course_ics",
    "resolve_feed",
    "revoke_feed_tokens",
    "staff_audience",
    "touch_clinic",
    "touch_owner",
    "touch_owners",
]
