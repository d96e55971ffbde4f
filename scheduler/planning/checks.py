"""A placed course checked against its protocol rules: the same constraints the search obeys."""

from __future__ import annotations

from collections.abc import Collection
from zoneinfo import ZoneInfo

from .constraints import Placement
from .shape import Shape


def violations(
    shape: Shape,
    placements: list[Placement | None],
    tz: ZoneInfo,
    *,
    fixed: Collection[int] = (),
) -> list[tuple[int, str]]:
    """(element index, message) for every rule a placed element breaks. Rules between two
    fixed elements are not judged: what already happened stays as it was."""
    found: list[tuple[int, str]] = []
    titles = shape.titles
    fixed = set(fixed)
    for element in shape.elements:
        p = placements[element.index]
        if p is None:
            continue
        for c in element.constraints:
            if any(placements[r] is None for r in c.refs):
                continue
            if element.index in fixed and all(r in fixed for r in c.refs):
                continue
            broken = c.broken(p.start, p.end, placements, tz)
            if broken:
                found.append(
                    (element.index, f"{element.title} must be {c.describe(titles)}; it {broken}")
                )
    return found
