"""The planner's snapshot read from the database, on both databases: claims as epoch seconds,
turnover included, the window respected, own appointments left out."""

from __future__ import annotations

import datetime as dt

from scheduler.models import Role, RoomKind
from scheduler.planning import load_availability, to_epoch

TUESDAY = dt.date(2026, 3, 3)


def test_claims_and_resources_of_the_window(make):
    clinic = make.clinic()
    first = make.appointment(clinic, start=make.local(clinic.location, TUESDAY, 9))
    later = make.appointment(
        clinic, start=make.local(clinic.location, TUESDAY + dt.timedelta(days=20), 9)
    )
    start = make.local(clinic.location, TUESDAY, 0)
    availability = load_availability(
        make.session,
        location_id=clinic.location.id,
        patient_id=clinic.patient.id,
        start=start,
        end=start + dt.timedelta(days=7),
        room_kinds={RoomKind.INFUSION_CHAIR},
        roles={Role.CLINICIAN},
    )
    assert [r.id for r in availability.rooms] == [clinic.chair.id]
    assert [m.id for m in availability.staff] == [clinic.clinician.id]
    busy = availability.busy
    room = busy[("room", clinic.chair.id)]
    assert room == [(to_epoch(first.starts_at), to_epoch(first.busy_until))]
    assert busy[("staff", clinic.clinician.id)] == [
        (to_epoch(first.starts_at), to_epoch(first.ends_at))
    ]
    assert busy[("patient", clinic.patient.id)] == [
        (to_epoch(first.starts_at), to_epoch(first.ends_at))
    ]
    assert to_epoch(later.starts_at) not in {s for s, _ in room}
    assert busy[("room", 999_999)] == []


def test_own_appointments_are_left_out(make):
    clinic = make.clinic()
    first = make.appointment(clinic, start=make.local(clinic.location, TUESDAY, 9))
    start = make.local(clinic.location, TUESDAY, 0)
    availability = load_availability(
        make.session,
        location_id=clinic.location.id,
        patient_id=clinic.patient.id,
        start=start,
        end=start + dt.timedelta(days=2),
        room_kinds={RoomKind.INFUSION_CHAIR},
        roles={Role.CLINICIAN},
        exclude_appointments={first.id},
    )
    assert availability.busy[("room", clinic.chair.id)] == []
