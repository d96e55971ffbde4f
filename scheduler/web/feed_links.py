"""Calendar-feed subscribe links on pages, through ``scheduler.feeds.tokens``.

Only a hash of a token is stored, so a link can be shown once, right after it is issued; the
page then offers to replace it (which ends the old URL) or to switch the feed off.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import current_app

from ..audit import Action
from ..auth.web import current_staff
from ..clock import now
from ..db import db, write_transaction
from ..feeds.qr import qr_data_uri
from ..feeds.tokens import active_token, feed_links, issue_feed_token, revoke_feed_tokens
from ..models import FeedOwnerKind


@dataclass(frozen=True)
class FeedPanel:
    """What a page shows about one feed: whether a link is live, and a fresh link (once)."""

    active_since: dt.datetime | None
    https: str | None = None
    webcal: str | None = None
    qr: str | None = None


def feed_panel(kind: FeedOwnerKind, owner_id: int) -> FeedPanel:
    token = active_token(db.session, kind, owner_id)
    return FeedPanel(active_since=token.created_at if token else None)


def issue_link(kind: FeedOwnerKind, owner_id: int, *, with_qr: bool) -> FeedPanel:
    """A new subscribe link for the owner, ending the old one, in its own transaction."""
    action = Action("feed.rotate", current_staff(), now())
    with write_transaction(db.session):
        token = issue_feed_token(db.session, kind, owner_id, action)
    links = feed_links(current_app.config["BASE_URL"], token)
    return FeedPanel(
        active_since=action.now,
        https=links.url,
        webcal=links.webcal_url,
        qr=qr_data_uri(links.webcal_url) if with_qr else None,
    )


def revoke_link(kind: FeedOwnerKind, owner_id: int) -> int:
    action = Action("feed.revoke", current_staff(), now())
    with write_transaction(db.session):
        return revoke_feed_tokens(db.session, kind, owner_id, action)
