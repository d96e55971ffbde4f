"""One-click ways forward from a proposal that does not fit: the planner's own fixes (its
reasons' ``change``), then dropping the patient's preferences, a later start and the clinic's
other locations. Each is a change to the planning request the proposal page carries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..courses.proposals import Proposal
from ..models import Location
from ..planning.reasons import WEEKDAYS

#: A later start offered when nothing fits: this many weeks after the one asked for.
LATER_WEEKS = 4
PREFERENCE_FIELDS = frozenset(
    {"weekdays", "earliest_time", "latest_time", "therapist_id", "clinician_id"}
)


@dataclass(frozen=True)
class Fix:
    label: str
    change: Mapping[str, Any]


def fixes(
    proposal: Proposal, request_data: Mapping[str, Any], locations: Sequence[Location]
) -> list[Fix]:
    if proposal.failure is None:
        return []
    prefs = request_data.get("preferences") or {}
    found = [
        Fix(_label(r.change, prefs) or r.fix, r.change)
        for r in proposal.failure.reasons
        if r.fix and r.change
    ]
    chosen = {k: v for k, v in prefs.items() if k in PREFERENCE_FIELDS and v not in (None, [])}
    if chosen:
        found.append(Fix("Plan without the patient's preferences", dict.fromkeys(chosen)))
    earliest = dt.date.fromisoformat(str(request_data["earliest"]))
    later = earliest + dt.timedelta(weeks=LATER_WEEKS)
    found.append(Fix(f"Start from {later:%a %d %b}", {"earliest_start": later.isoformat()}))
    for location in locations:
        if location.id != request_data.get("location_id"):
            found.append(Fix(f"Plan at {location.name}", {"location_id": location.id}))
    unique: dict[str, Fix] = {}
    for fix in found:
        unique.setdefault(repr(sorted(fix.change.items())), fix)
    return list(unique.values())


def _label(change: Mapping[str, Any], prefs: Mapping[str, Any]) -> str | None:
    """A button's words for a change: short, saying what changes."""
    if set(change) == {"weekdays"}:
        wanted = change["weekdays"]
        if wanted is None:
            return "Allow any day"
        added = sorted(set(wanted) - set(prefs.get("weekdays") or []))
        return "Also allow " + " and ".join(WEEKDAYS[d] for d in added) if added else None
    if set(change) == {"latest_time"} and change["latest_time"]:
        return f"Finish by {change['latest_time']}"
    if set(change) == {"earliest_time"} and change["earliest_time"]:
        return f"Start from {change['earliest_time']}"
    if set(change) == {"earliest_time", "latest_time"}:
        return "Any time of day"
    if set(change) <= {"therapist_id", "clinician_id"}:
        return "Any staff member"
    return None


def adjusted(request_data: Mapping[str, Any], change: Mapping[str, Any]) -> dict[str, Any]:
    """The planning request with ``change`` applied; unknown keys are refused."""
    data = dict(request_data)
    prefs = dict(data.get("preferences") or {})
    for key, value in change.items():
        if key in PREFERENCE_FIELDS:
            prefs[key] = value
        elif key == "earliest_start":
            data["earliest"] = dt.date.fromisoformat(str(value)).isoformat()
        elif key == "location_id":
            data["location_id"] = int(value)
        else:
            raise ValueError(f"unknown change {key!r}")
    data["preferences"] = prefs
    return data
