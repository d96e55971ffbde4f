"""Line format: CRLF everywhere, lines folded at 75 octets without splitting UTF-8 characters."""

from __future__ import annotations

from scheduler.feeds import render_course_ics
from scheduler.models import FeedOwnerKind

from .conftest import unfold


def check_lines(body: bytes) -> None:
    assert body.endswith(b"\r\n")
    assert b"\n" not in body.replace(b"\r\n", b"")
    assert b"\r" not in body.replace(b"\r\n", b"")
    for line in body.split(b"\r\n"):
        assert len(line) <= 75, line
        line.decode("utf-8")  # a fold never splits a multi-byte character


def test_all_feeds_are_crlf_and_folded_at_75_octets(session, clinic, feed_token, fetch):
    # Long, multi-byte text: full names with accents in staff feeds, a Berlin address.
    clinic.berlin_therapist.feed_full_names = True
    clinic.emile.first_name = "Émile-Ångström Zoë Ægir Þórsdóttir Łukasz Ørsted 東京"
    session.commit()
    bodies = [fetch(feed_token(FeedOwnerKind.STAFF, m.id)).data for m in clinic.staff]
    bodies += [fetch(feed_token(FeedOwnerKind.PATIENT, p.id)).data for p in clinic.patients]
    bodies.append(render_course_ics(session, clinic.course))
    folded = 0
    for body in bodies:
        check_lines(body)
        folded += body.count(b"\r\n ")
    assert folded > 10
    text = unfold(fetch(feed_token(FeedOwnerKind.STAFF, clinic.berlin_therapist.id)).data.decode())
    assert "Émile-Ångström Zoë Ægir Þórsdóttir Łukasz Ørsted 東京 Dubois" in text
    assert "Raum Ü" in text and "Friedrichstraße" in text
