"""Building calendars: an owner's subscribed feed, one appointment, one course.

Domain code: everything comes in as arguments (session, settings, window, cache); nothing here
reads the request.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import (
    Appointment,
    Course,
    FeedOwnerKind,
    FeedPrivacy,
    Patient,
    StaffMember,
)
from ..reminders.policy import avoid_quiet_hours, policy_for
from .building import CalendarHead, assemble, render_event, timezone_years
from .cache import BuiltFeed, FeedCache, Snapshot
from .feed_queries import (
    AppointmentFacts,
    Window,
    appointment_facts,
    course_facts,
    feed_facts,
    feed_marks,
    protocol_definitions,
)
from .owners import load_owner
from .privacy import Audience, PatientExtras, StepInfo, step_info, view_for


@dataclass(frozen=True)
class FeedSettings:
    clinic_name: str = "Ketamine Clinic"
    days_back: int = 90
    days_ahead: int = 365
    cancelled_grace_days: int = 30
    refresh: dt.timedelta = dt.timedelta(hours=1)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> FeedSettings:
        return cls(
            clinic_name=str(config.get("CLINIC_NAME") or cls.clinic_name),
            days_back=int(config.get("FEED_DAYS_BACK", cls.days_back)),
            days_ahead=int(config.get("FEED_DAYS_AHEAD", cls.days_ahead)),
            cancelled_grace_days=int(
                config.get("FEED_CANCELLED_GRACE_DAYS", cls.cancelled_grace_days)
            ),
            refresh=dt.timedelta(minutes=int(config.get("FEED_REFRESH_MINUTES", 60))),
        )

    def window(self, now: dt.datetime) -> Window:
        return Window.around(now, self.days_back, self.days_ahead, self.cancelled_grace_days)


@dataclass(frozen=True)
class FeedState:
    """A feed's owner and the counters its cached body must match (from the token lookup)."""

    kind: FeedOwnerKind
    owner_id: int
    version: int = 0
    changed_second: int = 0
    clinic_version: int = 0
    clinic_changed_second: int = 0

    @property
    def owner(self) -> tuple[str, int]:
        return (str(self.kind), self.owner_id)


def cached_feed(
    session: Session,
    state: FeedState,
    window: Window,
    settings: FeedSettings,
    cache: FeedCache,
) -> BuiltFeed | None:
    """The owner's feed: the cached body while nothing changed, else a rebuild. None when the
    owner no longer exists (or is a deactivated staff member)."""
    key = (state.version, state.clinic_version, window.label)
    return cache.feed(state.owner, key, lambda: build_feed(session, state, window, settings, cache))


def build_feed(
    session: Session,
    state: FeedState,
    window: Window,
    settings: FeedSettings,
    cache: FeedCache | None = None,
) -> BuiltFeed | None:
    """Build the owner's feed. With a cache, a rebuild after a change reads the full facts
    only of appointments whose revision moved, and renders only those events."""
    owner = load_owner(session, state.kind, state.owner_id)
    if owner is None:
        return None
    audience = owner.audience
    previous = cache.snapshot(state.owner) if cache is not None else None
    if (
        previous is not None
        # Patient feeds carry reminders whose rules live outside the appointment: small
        # feeds, always read whole.
        and audience.kind != FeedOwnerKind.PATIENT
        and previous.fits(state.clinic_version, audience, window.label)
    ):
        entries = _reuse(session, state, window, audience, previous, cache)
    else:
        facts = feed_facts(session, state.kind, state.owner_id, window)
        entries = _render(session, audience, facts, cache)
    if cache is not None:
        cache.keep_snapshot(
            state.owner,
            Snapshot(
                state.clinic_version,
                audience,
                window.label,
                {f.id: ((f.revision, f.departed), f, data) for f, data in entries},
            ),
        )
    facts = [f for f, _data in entries]
    head = CalendarHead(
        name=owner.calendar_name(settings.clinic_name),
        timezone=owner.calendar_zone(session, facts),
        refresh=settings.refresh,
    )
    years = (window.start.year, window.end.year)
    body = assemble(head, (f.timezone for f in facts), years, (data for _f, data in entries))
    stamps = [
        _from_second(state.changed_second),
        _from_second(state.clinic_changed_second),
        window.day,
        *(f.updated_at for f in facts),
    ]
    key = (state.version, state.clinic_version, window.label)
    return BuiltFeed.of(key, body, max(stamps).replace(microsecond=0))


Entry = tuple[AppointmentFacts, bytes]


def _render(
    session: Session,
    audience: Audience,
    facts: Sequence[AppointmentFacts],
    cache: FeedCache | None,
) -> list[Entry]:
    inputs = event_inputs(session, audience, facts)
    if cache is None:
        return [(key[1], render_input(key)) for key in inputs]
    return [(key[1], cache.event_bytes(key, partial(render_input, key))) for key in inputs]


