"""Calendar-feed subscribe links shown on pages (the feeds themselves live in scheduler.feeds)."""

from __future__ import annotations

from ..models import StaffMember


def staff_feed_links(member: StaffMember) -> dict[str, str] | None:
    return None
