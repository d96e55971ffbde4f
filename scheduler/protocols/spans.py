"""Lengths of time in a protocol: "90m", "48h" (elapsed time) and "7d", "2w" (local calendar).

Minutes and hours are real elapsed time, so "18-72 h after the infusion ends" means the same on
a daylight-saving weekend. Days and weeks count on the location's wall clock, so "7d" after a
Monday 10:00 is the next Monday 10:00 even when the clocks changed in between.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import lru_cache
from zoneinfo import ZoneInfo

_PATTERN = re.compile(r"^\s*(\d{1,4}(?:\.\d{1,2})?)\s*(m|h|d|w)\s*$")
_SECONDS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_WORDS = {"m": "min", "h": "h", "d": "day", "w": "week"}


class SpanError(ValueError):
    pass


@dataclass(frozen=True, order=False)
class Span:
    amount: float
    unit: str
    #: Derived once: the planner adds spans many times per plan.
    elapsed: bool = field(init=False, compare=False, repr=False)
    nominal_seconds: int = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        # True for minutes and hours (real time); False for days and weeks (wall clock).
        object.__setattr__(self, "elapsed", self.unit in ("m", "h"))
        # The length ignoring daylight-saving shifts.
        object.__setattr__(self, "nominal_seconds", round(self.amount * _SECONDS[self.unit]))

    @classmethod
    def parse(cls, text: str) -> Span:
        match = _PATTERN.match(text) if isinstance(text, str) else None
        if match is None:
            raise SpanError(
                "must be a number and a unit: m (minutes), h (hours), d (days) or w (weeks), "
                'e.g. "48h" or "7d"'
            )
        return cls(float(match.group(1)), match.group(2))

    @classmethod
    def minutes(cls, amount: float) -> Span:
        return cls(float(amount), "m")

    def __str__(self) -> str:
        return f"{self.amount:g}{self.unit}"

    def describe(self) -> str:
        word = _WORDS[self.unit]
        if self.unit in ("d", "w") and self.amount != 1:
            word += "s"
        return f"{self.amount:g} {word}"

    def add(self, moment: dt.datetime, tz: ZoneInfo, sign: int = 1) -> dt.datetime:
        """``moment`` plus (or minus) this span; aware in, aware UTC out."""
        if self.elapsed:
            # Aware arithmetic in a local zone is wall-clock arithmetic: go through UTC.
            return moment.astimezone(dt.UTC) + sign * dt.timedelta(seconds=self.nominal_seconds)
        local = moment.astimezone(tz).replace(tzinfo=None)
        shifted = local + sign * dt.timedelta(seconds=self.nominal_seconds)
        return wall_to_utc(shifted, tz)

    def add_epoch(self, epoch: int, tz: ZoneInfo, sign: int = 1) -> int:
        if self.elapsed:
            return epoch + sign * self.nominal_seconds
        return _add_wall(epoch, sign * self.nominal_seconds, tz)


@lru_cache(maxsize=65536)
def _add_wall(epoch: int, seconds: int, tz: ZoneInfo) -> int:
    local = dt.datetime.fromtimestamp(epoch, tz).replace(tzinfo=None)
    return int(wall_to_utc(local + dt.timedelta(seconds=seconds), tz).timestamp())


def wall_to_utc(local: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """A naive local wall-clock time as aware UTC.

    A time the clocks skip (02:30 on a spring-forward night) becomes the instant the same
    distance after the change; a repeated time (autumn) is its first occurrence.
    """
    aware = local.replace(tzinfo=tz, fold=0)
    return aware.astimezone(dt.UTC)


ZERO = Span(0.0, "m")
