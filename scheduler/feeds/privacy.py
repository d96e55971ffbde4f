"""What each audience may read about an appointment: summaries, descriptions, places.

Patients choose a level (``Patient.feed_privacy``):

- minimal: "Clinic appointment" and where it is.
- standard: what kind of session, its number in the course and the therapist's first name
  ("Treatment session 3 of 6", "Integration session with Dana").
- detailed: standard plus the protocol's preparation instructions (fasting, a ride home).

Staff feeds name patients by initials unless the staff member opted into full names; room and
location feeds (often shown on a shared screen) always use initials. No audience ever gets a
diagnosis, a dose or a note: the facts these views are built from do not contain any.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..models import (
    AppointmentKind,
    AppointmentStatus,
    FeedOwnerKind,
    FeedPrivacy,
    RoomKind,
    StaffPart,
)
from ..protocols import ProtocolDefinition
from .feed_queries import AppointmentFacts

MINIMAL_SUMMARY = "Clinic appointment"

#: iCalendar STATUS per appointment status. A booked but not yet confirmed appointment is
#: TENTATIVE; once confirmed it stays CONFIRMED through check-in, completion and a no-show (it
#: did take place in the calendar sense); cancelled ones are CANCELLED so clients drop them.
ICAL_STATUS = {
    AppointmentStatus.SCHEDULED: "TENTATIVE",
    AppointmentStatus.CONFIRMED: "CONFIRMED",
    AppointmentStatus.CHECKED_IN: "CONFIRMED",
    AppointmentStatus.COMPLETED: "CONFIRMED",
    AppointmentStatus.NO_SHOW: "CONFIRMED",
    AppointmentStatus.CANCELLED: "CANCELLED",
}

PATIENT_KIND = {
    AppointmentKind.EVALUATION: "Evaluation",
    AppointmentKind.PREPARATION: "Preparation session",
    AppointmentKind.DOSING: "Treatment session",
    AppointmentKind.INTEGRATION: "Integration session",
    AppointmentKind.FOLLOW_UP: "Follow-up appointment",
}

STAFF_KIND = {
    AppointmentKind.EVALUATION: "Evaluation",
    AppointmentKind.PREPARATION: "Preparation",
    AppointmentKind.DOSING: "Dosing session",
    AppointmentKind.INTEGRATION: "Integration",
    AppointmentKind.FOLLOW_UP: "Follow-up",
}

#: Whose first name a patient sees with each kind of session ("... with Dana").
NAMED_PART = {
    AppointmentKind.EVALUATION: StaffPart.EVALUATING_CLINICIAN,
    AppointmentKind.PREPARATION: StaffPart.THERAPIST,
    AppointmentKind.INTEGRATION: StaffPart.THERAPIST,
}


@dataclass(frozen=True)
class Audience:
    """Who reads a feed, and what they chose to see."""

    kind: FeedOwnerKind
    owner_id: int
    privacy: FeedPrivacy = FeedPrivacy.MINIMAL
    full_names: bool = False


@dataclass(frozen=True)
class EventView:
    """Everything one VEVENT shows; equal views render to equal bytes."""

    uid: str
    sequence: int
    stamp: dt.datetime
    starts_at: dt.datetime
    ends_at: dt.datetime
    tzid: str
    status: str
    summary: str
    description: str
    location: str
    #: (time before the start, text) per VALARM.
    alarms: tuple[tuple[dt.timedelta, str], ...] = ()


@dataclass(frozen=True)
class PatientExtras:
    """Per appointment, for patient feeds: reminder times (as VALARMs) and instructions."""

    alarms_before: tuple[dt.timedelta, ...] = ()
    instructions: tuple[str, ...] = ()


@dataclass(frozen=True)
class StepInfo:
    total: int | None = None


def step_info(definition: ProtocolDefinition | None, step_key: str | None) -> StepInfo:
    """How many sessions the protocol step (or the step a pairing belongs to) has; None when
    it is open-ended."""
    if definition is None or not step_key:
        return StepInfo()
    for step in definition.steps:
        if step.key == step_key or (step.pairing is not None and step.pairing.key == step_key):
            return StepInfo(total=step.count)
    return StepInfo()


def view_for(
    audience: Audience,
    facts: AppointmentFacts,
    *,
    step: StepInfo,
    extras: PatientExtras | None = None,
) -> EventView:
    if audience.kind == FeedOwnerKind.PATIENT:
        summary, description = _patient_text(audience.privacy, facts, step, extras)
    else:
        summary, description = _staff_text(audience, facts, step)
    cancelled = facts.cancelled
    alarms: tuple[tuple[dt.timedelta, str], ...] = ()
    if audience.kind == FeedOwnerKind.PATIENT and extras and not cancelled:
        alarms = tuple((before, f"Reminder: {summary}") for before in extras.alarms_before)
    if cancelled:
        summary = f"Cancelled: {summary}"
    return EventView(
        uid=facts.uid,
        sequence=facts.revision,
        stamp=facts.updated_at,
        starts_at=facts.starts_at,
        ends_at=facts.ends_at,
        tzid=facts.timezone,
        status="CANCELLED" if cancelled else ICAL_STATUS[facts.status],
        summary=summary,
        description=description,
        location=place(audience, facts),
        alarms=alarms,
    )


def place(audience: Audience, facts: AppointmentFacts) -> str:
    """The LOCATION: the video link of a telehealth session, else the street address."""
    if facts.room_kind == RoomKind.TELEHEALTH and facts.video_url:
        return facts.video_url
    address = facts.address.strip() or facts.location_name
    if audience.kind == FeedOwnerKind.PATIENT:
        return address
    return f"{facts.room_name}, {address}"


def _patient_text(
    privacy: FeedPrivacy,
    facts: AppointmentFacts,
    step: StepInfo,
    extras: PatientExtras | None,
) -> tuple[str, str]:
    lines: list[str] = []
    summary = MINIMAL_SUMMARY if privacy == FeedPrivacy.MINIMAL else _patient_summary(facts, step)
    if facts.room_kind == RoomKind.TELEHEALTH and facts.video_url:
        lines.append(f"Join by video: {facts.video_url}")
    if privacy == FeedPrivacy.DETAILED and extras and extras.instructions:
        lines.append("")
        lines.append("Before you come:" if facts.kind == AppointmentKind.DOSING else "Notes:")
        lines.extend(f"- {text}" for text in extras.instructions)
    if facts.phone:
        lines.append("")
        lines.append(f"To change this appointment call {facts.phone}.")
    return summary, "\n".join(lines).strip("\n")


def _patient_summary(facts: AppointmentFacts, step: StepInfo) -> str:
    text = PATIENT_KIND[facts.kind]
    if facts.kind in (AppointmentKind.DOSING, AppointmentKind.PREPARATION) and facts.sequence:
        text += f" {facts.sequence}"
        if step.total:
            text += f" of {step.total}"
    part = NAMED_PART.get(facts.kind)
    member = facts.staff_in(part) if part else None
    if member is not None:
        text += f" with {_first_name(member.name)}"
    return text


def _staff_text(audience: Audience, facts: AppointmentFacts, step: StepInfo) -> tuple[str, str]:
    full = audience.kind == FeedOwnerKind.STAFF and audience.full_names
    patient = (
        f"{facts.patient_first_name} {facts.patient_last_name}".strip()
        if full
        else _initials(facts.patient_first_name, facts.patient_last_name)
    )
    label = STAFF_KIND[facts.kind]
    if facts.sequence and facts.kind in (AppointmentKind.DOSING, AppointmentKind.PREPARATION):
        label += f" {facts.sequence}/{step.total}" if step.total else f" {facts.sequence}"
    summary = f"{label} \N{EN DASH} {patient}"
    if facts.room_kind == RoomKind.TELEHEALTH:
        summary += " (video)"
    lines = [f"Patient: {patient}", f"Room: {facts.room_name} ({facts.location_name})"]
    if facts.staff:
        team = ", ".join(f"{s.name} ({str(s.part).replace('_', ' ')})" for s in facts.staff)
        lines.append(f"Staff: {team}")
    if facts.room_kind == RoomKind.TELEHEALTH and facts.video_url:
        lines.append(f"Video: {facts.video_url}")
    status = "removed from your schedule" if facts.departed else str(facts.status)
    lines.append(f"Status: {status.replace('_', ' ')}")
    return summary, "\n".join(lines)


def _initials(first: str, last: str) -> str:
    return f"{first[:1]}.{last[:1]}.".upper()


def _first_name(name: str) -> str:
    parts = name.split()
    if len(parts) > 1 and parts[0].rstrip(".").lower() in {"dr", "mr", "mrs", "ms", "mx"}:
        parts = parts[1:]
    return parts[0] if parts else name
