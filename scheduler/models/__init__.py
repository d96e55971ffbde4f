"""The clinic's data, one module per aggregate. Importing this package registers every table."""

from .appointments import Appointment, AppointmentStaff, ResourceClaim, new_uid
from .audit import AuditEntry, RecordRead
from .clinic import Closure, Location, OpeningHours, Room
from .courses import Course
from .enums import (
    COUNTED_STATUSES,
    HELD_STATUSES,
    LIVE_STATUSES,
    OPEN_STATUSES,
    REQUIRED_PARTS,
    ROLE_FOR_PART,
    ROOM_KINDS_FOR,
    AppointmentKind,
    AppointmentStatus,
    CourseStatus,
    FeedPrivacy,
    Role,
    RoomKind,
    Route,
    StaffPart,
)
from .feeds import FeedDeparture, FeedOwnerKind, FeedToken, FeedVersion
from .patients import Patient
from .protocols import Protocol, ProtocolVersion
from .reminders import (
    MessageKind,
    OutboxMessage,
    Reminder,
    ReminderChannel,
    ReminderStatus,
    ReminderTemplate,
)
from .staff import ApiToken, StaffMember, StaffRole, TimeOff, WorkingHours

__all__ = [
    "COUNTED_STATUSES",
    "HELD_STATUSES",
    "LIVE_STATUSES",
    "OPEN_STATUSES",
    "REQUIRED_PARTS",
    "ROLE_FOR_PART",
    "ROOM_KINDS_FOR",
    "ApiToken",
    "Appointment",
    "AppointmentKind",
    "AppointmentStaff",
    "AppointmentStatus",
    "AuditEntry",
    "Closure",
    "Course",
    "CourseStatus",
    "FeedDeparture",
    "FeedOwnerKind",
    "FeedPrivacy",
    "FeedToken",
    "FeedVersion",
    "Location",
    "MessageKind",
    "OpeningHours",
    "OutboxMessage",
    "Patient",
    "Protocol",
    "ProtocolVersion",
    "RecordRead",
    "Reminder",
    "ReminderChannel",
    "ReminderStatus",
    "ReminderTemplate",
    "ResourceClaim",
    "Role",
    "Room",
    "RoomKind",
    "Route",
    "StaffMember",
    "StaffPart",
    "StaffRole",
    "TimeOff",
    "WorkingHours",
    "new_uid",
]
