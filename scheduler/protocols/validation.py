"""Why a protocol cannot work: each problem keyed by the field path that causes it.

Only certain impossibilities are refused (a maximum below a minimum, more sessions than a
window holds, a pairing that cannot fit its day); whether a clinic has room for a protocol is
the planner's question, not the definition's.
"""

from __future__ import annotations

from ..models import REQUIRED_PARTS, ROOM_KINDS_FOR, AppointmentKind, RoomKind, StaffPart
from .definition import Pairing, Phase, ProtocolDefinition, Step

DAY = 86400
WEEK = 7 * DAY
MAX_SESSION_MINUTES = 12 * 60


def _words(value: str) -> str:
    return value.replace("_", " ")


def _minutes(seconds: int) -> str:
    days, rest = divmod(seconds, DAY)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = []
    if days:
        parts.append(f"{days} day{'s' if days != 1 else ''}")
    if hours:
        parts.append(f"{hours} h")
    if minutes or not parts:
        parts.append(f"{minutes} min")
    return " ".join(parts)


def problems(definition: ProtocolDefinition) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}

    def add(path: str, message: str) -> None:
        found.setdefault(path, []).append(message)

    keys: dict[str, str] = {}
    for i, step in enumerate(definition.steps):
        for path, key in [(f"steps.{i}.key", step.key)] + (
            [(f"steps.{i}.pairing.key", step.pairing.key)] if step.pairing else []
        ):
            if key in keys:
                add(path, f"the key {key!r} is already used by {keys[key]}")
            else:
                keys[key] = path
    seen_requirements: set[tuple[str, str | None]] = set()
    for i, requirement in enumerate(definition.requires):
        key = (requirement.rule, requirement.of)
        if key in seen_requirements:
            add(f"requires.{i}", "this requirement is listed twice")
        seen_requirements.add(key)
    earlier: set[str] = set()
    for i, step in enumerate(definition.steps):
        _check_step(step, f"steps.{i}", earlier, add)
        earlier.add(step.key)
    return found


def _check_resources(
    kind: AppointmentKind,
    room_kinds: tuple[RoomKind, ...],
    parts: tuple[StaffPart, ...],
    path: str,
    add,  # type: ignore[no-untyped-def]
) -> None:
    allowed = ROOM_KINDS_FOR[kind]
    wrong = [k for k in room_kinds if k not in allowed]
    if wrong:
        add(
            f"{path}.room_kinds",
            f"a {_words(kind.value)} session cannot use a {_words(wrong[0].value)} "
            f"(allowed: {', '.join(sorted(_words(k.value) for k in allowed))})",
        )
    if len(set(parts)) != len(parts):
        add(f"{path}.staff", "a part is listed twice")
    missing = REQUIRED_PARTS[kind] - set(parts)
    if missing:
        add(
            f"{path}.staff",
            f"a {_words(kind.value)} session needs: "
            + ", ".join(sorted(_words(p.value) for p in missing)),
        )


def _check_step(step: Step, path: str, earlier: set[str], add) -> None:  # type: ignore[no-untyped-def]
    _check_resources(step.kind, step.room_kinds, step.parts, path, add)
    if step.minutes > MAX_SESSION_MINUTES:
        add(
            f"{path}.monitoring_minutes",
            f"administration plus monitoring is {step.minutes} min; a session lasts at most "
            "12 hours",
        )
    duration = step.minutes * 60
    for j, phase in enumerate(step.phases):
        _check_phase(step, j, phase, f"{path}.phases.{j}", duration, add)
    if step.open_ended and step.book_ahead is None:
        add(f"{path}.book_ahead", "an open-ended step needs book_ahead (sessions booked at a time)")
    if not step.open_ended and step.book_ahead is not None:
        add(f"{path}.book_ahead", "only an open-ended step (last phase without count) books ahead")
    if step.window is not None:
        if step.open_ended:
            add(f"{path}.window", "an open-ended step cannot have an overall window")
        else:
            _check_window(step, path, duration, add)
    for k, prerequisite in enumerate(step.after):
        p = f"{path}.after.{k}"
        if prerequisite.step == step.key:
            add(f"{p}.step", "a step cannot come after itself")
        elif prerequisite.step not in earlier:
            add(f"{p}.step", f"no earlier step called {prerequisite.step!r}")
        if (
            prerequisite.max_gap is not None
            and prerequisite.max_gap.nominal_seconds < prerequisite.min_gap.nominal_seconds
        ):
            add(
                f"{p}.max_gap",
                f"max_gap ({prerequisite.max_gap}) is below min_gap ({prerequisite.min_gap})",
            )
    if step.pairing is not None:
        _check_pairing(step, step.pairing, f"{path}.pairing", add)


