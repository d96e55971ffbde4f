"""Building calendars: an owner's subscribed feed, one appointment, one course.

Domain code: everything comes in as arguments (session, settings, window, cache); nothing here
reads the request.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import (
    Appointment,
    Course,
    FeedOwnerKind,
    FeedPrivacy,
    Location,
    Patient,
    Room,
    StaffMember,
    WorkingHours,
)
from ..reminders.policy import avoid_quiet_hours, policy_for
from .building import CalendarHead, assemble, render_event, timezone_years
from .cache import BuiltFeed, FeedCache
from .facts import (
    AppointmentFacts,
    Window,
    appointment_facts,
    course_facts,
    feed_facts,
    protocol_definitions,
)
from .privacy import Audience, EventView, PatientExtras, step_info, view_for

MINIMAL_CALENDAR_NAME = "Clinic appointments"


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
    found = audience_of(session, state.kind, state.owner_id)
    if found is None:
        return None
    audience, owner = found
    facts = feed_facts(session, state.kind, state.owner_id, window)
    views = event_views(session, audience, facts)
    head = CalendarHead(
        name=calendar_name(audience, owner, settings.clinic_name),
        timezone=calendar_zone(session, audience, owner, facts),
        refresh=settings.refresh,
    )
    render = cache.event_bytes if cache is not None else render_event
    body = assemble(head, views, (window.start.year, window.end.year), render)
    stamps = [
        _from_second(state.changed_second),
        _from_second(state.clinic_changed_second),
        window.day,
        *(f.updated_at for f in facts),
    ]
    key = (state.version, state.clinic_version, window.label)
    return BuiltFeed.of(key, body, max(stamps).replace(microsecond=0))


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
    views = event_views(session, audience, facts)
    instants = [v.starts_at for v in views] + [v.ends_at for v in views]
    years = timezone_years(instants) if instants else (0, 0)
    return assemble(CalendarHead(method=method), views, years)


def patient_audience(patient: Patient) -> Audience:
    return Audience(FeedOwnerKind.PATIENT, patient.id, privacy=FeedPrivacy(patient.feed_privacy))


def staff_audience(member: StaffMember) -> Audience:
    return Audience(FeedOwnerKind.STAFF, member.id, full_names=bool(member.feed_full_names))


def audience_of(
    session: Session, kind: FeedOwnerKind, owner_id: int
) -> tuple[Audience, Any] | None:
    if kind == FeedOwnerKind.PATIENT:
        patient = session.get(Patient, owner_id)
        return (patient_audience(patient), patient) if patient else None
    if kind == FeedOwnerKind.STAFF:
        member = session.get(StaffMember, owner_id)
        if member is None or not member.active:
            return None
        return staff_audience(member), member
    model = Room if kind == FeedOwnerKind.ROOM else Location
    row = session.get(model, owner_id)
    return (Audience(kind, owner_id), row) if row else None


def calendar_name(audience: Audience, owner: Any, clinic_name: str) -> str:
    if audience.kind == FeedOwnerKind.PATIENT:
        if audience.privacy == FeedPrivacy.MINIMAL:
            return MINIMAL_CALENDAR_NAME
        return clinic_name
    return f"{clinic_name}: {owner.name}"


def calendar_zone(
    session: Session, audience: Audience, owner: Any, facts: Sequence[AppointmentFacts]
) -> str:
    """X-WR-TIMEZONE: where the reader lives (patients) or works. Events carry their own TZID;
    this only sets the zone a client shows the calendar in by default."""
    if audience.kind == FeedOwnerKind.PATIENT:
        return str(owner.timezone)
    if audience.kind == FeedOwnerKind.LOCATION:
        return str(owner.timezone)
    if audience.kind == FeedOwnerKind.ROOM:
        return str(owner.location.timezone)
    if facts:
        return Counter(f.timezone for f in facts).most_common(1)[0][0]
    zone = session.scalar(
        select(Location.timezone)
        .join(WorkingHours, WorkingHours.location_id == Location.id)
        .where(WorkingHours.staff_id == owner.id)
        .order_by(WorkingHours.id)
        .limit(1)
    )
    return zone or "UTC"


def event_views(
    session: Session, audience: Audience, facts: Sequence[AppointmentFacts]
) -> list[EventView]:
    definitions = protocol_definitions(session, facts)
    extras = patient_extras(session, facts) if audience.kind == FeedOwnerKind.PATIENT else {}
    return [
        view_for(
            audience,
            f,
            step=step_info(definitions.get(f.protocol_version_id or -1), f.step_key),
            extras=extras.get(f.id),
        )
        for f in facts
    ]


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
