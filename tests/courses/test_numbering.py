"""Finding 6 of issue 9: after cancelling dosing 5 of 6 (keeping its integration session) the
course showed dosing 1-4 "of 5", the cancelled one "5 of 5", the next "6 of 6" and the
integration sessions "of 6". A session keeps its number; the count is what the course delivers."""

from __future__ import annotations

from scheduler.audit import Action
from scheduler.booking import AppointmentRequest, book_appointment
from scheduler.courses import cancel_session
from scheduler.courses.numbering import number_course, session_numbers
from scheduler.db import write_transaction
from scheduler.models import Appointment, AppointmentKind, AppointmentStatus
from scheduler.protocols import current_version, definition_of

from .helpers import book
from .test_cancel_everywhere import WHO, book_iv


def numbers_by_key(course_json: dict) -> dict[str, str]:  # type: ignore[type-arg]
    return {
        f"{a['step_key']}-{a['sequence']}" + ("*" if a["status"] == "cancelled" else ""): a[
            "number"
        ]
        for a in course_json["appointments"]
    }


def test_numbering_after_cancelling_dose_5_of_6(api, course_clinic, session, now):
    booked = book_iv(api, course_clinic, session, now)
    course_id = booked["course"]["id"]
    dose = booked["dosing-5"]
    cancelled = api.post(
        f"/api/appointments/{dose['id']}/cancel",
        WHO,
        json={"reason": "Unwell", "keep_integration": True},
    )
    assert cancelled.status_code == 200, cancelled.json
    course = api.get(f"/api/courses/{course_id}", WHO).json
    numbers = numbers_by_key(course)
    assert [numbers[f"dosing-{n}"] for n in (1, 2, 3, 4, 6)] == [
        "1 of 6",
        "2 of 6",
        "3 of 6",
        "4 of 6",
        "6 of 6",
    ]
    assert numbers["dosing-5*"] == "5 of 6 (cancelled)"
    assert [numbers[f"integration-{n}"] for n in range(1, 7)] == [f"{n} of 6" for n in range(1, 7)]
    assert numbers["evaluation-1"] == "1 of 1"
    dosing = [a for a in course["appointments"] if a["kind"] == "dosing"]
    assert {a["of"] for a in dosing} == {6}

    # The course route answers with the same numbers.
    integration = booked["integration-5"]
    answer = api.post(
        f"/api/courses/{course_id}/appointments/{integration['id']}/cancel",
        WHO,
        json={"reason": "Therapist ill"},
    ).json
    assert [a["number"] for a in answer["cancelled"]] == ["5 of 6 (cancelled)"]


def test_a_replacement_dose_takes_the_missed_number(course_clinic, session, now):
    """A rebooked dose is planned under the missing sequence: the course delivers 6 again."""
    course, booked, _plan = book(session, course_clinic, "IV", now)
    fifth = next(a for a in booked if a.step_key == "dosing" and a.sequence == 5)
    action = Action("test", None, now)
    with write_transaction(session):
        cancel_session(session, action, fifth, "Unwell", keep_pair=True)
        start = fifth.starts_at.replace(hour=fifth.starts_at.hour + 3)
        replacement = book_appointment(
            session,
            AppointmentRequest(
                kind=AppointmentKind.DOSING,
                patient_id=fifth.patient_id,
                location_id=fifth.location_id,
                room_id=fifth.room_id,
                starts_at=start,
                ends_at=start + (fifth.ends_at - fifth.starts_at),
                staff=[(p.staff_id, p.part) for p in fifth.participants],
                buffer_minutes=fifth.buffer_minutes,
                course_id=course.id,
                step_key="dosing",
                sequence=5,
            ),
            action,
        )
    everything = list(session.query(Appointment).filter(Appointment.course_id == course.id))
    numbers = number_course(definition_of(course.protocol_version), everything)
    assert str(numbers[fifth.id]) == "5 of 6 (cancelled)"
    assert str(numbers[replacement.id]) == "5 of 6"
    dosing = [a for a in everything if a.kind == AppointmentKind.DOSING]
    assert sum(not numbers[a.id].cancelled for a in dosing) == 6
    # The pages' reader (any appointments, any courses) agrees with the course's own.
    assert session_numbers(session, everything) == numbers


def test_open_ended_steps_have_no_count(course_clinic, session, now):
    _course, booked, _plan = book(session, course_clinic, "Esketamine", now)
    numbers = session_numbers(session, booked)
    doses = sorted(
        (a for a in booked if a.kind == AppointmentKind.DOSING), key=lambda a: a.sequence
    )
    assert str(numbers[doses[2].id]) == "3"
    assert numbers[doses[2].id].of is None


def test_a_number_never_exceeds_its_count(course_clinic, session):
    definition = definition_of(current_version(session, course_clinic.protocol("IV")))
    rows = [
        Appointment(id=n, step_key="dosing", sequence=n, status=AppointmentStatus.SCHEDULED)
        for n in range(1, 8)
    ]
    rows[1].status = AppointmentStatus.NO_SHOW
    numbers = number_course(definition, rows)
    assert str(numbers[7]) == "7 of 7" and str(numbers[1]) == "1 of 7"
    assert str(numbers[2]) == "2 of 7 (no-show)"
