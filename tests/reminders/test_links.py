"""The welcome message's calendar link: issued once, never re-issued behind a subscription."""

from __future__ import annotations

from scheduler.feeds.tokens import active_token, digest
from scheduler.models.feeds import FeedOwnerKind
from scheduler.reminders.links import welcome_feed_links


def test_a_patient_without_a_link_gets_one_and_only_once(make, session):
    patient = make.patient()
    links = welcome_feed_links(session, patient, "https://clinic.example.org")
    assert links is not None
    assert links.url.startswith("https://clinic.example.org/feeds/")
    assert links.webcal_url == "webcal://" + links.url.removeprefix("https://")
    token = links.url.rsplit("/", 1)[1].removesuffix(".ics")
    stored = active_token(session, FeedOwnerKind.PATIENT, patient.id)
    assert stored is not None and stored.token_hash == digest(token)
    # 32 random bytes, URL-safe: nothing of the patient in it.
    assert len(token) >= 43 and patient.last_name.lower() not in token.lower()
    # Already subscribed: no new link, so the calendar the patient has keeps working.
    assert welcome_feed_links(session, patient, "https://clinic.example.org") is None
    assert active_token(session, FeedOwnerKind.PATIENT, patient.id).id == stored.id
