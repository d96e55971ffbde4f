"""The closed vocabularies of the clinic. Stored as strings (with CHECK constraints)."""

from __future__ import annotations

import enum

from sqlalchemy import Enum as SAEnum


class Role(enum.StrEnum):
    ADMIN = "admin"
    FRONT_DESK = "front_desk"
    CLINICIAN = "clinician"
    THERAPIST = "therapist"


class RoomKind(enum.StrEnum):
    INFUSION_CHAIR = "infusion_chair"
    PROCEDURE_ROOM = "procedure_room"
    MONITORED_TREATMENT_ROOM = "monitored_treatment_room"
    THERAPY_ROOM = "therapy_room"
    TELEHEALTH = "telehealth"


class AppointmentKind(enum.StrEnum):
    EVALUATION = "evaluation"
    PREPARATION = "preparation"
    DOSING = "dosing"
    INTEGRATION = "integration"
    FOLLOW_UP = "follow_up"


class AppointmentStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    CONFIRMED = "confirmed"
    CHECKED_IN = "checked_in"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


class StaffPart(enum.StrEnum):
    """What a staff member does in one appointment."""

    ADMINISTERING_CLINICIAN = "administering_clinician"
    THERAPIST = "therapist"
    EVALUATING_CLINICIAN = "evaluating_clinician"


class FeedPrivacy(enum.StrEnum):
    MINIMAL = "minimal"
    STANDARD = "standard"
    DETAILED = "detailed"


class Route(enum.StrEnum):
    IV = "iv"
    IM = "im"
    INTRANASAL = "intranasal_esketamine"


class CourseStatus(enum.StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


#: The room kinds an appointment kind may use; a protocol step narrows this further.
ROOM_KINDS_FOR: dict[AppointmentKind, frozenset[RoomKind]] = {
    AppointmentKind.EVALUATION: frozenset(
        {RoomKind.THERAPY_ROOM, RoomKind.PROCEDURE_ROOM, RoomKind.TELEHEALTH}
    ),
    AppointmentKind.PREPARATION: frozenset({RoomKind.THERAPY_ROOM, RoomKind.TELEHEALTH}),
    AppointmentKind.DOSING: frozenset(
        {RoomKind.INFUSION_CHAIR, RoomKind.PROCEDURE_ROOM, RoomKind.MONITORED_TREATMENT_ROOM}
    ),
    AppointmentKind.INTEGRATION: frozenset({RoomKind.THERAPY_ROOM, RoomKind.TELEHEALTH}),
    AppointmentKind.FOLLOW_UP: frozenset(
        {RoomKind.THERAPY_ROOM, RoomKind.TELEHEALTH, RoomKind.PROCEDURE_ROOM}
    ),
}

#: The role a staff member needs to take a part.
ROLE_FOR_PART: dict[StaffPart, Role] = {
    StaffPart.ADMINISTERING_CLINICIAN: Role.CLINICIAN,
    StaffPart.EVALUATING_CLINICIAN: Role.CLINICIAN,
    StaffPart.THERAPIST: Role.THERAPIST,
}

#: Parts an appointment kind must have filled. Ketamine is Schedule III: every dosing session
#: has a licensed clinician administering.
REQUIRED_PARTS: dict[AppointmentKind, frozenset[StaffPart]] = {
    AppointmentKind.EVALUATION: frozenset({StaffPart.EVALUATING_CLINICIAN}),
    AppointmentKind.PREPARATION: frozenset({StaffPart.THERAPIST}),
    AppointmentKind.DOSING: frozenset({StaffPart.ADMINISTERING_CLINICIAN}),
    AppointmentKind.INTEGRATION: frozenset({StaffPart.THERAPIST}),
    AppointmentKind.FOLLOW_UP: frozenset(),
}

LIVE_STATUSES = frozenset(
    {
        AppointmentStatus.SCHEDULED,
        AppointmentStatus.CONFIRMED,
        AppointmentStatus.CHECKED_IN,
        AppointmentStatus.COMPLETED,
        AppointmentStatus.NO_SHOW,
    }
)


#: Sessions still to come that can be moved, cancelled or re-planned.
OPEN_STATUSES = frozenset({AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED})
#: Sessions that were held (the patient came).
HELD_STATUSES = frozenset({AppointmentStatus.CHECKED_IN, AppointmentStatus.COMPLETED})
#: Sessions that happened or will: what spacing, pairs and dosing safety are measured against
#: (a cancelled or missed session leaves no dose behind).
COUNTED_STATUSES = OPEN_STATUSES | HELD_STATUSES


def enum_column(enum_cls: type[enum.Enum], name: str) -> SAEnum:
    """A portable string enum with a CHECK constraint, storing values (not member names)."""
    return SAEnum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )
