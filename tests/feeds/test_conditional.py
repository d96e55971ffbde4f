"""Accept-Encoding, If-None-Match and If-Modified-Since, as the feed reads them."""

from __future__ import annotations

import datetime as dt

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from scheduler.feeds.conditional import accepts_gzip, not_modified

BUILT = dt.datetime(2026, 3, 2, 7, tzinfo=dt.UTC)


def request_with(**headers: str) -> Request:
    return Request(EnvironBuilder(headers=headers).get_environ())


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
    request = request_with() if header is None else request_with(**{"Accept-Encoding": header})
    assert accepts_gzip(request) is expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ('"abc"', True),
        ('W/"abc"', True),
        ('"abc-gz"', True),
        ('"x", "abc"', True),
        ('"x","y"', False),
        ("*", True),
        # Werkzeug reads an unquoted tag as that tag.
        ("abc", True),
        ('""', False),
    ],
)
def test_if_none_match_names_either_tag(header, expected):
    request = request_with(**{"If-None-Match": header})
    assert not_modified(request, ("abc", "abc-gz"), BUILT) is expected


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, False),
        ({"If-Modified-Since": "nonsense"}, False),
        ({"If-Modified-Since": "Mon, 02 Mar 2026 07:00:00 GMT"}, True),
        ({"If-Modified-Since": "Mon, 02 Mar 2026 06:59:59 GMT"}, False),
        # If-None-Match wins over If-Modified-Since.
        ({"If-None-Match": '"x"', "If-Modified-Since": "Mon, 02 Mar 2026 07:00:00 GMT"}, False),
    ],
)
def test_if_modified_since(headers, expected):
    assert not_modified(request_with(**headers), ("abc",), BUILT) is expected
