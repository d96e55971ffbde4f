"""Reading Accept-Encoding, If-None-Match and If-Modified-Since from the environ."""

from __future__ import annotations

import datetime as dt

import pytest

from scheduler.feeds.conditional import accepts_gzip, modified_since, none_match


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, False),
        ("", False),
        ("gzip", True),
        ("gzip, deflate, br", True),
        ("br;q=1.0, gzip;q=0.8, *;q=0.1", True),
        ("GZIP", True),
        ("x-gzip", True),
        ("gzip;q=0", False),
        ("gzip;q=0, identity", False),
        ("identity", False),
        ("deflate", False),
        ("*", True),
        ("*;q=0", False),
        ("*, gzip;q=0", False),
        ("gzip;q=bogus", False),
    ],
)
def test_accepts_gzip(header, expected):
    environ = {} if header is None else {"HTTP_ACCEPT_ENCODING": header}
    assert accepts_gzip(environ) is expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ('"abc"', True),
        ('W/"abc"', True),
        ('"abc-gz"', True),
        ('"x", "abc"', True),
        ('"x","y"', False),
        ("*", True),
        ("abc", False),
        ('""', False),
    ],
)
def test_none_match(header, expected):
    environ = {} if header is None else {"HTTP_IF_NONE_MATCH": header}
    assert none_match(environ, "abc", "abc-gz") is expected


def test_modified_since():
    assert modified_since({}) is None
    assert modified_since({"HTTP_IF_MODIFIED_SINCE": "nonsense"}) is None
    found = modified_since({"HTTP_IF_MODIFIED_SINCE": "Mon, 02 Mar 2026 07:00:00 GMT"})
    assert found == dt.datetime(2026, 3, 2, 7, tzinfo=dt.UTC)