def _reuse(
    session: Session,
    state: FeedState,
    window: Window,
    audience: Audience,
    previous: Snapshot,
    cache: FeedCache | None,
) -> list[Entry]:
    marks = feed_marks(session, state.kind, state.owner_id, window)
    stale = {i for i, mark in marks.items() if previous.entries.get(i, (None,))[0] != mark}
    entries: list[Entry] = [
        (previous.entries[i][1], previous.entries[i][2]) for i in marks if i not in stale
    ]
    if stale:
        fresh = feed_facts(session, state.kind, state.owner_id, window, only=sorted(stale))
        entries.extend(_render(session, audience, fresh, cache))
    entries.sort(key=lambda e: (e[0].starts_at, e[0].id))
    return entries


def render_appointment_ics(
    session: Session,
    appointment: Appointment,
    *,
    audience: Audience | None = None,
    method: str = "PUBLISH",
) -> bytes:
    """One appointment as an .ics file (the attachment of booking and change e-mails).

    By default written for the patient, at their privacy level and with their reminders.
    Cancelled appointments come out as STATUS:CANCELLED with the raised SEQUENCE, which
    updates the copy a calendar imported before.
    """
    session.flush()
    if audience is None:
        audience = patient_audience(appointment.patient)
    return _calendar(session, audience, appointment_facts(session, [appointment.id]), method)


def render_course_ics(
    session: Session,
    course: Course,
    *,
    audience: Audience | None = None,
    method: str = "PUBLISH",
) -> bytes:
    """Every appointment of a course, cancelled ones included (as cancelled)."""
    session.flush()
    if audience is None:
        audience = patient_audience(course.patient)
    return _calendar(session, audience, course_facts(session, course.id), method)


def _calendar(
    session: Session, audience: Audience, facts: list[AppointmentFacts], method: str
) -> bytes:
    events = [render_input(key) for key in event_inputs(session, audience, facts)]
    instants = [f.starts_at for f in facts] + [f.ends_at for f in facts]
    years = timezone_years(instants) if instants else (0, 0)
    return assemble(CalendarHead(method=method), (f.timezone for f in facts), years, events)


def patient_audience(patient: Patient) -> Audience:
    return Audience(FeedOwnerKind.PATIENT, patient.id, privacy=FeedPrivacy(patient.feed_privacy))


def staff_audience(member: StaffMember) -> Audience:
    return Audience(FeedOwnerKind.STAFF, member.id, full_names=bool(member.feed_full_names))


#: Everything one VEVENT is rendered from; equal inputs render to equal bytes.
EventInput = tuple[Audience, AppointmentFacts, StepInfo, PatientExtras | None]


def event_inputs(
    session: Session, audience: Audience, facts: Sequence[AppointmentFacts]
) -> list[EventInput]:
    definitions = protocol_definitions(session, facts)
    extras = patient_extras(session, facts) if audience.kind == FeedOwnerKind.PATIENT else {}
    steps: dict[tuple[int | None, str | None], StepInfo] = {}
    found: list[EventInput] = []
    for f in facts:
        step_key = (f.protocol_version_id, f.step_key)
        step = steps.get(step_key)
        if step is None:
            definition = definitions.get(f.protocol_version_id or -1)
            step = steps[step_key] = step_info(definition, f.step_key)
        found.append((audience, f, step, extras.get(f.id)))
    return found


def render_input(key: EventInput) -> bytes:
    audience, facts, step, extras = key
    return render_event(view_for(audience, facts, step=step, extras=extras))


def patient_extras(session: Session, facts: Sequence[AppointmentFacts]) -> dict[int, PatientExtras]:
    """Reminder times and instructions, from the reminders policy (the one place those rules
    live): each reminder becomes a VALARM at the time the clinic would message, moved out of
    the patient's quiet hours the same way."""
    wanted = [f.id for f in facts if not f.cancelled]
    if not wanted:
        return {}
    found: dict[int, PatientExtras] = {}
    for appointment in session.scalars(select(Appointment).where(Appointment.id.in_(wanted))):
        policy = policy_for(appointment)
        start = appointment.starts_at
        befores = []
        for rule in policy.rules:
            at = avoid_quiet_hours(
                start - rule.before, policy.timezone, policy.quiet_start, policy.quiet_end
            )
            befores.append(start - at)
        found[appointment.id] = PatientExtras(
            alarms_before=tuple(sorted(set(befores), reverse=True)),
            instructions=tuple(policy.instructions),
        )
    return found


def _from_second(second: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(second, dt.UTC)
