"""An independent judge of plans, written straight from the protocol's words.

``check_plan`` lists every rule a plan breaks; ``exhaustive`` tries every combination of grid
times, rooms and staff on a small instance. Neither shares code with the planner's search or
its constraints; the booking rules come from ``scheduler.booking.rules`` because those are the
rules booking enforces.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from scheduler.booking import rules
from scheduler.models import ROLE_FOR_PART, AppointmentKind, RoomKind, StaffPart
from scheduler.planning import Availability, Preferences
from scheduler.protocols import ProtocolDefinition, Span


@dataclass(frozen=True)
class Slot:
    """One appointment of a candidate plan, as the oracle sees it."""

    step_key: str
    sequence: int
    kind: AppointmentKind
    starts_at: dt.datetime
    ends_at: dt.datetime
    buffer_minutes: int
    room_id: int
    staff: tuple[tuple[int, StaffPart], ...]


@dataclass(frozen=True)
class Spec:
    """What one appointment of the course must be."""

    step_key: str
    sequence: int
    kind: AppointmentKind
    minutes: int
    buffer_minutes: int
    room_kinds: tuple[RoomKind, ...]
    parts: tuple[StaffPart, ...]
    pairs_with: tuple[str, int] | None


def plus(moment: dt.datetime, span: Span, tz: ZoneInfo) -> dt.datetime:
    """The protocol's words: hours are elapsed time, days are days on the clinic's clock."""
    seconds = span.amount * {"m": 60, "h": 3600, "d": 86400, "w": 604800}[span.unit]
    if span.unit in ("m", "h"):
        return moment.astimezone(dt.UTC) + dt.timedelta(seconds=seconds)
    wall = moment.astimezone(tz).replace(tzinfo=None) + dt.timedelta(seconds=seconds)
    return wall.replace(tzinfo=tz).astimezone(dt.UTC)


def specs(definition: ProtocolDefinition, prefs: Preferences) -> list[Spec]:
    found: list[Spec] = []
    for step in definition.steps:
        count = step.planned_count(prefs.sessions_ahead)
        for n in range(1, count + 1):
            found.append(
                Spec(
                    step.key,
                    n,
                    step.kind,
                    step.minutes,
                    step.buffer_minutes,
                    step.room_kinds,
                    step.parts,
                    None,
                )
            )
        pairing = step.pairing
        if pairing is not None and (prefs.include_optional or not pairing.optional):
            for n in range(1, count + 1):
                found.append(
                    Spec(
                        pairing.key,
                        n,
                        pairing.kind,
                        pairing.minutes,
                        pairing.buffer_minutes,
                        pairing.room_kinds,
                        pairing.parts,
                        (step.key, n),
                    )
                )
    return found


def _overlap(a0: dt.datetime, a1: dt.datetime, b0: dt.datetime, b1: dt.datetime) -> bool:
    return a0 < b1 and b0 < a1


def booking_problems(
    slot: Slot,
    spec: Spec,
    av: Availability,
    prefs: Preferences,
    earliest: dt.datetime,
    horizon: dt.datetime,
) -> list[str]:
    """What is wrong with one appointment on its own: hours, resources, preferences."""
    tz = av.tz
    out: list[str] = []
    location = av.location
    rooms = {r.id: r for r in av.rooms}
    members = {m.id: m for m in av.staff}
    start, end = slot.starts_at, slot.ends_at
    if end - start != dt.timedelta(minutes=spec.minutes):
        out.append("duration")
    if slot.buffer_minutes != spec.buffer_minutes:
        out.append("buffer")
    if not earliest <= start <= horizon:
        out.append("outside the planning window")
    room = rooms.get(slot.room_id)
    people = [(members[s], p) for s, p in slot.staff if s in members]
    if room is None or len(people) != len(slot.staff):
        return [*out, "unknown room or staff"]
    if sorted(p for _, p in slot.staff) != sorted(spec.parts):
        out.append("parts")
    for problem in (
        rules.check_room(room, spec.kind, location, spec.room_kinds),
        rules.check_parts(spec.kind, people),
        rules.check_opening_hours(location, start, end),
        rules.check_closures(location, av.closures, start, end),
    ):
        if problem:
            out.append(problem)
    for member, _part in people:
        for problem in (
            rules.check_working_hours(member, location, start, end),
            rules.check_time_off(member, av.time_off.get(member.id, []), start, end, tz),
        ):
            if problem:
                out.append(problem)
    s, e = int(start.timestamp()), int(end.timestamp())
    room_end = e + slot.buffer_minutes * 60
    held = [(("patient", av.patient_id), s, e), (("room", room.id), s, room_end)]
    held += [(("staff", sid), s, e) for sid, _ in slot.staff]
    for key, a, b in held:
        for c, d in av.busy.get(key, []):
            if a < d and c < b:
                out.append(f"{key} is booked")
    local_start, local_end = start.astimezone(tz), end.astimezone(tz)
    if prefs.weekdays is not None and local_start.weekday() not in prefs.weekdays:
        out.append("weekday not preferred")
    day = local_start.date()
    if prefs.earliest_time is not None and local_start < dt.datetime.combine(
        day, prefs.earliest_time, tz
    ):
        out.append("before the preferred time")
    if prefs.latest_time is not None and local_end > dt.datetime.combine(
        day, prefs.latest_time, tz
    ):
        out.append("after the preferred time")
    if not prefs.telehealth_ok and room.kind == RoomKind.TELEHEALTH:
        out.append("telehealth not wanted")
    return out


def clash(a: Slot, b: Slot) -> str | None:
    """Two appointments of the same plan holding one resource at once."""
    if _overlap(a.starts_at, a.ends_at, b.starts_at, b.ends_at):
        return "the patient is in two appointments"
    a_room = a.ends_at + dt.timedelta(minutes=a.buffer_minutes)
    b_room = b.ends_at + dt.timedelta(minutes=b.buffer_minutes)
    if a.room_id == b.room_id and _overlap(a.starts_at, a_room, b.starts_at, b_room):
        return "one room twice"
    return None


def protocol_problems(
    definition: ProtocolDefinition, slots: dict[tuple[str, int], Slot], tz: ZoneInfo
) -> list[str]:
    """Every protocol rule whose appointments are all present in ``slots``."""
    out: list[str] = []
    for step in definition.steps:
        sessions = sorted(
            (s for (k, _), s in slots.items() if k == step.key), key=lambda s: s.sequence
        )
        by_seq = {s.sequence: s for s in sessions}
        first = by_seq.get(1)
        for s in sessions:
            prev = by_seq.get(s.sequence - 1)
            _, phase = step.phase_for(s.sequence)
            if prev is not None:
                low = phase.min_gap or Span(step.minutes, "m")
                if s.starts_at < plus(prev.starts_at, low, tz):
                    out.append(f"{step.key} {s.sequence}: below the minimum gap")
                if phase.max_gap is not None and s.starts_at > plus(
                    prev.starts_at, phase.max_gap, tz
                ):
                    out.append(f"{step.key} {s.sequence}: above the maximum gap")
            if first is not None and s.sequence > 1:
                if step.window is not None and s.ends_at > plus(first.starts_at, step.window, tz):
                    out.append(f"{step.key} {s.sequence}: outside the window")
                days = (
                    s.starts_at.astimezone(tz).date() - first.starts_at.astimezone(tz).date()
                ).days
                week = days // 7 + 1
                if phase.weeks_from is not None and week < phase.weeks_from:
                    out.append(f"{step.key} {s.sequence}: before its weeks")
                if phase.weeks_to is not None and week > phase.weeks_to:
                    out.append(f"{step.key} {s.sequence}: after its weeks")
                if phase.per_week is not None:
                    same_week = [
                        o
                        for o in sessions
                        if o.sequence < s.sequence
                        and step.phase_for(o.sequence)[1] is phase
                        and (
                            o.starts_at.astimezone(tz).date()
                            - first.starts_at.astimezone(tz).date()
                        ).days
                        // 7
                        + 1
                        == week
                    ]
                    if len(same_week) >= phase.per_week:
                        out.append(f"{step.key} {s.sequence}: too many that week")
            if s.sequence == 1:
                for prerequisite in step.after:
                    done = [x for (k, _), x in slots.items() if k == prerequisite.step]
                    other = definition.step(prerequisite.step)
                    if len(done) < other.planned_count():
                        continue
                    last = max(done, key=lambda x: x.sequence)
                    if s.starts_at < plus(last.ends_at, prerequisite.min_gap, tz):
                        out.append(f"{step.key} 1: too soon after {prerequisite.step}")
                    if prerequisite.max_gap is not None and s.starts_at > plus(
                        last.ends_at, prerequisite.max_gap, tz
                    ):
                        out.append(f"{step.key} 1: too long after {prerequisite.step}")
        pairing = step.pairing
        if pairing is None:
            continue
        for (k, n), p in slots.items():
            if k != pairing.key or (step.key, n) not in slots:
                continue
            dose = slots[(step.key, n)]
            anchor = dose.ends_at if pairing.anchor == "end" else dose.starts_at
            if p.starts_at < plus(anchor, pairing.min_after, tz):
                out.append(f"{k} {n}: too soon after its session")
            if p.starts_at > plus(anchor, pairing.max_after, tz):
                out.append(f"{k} {n}: too late after its session")
            if pairing.same_day:
                day = dose.starts_at.astimezone(tz).date()
                end_day = (p.ends_at - dt.timedelta(microseconds=1)).astimezone(tz).date()
                if p.starts_at.astimezone(tz).date() != day or end_day != day:
                    out.append(f"{k} {n}: not on the same day")
    return out


def check_plan(
    definition: ProtocolDefinition,
    av: Availability,
    prefs: Preferences,
    earliest: dt.datetime,
    horizon: dt.datetime,
    slots: list[Slot],
) -> list[str]:
    expected = {(s.step_key, s.sequence): s for s in specs(definition, prefs)}
    given = {(s.step_key, s.sequence): s for s in slots}
    out: list[str] = []
    if set(expected) != set(given) or len(given) != len(slots):
        out.append(f"appointments {sorted(given)} instead of {sorted(expected)}")
    for key, slot in given.items():
        if key in expected:
            out += [
                f"{key}: {p}"
                for p in booking_problems(slot, expected[key], av, prefs, earliest, horizon)
            ]
    for a, b in itertools.combinations(slots, 2):
        problem = clash(a, b)
        if problem:
            out.append(f"{a.step_key} {a.sequence} / {b.step_key} {b.sequence}: {problem}")
    return out + protocol_problems(definition, given, av.tz)


def _grid(
    av: Availability, earliest: dt.datetime, horizon: dt.datetime, grid: int
) -> list[dt.datetime]:
    tz = av.tz
    times: list[dt.datetime] = []
    day = earliest.astimezone(tz).date() - dt.timedelta(days=1)
    while day <= horizon.astimezone(tz).date():
        for minute in range(0, 24 * 60, grid):
            for fold in (0, 1):
                local = dt.datetime.combine(day, dt.time(minute // 60, minute % 60), tz)
                moment = local.replace(fold=fold).astimezone(dt.UTC)
                back = moment.astimezone(tz)
                if back.replace(tzinfo=None) == local.replace(tzinfo=None) and (
                    earliest <= moment <= horizon
                ):
                    times.append(moment)
        day += dt.timedelta(days=1)
    return sorted(set(times))


def options(
    spec: Spec,
    av: Availability,
    prefs: Preferences,
    earliest: dt.datetime,
    horizon: dt.datetime,
    grid: int,
) -> list[Slot]:
    """Every way to hold one appointment on its own, ignoring the rest of the course."""
    staff_for = {
        part: [m.id for m in av.staff if m.active and ROLE_FOR_PART[part] in m.roles]
        for part in spec.parts
    }
    found: list[Slot] = []
    for start in _grid(av, earliest, horizon, grid):
        end = start + dt.timedelta(minutes=spec.minutes)
        for room in av.rooms:
            if room.kind not in spec.room_kinds:
                continue
            for people in itertools.product(*(staff_for[p] for p in spec.parts)):
                if len(set(people)) != len(people):
                    continue
                slot = Slot(
                    spec.step_key,
                    spec.sequence,
                    spec.kind,
                    start,
                    end,
                    spec.buffer_minutes,
                    room.id,
                    tuple(zip(people, spec.parts, strict=True)),
                )
                if not booking_problems(slot, spec, av, prefs, earliest, horizon):
                    found.append(slot)
    return found


def exhaustive(
    definition: ProtocolDefinition,
    av: Availability,
    prefs: Preferences,
    earliest: dt.datetime,
    horizon: dt.datetime,
    grid: int,
) -> Iterator[list[Slot]]:
    """Every valid plan, by brute force (small instances only)."""
    wanted = specs(definition, prefs)
    choices = [options(s, av, prefs, earliest, horizon, grid) for s in wanted]
    tz = av.tz

    def extend(k: int, chosen: list[Slot]) -> Iterator[list[Slot]]:
        if k == len(wanted):
            yield list(chosen)
            return
        for slot in choices[k]:
            if any(clash(slot, other) for other in chosen):
                continue
            chosen.append(slot)
            placed = {(s.step_key, s.sequence): s for s in chosen}
            if not protocol_problems(definition, placed, tz):
                yield from extend(k + 1, chosen)
            chosen.pop()

    yield from extend(0, [])


def completion_day(slots: list[Slot], tz: ZoneInfo) -> dt.date:
    return max((s.ends_at - dt.timedelta(microseconds=1)).astimezone(tz).date() for s in slots)


def earliest_completion(
    definition: ProtocolDefinition,
    av: Availability,
    prefs: Preferences,
    earliest: dt.datetime,
    horizon: dt.datetime,
    grid: int,
) -> dt.date | None:
    """The earliest completion day over every valid plan (branch and bound)."""
    wanted = specs(definition, prefs)
    choices = [options(s, av, prefs, earliest, horizon, grid) for s in wanted]
    tz = av.tz
    best: list[dt.date | None] = [None]

    def day(slot: Slot) -> dt.date:
        return (slot.ends_at - dt.timedelta(microseconds=1)).astimezone(tz).date()

    def extend(k: int, chosen: list[Slot]) -> None:
        if k == len(wanted):
            done = completion_day(chosen, tz)
            if best[0] is None or done < best[0]:
                best[0] = done
            return
        for slot in choices[k]:
            if best[0] is not None and day(slot) >= best[0]:
                continue
            if any(clash(slot, other) for other in chosen):
                continue
            chosen.append(slot)
            placed = {(s.step_key, s.sequence): s for s in chosen}
            if not protocol_problems(definition, placed, tz):
                extend(k + 1, chosen)
            chosen.pop()

    extend(0, [])
    return best[0]
