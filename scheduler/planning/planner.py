"""The planner: a protocol, an availability snapshot and preferences in; a proposal out.

Pure: no database, no clock, no Flask. Preference order, as the clinic ranks it:
1. feasible (every protocol and booking rule holds);
2. the earliest completion day of the course;
3. one therapist for all integration sessions;
4. a steady time of day.

Pass 1 searches earliest-first, which gives the earliest completion: the rules are all of the
kind "at least / at most so long after", so the earliest choice for each session never makes a
later one impossible that a later choice would allow. Further passes keep that completion day
as a bound and look for one therapist and steady times; the best plan by the ranking wins.
Everything is ordered by ids and times, so the same inputs give the same plan.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from dataclasses import dataclass, field, replace

from ..models import AppointmentKind, StaffPart
from .availability import Availability
from .constraints import Placement
from .explain import DIAGNOSIS_DAYS, Alternative, alternatives, diagnose
from .preferences import Preferences
from .reasons import Reason, numbered
from .search import Context, Problem, Search, SearchResult
from .shape import Element, Shape
from .timeline import DAY, from_epoch, local_date, midnight

#: Therapists tried for "one therapist for all integration sessions".
THERAPIST_TRIES = 3
#: Times of day tried as the one every session keeps to.
ANCHOR_TRIES = 3
QUALITY_BUDGET = 6_000
#: For the partial plan shown when no plan exists: how far choosing in order gets.
GREEDY_BUDGET = 3_000
#: Seconds a failure's explanation (partial plan, other times) may take past the deadline.
EXPLAIN_SECONDS = 0.2


@dataclass(frozen=True)
class PlannedAppointment:
    key: str
    step_key: str
    kind: AppointmentKind
    sequence: int
    of: int | None
    label: str
    title: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    buffer_minutes: int
    room_id: int
    staff: tuple[tuple[int, StaffPart], ...]
    pair_key: str | None
    paired_with_key: str | None
    #: An appointment that exists already and stays where it is.
    fixed: bool = False


@dataclass(frozen=True)
class PlanFailure:
    key: str
    title: str
    message: str
    alternatives: tuple[Alternative, ...]
    #: False when the search stopped at its budget instead of proving there is no plan.
    exhausted: bool
    #: The element the alternatives are for: the failing one, or, when the failure was found
    #: before anything was placed, the one a plan made in order stops at.
    alternatives_for: str = ""
    #: Why, as data: the first is the main cause.
    reasons: tuple[Reason, ...] = ()


@dataclass
class Plan:
    shape: Shape
    timezone: str
    appointments: list[PlannedAppointment]
    failure: PlanFailure | None
    placements: list[Placement | None] = field(default_factory=list)
    checks: int = 0
    truncated: bool = False
    #: What the plan could not honour though it is complete (a preferred therapist, a closure
    #: that pushed the start), as reasons.
    notices: list[Reason] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.failure is None

    @property
    def status(self) -> str:
        """ "complete"; "impossible" (proved: the rest cannot fit, whatever is booked or as it
        is booked now); "timed_out" (neither a plan nor a proof within the budget)."""
        if self.failure is None:
            return "complete"
        return "impossible" if self.failure.exhausted else "timed_out"

    @property
    def completes_at(self) -> dt.datetime | None:
        if not self.complete or not self.appointments:
            return None
        return max(a.ends_at for a in self.appointments)


def solve(problem: Problem, context: Context, *, quality: bool = True) -> SearchResult:
    """Pass 1, then (when asked) the quality passes within pass 1's completion day."""
    first = Search(problem, context).run()
    if not first.complete or not quality:
        return first
    checks = first.checks
    tz = context.tz
    ends = [p.end for i, p in enumerate(first.placements) if p and i not in problem.fixed]
    if not ends:
        return first
    last_day = local_date(max(ends) - 1, tz)
    # Choosing each session as early as possible gives the earliest completion when rules only
    # say "so long after", but a session can push another's pair later (the patient cannot be
    # in two places): ask for a day earlier until no plan finishes by then.
    while not _late(problem):
        sooner = replace(problem, end_bound=midnight(last_day, tz), budget=QUALITY_BUDGET)
        attempt = Search(sooner, context).run()
        checks += attempt.checks
        if not attempt.complete:
            break
        first = attempt
        ends = [p.end for i, p in enumerate(first.placements) if p and i not in problem.fixed]
        last_day = local_date(max(ends) - 1, tz)
    end_bound = midnight(last_day + dt.timedelta(days=1), tz)
    found: list[SearchResult] = [first]
    steady = replace(problem, order="steady", end_bound=end_bound, budget=QUALITY_BUDGET)
    pair_keys = sorted({e.step_key for e in problem.shape.elements if e.is_pairing})
    if pair_keys:
        for therapist in _therapists(problem, context, first)[:THERAPIST_TRIES]:
            if _late(problem):
                break
            only = dict(problem.only_staff)
            only.update({(key, StaffPart.THERAPIST): therapist for key in pair_keys})
            attempt = Search(replace(steady, only_staff=only), context).run()
            checks += attempt.checks
            if attempt.complete:
                found.append(attempt)
                break
    if (len(found) == 1 or not pair_keys) and not _late(problem):
        attempt = Search(steady, context).run()
        checks += attempt.checks
        if attempt.complete:
            found.append(attempt)
    best = min(found, key=lambda r: score(problem, context, r))
    # A steady time of day: try the times the main step's sessions took so far as the time
    # every session keeps to (the first session's time is not always the one that fits all).
    main = _main_step(problem)
    if main is not None:
        only = _only_staff(problem, best)
        tried = {None}
        for minute in _minutes(problem, context, [best, first], main)[:ANCHOR_TRIES]:
            if minute in tried or _late(problem):
                continue
            tried.add(minute)
            anchors = {**problem.anchors, main: minute}
            attempt = Search(replace(steady, only_staff=only, anchors=anchors), context).run()
            checks += attempt.checks
            if attempt.complete:
                found.append(attempt)
        best = min(found, key=lambda r: score(problem, context, r))
    best.checks = checks
    return best


