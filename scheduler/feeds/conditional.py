"""The request headers a feed answer depends on, as Werkzeug parses them.

Werkzeug reads ``Accept-Encoding``, ``If-None-Match`` and ``If-Modified-Since``; two rules of
the feed stay here: ``x-gzip`` is gzip's old name, and either encoding's entity tag names the
same content (``make_conditional`` compares one tag only).
"""

from __future__ import annotations

import datetime as dt

from werkzeug.wrappers import Request


def accepts_gzip(request: Request) -> bool:
    """Whether ``Accept-Encoding`` allows gzip (``gzip``, ``x-gzip`` or ``*``, q > 0)."""
    encodings = request.accept_encodings
    return encodings.quality("gzip") > 0 or any(
        name.lower() == "x-gzip" and quality > 0 for name, quality in encodings
    )


def not_modified(request: Request, tags: tuple[str, ...], last_modified: dt.datetime) -> bool:
    """Whether the client's copy is current: ``If-None-Match`` names one of ``tags``
    (unquoted) by weak comparison (RFC 9110 13.1.2), or is ``*``; without it,
    ``If-Modified-Since`` is no earlier than ``last_modified``."""
    if request.if_none_match:
        return any(request.if_none_match.contains_weak(tag) for tag in tags)
    since = request.if_modified_since
    return since is not None and last_modified <= since