def _check_phase(step: Step, j: int, phase: Phase, path: str, duration: int, add) -> None:  # type: ignore[no-untyped-def]
    last = j == len(step.phases) - 1
    if phase.count is None and not last:
        add(f"{path}.count", "only the last phase can be open-ended (no count)")
    low = phase.min_gap.nominal_seconds if phase.min_gap is not None else None
    high = phase.max_gap.nominal_seconds if phase.max_gap is not None else None
    if low is not None and high is not None and high < low:
        add(f"{path}.max_gap", f"max_gap ({phase.max_gap}) is below min_gap ({phase.min_gap})")
    if low is not None and low < duration:
        add(
            f"{path}.min_gap",
            f"min_gap ({phase.min_gap}) is shorter than one session ({step.minutes} min): "
            "sessions would overlap",
        )
    if high is not None and high < duration:
        add(
            f"{path}.max_gap",
            f"max_gap ({phase.max_gap}) is shorter than one session ({step.minutes} min)",
        )
    if phase.weeks_to is not None and phase.weeks_from is None:
        add(f"{path}.weeks_from", "weeks_to needs weeks_from")
    if phase.weeks_from is not None and phase.weeks_to is not None:
        if phase.weeks_to < phase.weeks_from:
            add(f"{path}.weeks_to", f"week {phase.weeks_to} is before week {phase.weeks_from}")
        elif phase.count is not None:
            weeks = phase.weeks_to - phase.weeks_from + 1
            gap = max(low or duration, duration)
            fit = (weeks * WEEK - duration) // gap + 1
            if phase.per_week is not None:
                fit = min(fit, phase.per_week * weeks)
            if phase.count > fit:
                how = f" at most {phase.per_week} a week" if phase.per_week else ""
                add(
                    f"{path}.count",
                    f"{phase.count} sessions cannot fit in weeks {phase.weeks_from}-"
                    f"{phase.weeks_to}{how} (at most {fit})",
                )
    if phase.weeks_to is not None and phase.count is None:
        add(f"{path}.weeks_to", "an open-ended phase has no last week")
    if j > 0 and phase.weeks_from is not None:
        previous = step.phases[j - 1]
        if previous.weeks_to is not None and phase.weeks_from <= previous.weeks_to:
            add(
                f"{path}.weeks_from",
                f"week {phase.weeks_from} overlaps phase {j} (weeks up to {previous.weeks_to})",
            )
    if j == 0 and phase.weeks_from not in (None, 1):
        add(f"{path}.weeks_from", "the first phase starts in week 1 (the first session's week)")


def _check_window(step: Step, path: str, duration: int, add) -> None:  # type: ignore[no-untyped-def]
    """The shortest the step can take, from its first start to its last end, against the window.

    Week bounds allow a day of slack, because week 1 starts on the first session's day, not at
    its time.
    """
    assert step.window is not None
    count = step.finite_count
    earliest = 0
    for sequence in range(2, count + 1):
        _, phase = step.phase_for(sequence)
        gap = phase.min_gap.nominal_seconds if phase.min_gap is not None else duration
        earliest += max(gap, duration)
        if phase.weeks_from is not None:
            earliest = max(earliest, (phase.weeks_from - 1) * WEEK - DAY)
    needed = earliest + duration
    window = step.window.nominal_seconds
    if needed > window:
        add(
            f"{path}.window",
            f"{count} sessions with the phases' spacing need at least {_minutes(needed)}; "
            f"the window is {step.window.describe()}",
        )


def _check_pairing(step: Step, pairing: Pairing, path: str, add) -> None:  # type: ignore[no-untyped-def]
    _check_resources(pairing.kind, pairing.room_kinds, pairing.parts, path, add)
    low = pairing.min_after.nominal_seconds
    high = pairing.max_after.nominal_seconds
    if high < low:
        add(
            f"{path}.max_after",
            f"the window closes ({pairing.max_after}) before it opens ({pairing.min_after})",
        )
    if pairing.anchor == "start" and low < step.minutes * 60:
        add(
            f"{path}.min_after",
            f"counted from the start, {pairing.min_after} falls inside the {step.minutes}-min "
            f"{_words(step.key)} session: the patient cannot be in both",
        )
    if pairing.same_day:
        before = step.minutes * 60 if pairing.anchor == "end" else 0
        least = before + low + pairing.minutes * 60
        if least > DAY:
            add(
                f"{path}.min_after",
                f"a same-day session would end at least {_minutes(least)} after the day starts",
            )