def _late(problem: Problem) -> bool:
    return problem.deadline is not None and time.monotonic() > problem.deadline


def _main_step(problem: Problem) -> str | None:
    counts = Counter(
        e.step_key
        for e in problem.shape.elements
        if not e.is_pairing and e.index not in problem.fixed
    )
    if not counts:
        return None
    key, count = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
    return key if count > 1 else None


def _only_staff(problem: Problem, result: SearchResult) -> dict[tuple[str, StaffPart], int]:
    """The therapist a result gave every integration session, kept for later passes."""
    only = dict(problem.only_staff)
    for key in {e.step_key for e in problem.shape.elements if e.is_pairing}:
        used = {
            s
            for e, p in zip(problem.shape.elements, result.placements, strict=True)
            if p is not None and e.step_key == key and e.index not in problem.fixed
            for s, part in p.staff
            if part == StaffPart.THERAPIST
        }
        if len(used) == 1:
            only[(key, StaffPart.THERAPIST)] = used.pop()
    return only


def _minutes(
    problem: Problem, context: Context, results: list[SearchResult], step_key: str
) -> list[int]:
    counts: Counter[int] = Counter()
    for result in results:
        for e, p in zip(problem.shape.elements, result.placements, strict=True):
            if p is not None and e.step_key == step_key and e.index not in problem.fixed:
                counts[context.calendar.local_minute(p.start)] += 1
    return [m for m, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def _therapists(problem: Problem, context: Context, result: SearchResult) -> list[int]:
    used: Counter[int] = Counter()
    for element, p in zip(problem.shape.elements, result.placements, strict=True):
        if element.is_pairing and p is not None and element.index not in problem.fixed:
            used.update(s for s, part in p.staff if part == StaffPart.THERAPIST)
    ranked: list[int] = []
    if problem.preferences.therapist_id is not None:
        ranked.append(problem.preferences.therapist_id)
    ranked.extend(s for s, _ in sorted(used.items(), key=lambda kv: (-kv[1], kv[0])))
    return list(dict.fromkeys(ranked))


def score(problem: Problem, context: Context, result: SearchResult) -> tuple[int, int, int, int]:
    """Lower is better: completion day, therapists for integration, spread of times, then the
    sum of start times (earlier is better when all else is equal)."""
    tz = context.tz
    cal = context.calendar
    ends: list[int] = []
    therapists: set[int] = set()
    minutes: dict[str, list[int]] = {}
    total = 0
    for element, p in zip(problem.shape.elements, result.placements, strict=True):
        if p is None or element.index in problem.fixed:
            continue
        ends.append(p.end)
        total += p.start
        if element.is_pairing:
            therapists.update(s for s, part in p.staff if part == StaffPart.THERAPIST)
        minutes.setdefault(element.step_key, []).append(cal.local_minute(p.start))
    spread = 0
    for values in minutes.values():
        middle = sorted(values)[len(values) // 2]
        spread += sum(abs(v - middle) for v in values)
    last = local_date(max(ends) - 1, tz).toordinal() if ends else 0
    return last, len(therapists), spread, total


def plan_elements(problem: Problem, availability: Availability, *, quality: bool = True) -> Plan:
    """Run the search for ``problem`` and describe the outcome as a plan."""
    context = Context(availability, problem.grid_minutes)
    result = solve(problem, context, quality=quality)
    return to_plan(problem, context, result)


def to_plan(problem: Problem, context: Context, result: SearchResult) -> Plan:
    if result.complete:
        return _plan(problem, context, result, result.placements, None)
    assert result.failed is not None
    i = result.failed
    element = problem.shape.elements[i]
    placements = result.placements
    explaining = replace(problem, deadline=_explaining(problem.deadline))
    reasons = [diagnose(explaining, context, placements, i, result.window, result.contradiction)]
    if result.gap is not None and result.gap[2] - result.gap[1] >= DAY:
        k, start, end = result.gap
        reasons.append(diagnose(explaining, context, placements, k, (start, end - 1)))
    target = i
    quick = replace(explaining, propagate=False, budget=GREEDY_BUDGET, order="earliest")
    if any(placements[r] is None for c in element.constraints for r in c.refs):
        # Found by reasoning over the whole course before this element's own references were
        # placed: show how far a plan made in order gets and offer the alternatives where it
        # stops. The reasoning stays the cause unless it speaks of days far past the request.
        greedy = Search(quick, context).run()
        if not greedy.complete and greedy.failed is not None:
            placements, target = greedy.placements, greedy.failed
            stops = diagnose(explaining, context, placements, target, greedy.window)
            far = problem.earliest + DIAGNOSIS_DAYS * DAY
            same = stops.cause == reasons[0].cause
            if same or result.window is None or result.window[0] > far:
                reasons = [stops]
    if not result.exhausted:
        reasons = [_not_found(problem, result), *reasons]
    failing = problem.shape.elements[target]
    options = tuple(alternatives(explaining, context, placements, target))
    placements = Search(quick, context).fill(placements)
    failure = PlanFailure(
        key=failing.key,
        title=failing.title,
        message=" ".join(_sentence(problem, r) for r in reasons),
        alternatives=options,
        exhausted=result.exhausted,
        alternatives_for=failing.key,
        reasons=tuple(reasons),
    )
    return _plan(problem, context, result, placements, failure)


def _explaining(deadline: float | None) -> float | None:
    """Explaining a failure gets a little time of its own after the search's budget."""
    if deadline is None:
        return None
    return max(deadline, time.monotonic()) + EXPLAIN_SECONDS


def _sentence(problem: Problem, reason: Reason) -> str:
    if not reason.step:
        return reason.cause
    element = next(e for e in problem.shape.elements if e.key == reason.step)
    return f"{numbered(element)}: {reason.cause}"


def _not_found(problem: Problem, result: SearchResult) -> Reason:
    """What an unproven failure can honestly say: how far planning got in the time it had."""
    placed = sum(
        1 for k, p in enumerate(result.placements) if p is not None and k not in problem.fixed
    )
    total = len(problem.shape.elements) - len(problem.fixed)
    return Reason(
        "not_found_in_time",
        "",
        f"No plan was found in the time allowed; {placed} of {total} sessions could be placed "
        "before it ran out.",
        "Drop a preference or choose a later start.",
    )


def impossible(shape: Shape, timezone: str, reason: Reason) -> Plan:
    """A plan with nothing placed, for a request that cannot fit whatever is booked."""
    element = next((e for e in shape.elements if e.key == reason.step), shape.elements[0])
    # The feasibility check's sentences name their sessions themselves.
    message = " ".join(filter(None, [reason.cause, reason.fix]))
    failure = PlanFailure(
        key=element.key,
        title=element.title,
        message=message,
        alternatives=(),
        exhausted=True,
        alternatives_for=element.key,
        reasons=(reason,),
    )
    return Plan(shape, timezone, [], failure, [None] * len(shape))


def _plan(
    problem: Problem,
    context: Context,
    result: SearchResult,
    placements: list[Placement | None],
    failure: PlanFailure | None,
) -> Plan:
    return Plan(
        shape=problem.shape,
        timezone=context.tz.key,
        appointments=planned(problem.shape, placements, set(problem.fixed)),
        failure=failure,
        placements=placements,
        checks=result.checks,
        truncated=result.truncated,
    )


def planned(
    shape: Shape, placements: list[Placement | None], fixed: set[int]
) -> list[PlannedAppointment]:
    pair_of: dict[int, Element] = {e.pair_of: e for e in shape.elements if e.pair_of is not None}
    result: list[PlannedAppointment] = []
    for element, p in zip(shape.elements, placements, strict=True):
        if p is None:
            continue
        pair = pair_of.get(element.index)
        paired_with = shape.elements[element.pair_of] if element.pair_of is not None else None
        result.append(
            PlannedAppointment(
                key=element.key,
                step_key=element.step_key,
                kind=element.kind,
                sequence=element.sequence,
                of=element.of,
                label=element.label,
                title=element.title,
                starts_at=from_epoch(p.start),
                ends_at=from_epoch(p.end),
                buffer_minutes=element.buffer_minutes,
                room_id=p.room_id,
                staff=p.staff,
                pair_key=pair.key if pair is not None else None,
                paired_with_key=paired_with.key if paired_with is not None else None,
                fixed=element.index in fixed,
            )
        )
    result.sort(key=lambda a: (a.starts_at, a.key))
    return result


def new_course_problem(
    shape: Shape,
    preferences: Preferences,
    earliest: dt.datetime,
    horizon: dt.datetime,
    grid_minutes: int = 15,
) -> Problem:
    return Problem(
        shape=shape,
        earliest=_ceil(int(earliest.timestamp()), 60),
        horizon=int(horizon.timestamp()),
        preferences=preferences,
        grid_minutes=grid_minutes,
    )


def _ceil(value: int, step: int) -> int:
    return -(-value // step) * step
