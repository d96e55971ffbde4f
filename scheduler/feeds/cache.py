"""In-process caches of built feeds and of rendered events, one set per app.

A built feed is served for as long as its key (owner version, clinic version, window) matches
what the database says; every worker process checks that with one indexed lookup per request,
so a change committed by any process is seen by all. Rendered events are keyed by everything
they are rendered from (audience, appointment facts, step, reminders), so they can never be
served for content that changed.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from cachetools import LRUCache
from werkzeug.http import http_date

#: Level 6 (zlib's default) shrinks a 1,000-event feed about 12-fold in a few milliseconds,
#: paid once per built body.
GZIP_LEVEL = 6


FeedKey = tuple[int, int, str]


@dataclass(frozen=True)
class Snapshot:
    """What an owner's last build was made of, so the next one re-reads and re-renders only
    the appointments whose revision moved. Valid while the clinic-wide counter, the reader's
    choices and the window are the same."""

    clinic_version: int
    audience: Hashable
    window: str
    #: appointment id -> (revision, departed), the facts, and the event's bytes.
    entries: dict[int, tuple[tuple[int, bool], Any, bytes]]

    def fits(self, clinic_version: int, audience: Hashable, window: str) -> bool:
        return (self.clinic_version, self.audience, self.window) == (
            clinic_version,
            audience,
            window,
        )


@dataclass
class BuiltFeed:
    """A feed body with its validators. ``key`` is (owner version, clinic version, window)."""

    key: FeedKey
    body: bytes
    etag: str
    last_modified: dt.datetime
    _gzip: bytes | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def of(cls, key: FeedKey, body: bytes, last_modified: dt.datetime) -> BuiltFeed:
        digest = hashlib.sha256()
        # The window is part of the entity tag: a new day is a new feed, even when no event
        # left it.
        digest.update(key[2].encode())
        digest.update(b"\0")
        digest.update(body)
        return cls(key, body, digest.hexdigest()[:40], last_modified)

    @property
    def gzip_etag(self) -> str:
        return f"{self.etag}-gz"

    @cached_property
    def headers(self) -> dict[bool, list[tuple[str, str]]]:
        """Response headers of the 200, without and with gzip (built once, sent many times)."""
        common = [
            ("Content-Type", "text/calendar; charset=utf-8"),
            ("Last-Modified", http_date(self.last_modified)),
            ("Cache-Control", "private"),
            ("Vary", "Accept-Encoding"),
            ("X-Content-Type-Options", "nosniff"),
        ]
        return {
            False: [("ETag", f'"{self.etag}"'), *common],
            True: [("ETag", f'"{self.gzip_etag}"'), ("Content-Encoding", "gzip"), *common],
        }

    @cached_property
    def not_modified_headers(self) -> dict[bool, list[tuple[str, str]]]:
        """A 304 repeats what a cache must update: the tag, Cache-Control, Vary."""
        rest = [("Cache-Control", "private"), ("Vary", "Accept-Encoding")]
        return {
            False: [("ETag", f'"{self.etag}"'), *rest],
            True: [("ETag", f'"{self.gzip_etag}"'), *rest],
        }

    def gzip_body(self) -> bytes:
        """The gzip-encoded body, compressed on first use and kept with the body."""
        if self._gzip is None:
            with self._lock:
                if self._gzip is None:
                    # mtime=0: the same input gives the same bytes in every process.
                    self._gzip = gzip.compress(self.body, GZIP_LEVEL, mtime=0)
        return self._gzip


class FeedCache:
    """Least-recently-used caches (cachetools) of built feeds, build snapshots and event bytes.

    cachetools' caches are not thread-safe, and a read moves the entry: every access holds
    the lock. Rendering and building happen outside it.
    """

    def __init__(self, max_feeds: int = 2000, max_events: int = 200_000) -> None:
        self.max_feeds = max_feeds
        self._feeds: LRUCache[tuple[str, int], BuiltFeed] = LRUCache(max_feeds)
        self._events: LRUCache[Hashable, bytes] = LRUCache(max_events)
        self._snapshots: LRUCache[tuple[str, int], Snapshot] = LRUCache(max_feeds)
        self._lock = threading.Lock()
        self._locks: dict[tuple[str, int], threading.Lock] = {}
        self._locks_guard = threading.Lock()

    def event_bytes(self, key: Hashable, render: Callable[[], bytes]) -> bytes:
        with self._lock:
            found = self._events.get(key)
        if found is None:
            found = render()
            with self._lock:
                self._events[key] = found
        return found

    def snapshot(self, owner: tuple[str, int]) -> Snapshot | None:
        with self._lock:
            return self._snapshots.get(owner)

    def keep_snapshot(self, owner: tuple[str, int], snapshot: Snapshot) -> None:
        with self._lock:
            self._snapshots[owner] = snapshot

    def _cached(self, owner: tuple[str, int], key: FeedKey) -> BuiltFeed | None:
        with self._lock:
            found = self._feeds.get(owner)
        return found if found is not None and found.key == key else None

    def build_lock(self, owner: tuple[str, int]) -> threading.Lock:
        """One builder per owner at a time: after a change, concurrent requests for the same
        feed wait for one rebuild instead of each doing it."""
        with self._locks_guard:
            lock = self._locks.get(owner)
            if lock is None:
                if len(self._locks) > 4 * self.max_feeds:
                    self._locks.clear()
                lock = self._locks[owner] = threading.Lock()
            return lock

    def feed(
        self, owner: tuple[str, int], key: FeedKey, build: Callable[[], BuiltFeed | None]
    ) -> BuiltFeed | None:
        """The cached feed if its key matches, else a fresh build (cached)."""
        found = self._cached(owner, key)
        if found is not None:
            return found
        with self.build_lock(owner):
            found = self._cached(owner, key)
            if found is not None:
                return found
            built = build()
            if built is not None:
                with self._lock:
                    self._feeds[owner] = built
            return built
