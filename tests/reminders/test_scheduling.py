"""Reminder rows follow appointment changes in the same transaction, on both databases."""

from __future__ import annotations

import copy
import datetime as dt

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from scheduler.audit import Action
from scheduler.booking import cancel_appointment, progress_appointment, reschedule_appointment
from scheduler.db import write_transaction
from scheduler.models import (
    AppointmentKind,
    Course,
    MessageKind,
    Reminder,
    ReminderChannel,
    ReminderStatus,
)
from scheduler.protocols import current_version
from scheduler.reminders.policy import DEFAULT_INSTRUCTIONS, policy_for
from scheduler.reminders.scheduling import course_booked, patient_changed, schedule_reminders

from .conftest import IV_DEFINITION, iv_definition, rows

D = dt.date(2026, 3, 5)  # Thursday


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def by_key(session) -> dict[tuple[str, int | None, str], Reminder]:
    return {(str(r.kind), r.offset_minutes, str(r.channel)): r for r in rows(session)}


def move(session, appointment, start, now):
    with write_transaction(session):
        reschedule_appointment(session, appointment, Action("move", None, now), starts_at=start)


def cancel(session, appointment, now):
    with write_transaction(session):
        cancel_appointment(session, appointment, Action("cancel", None, now), "patient ill")


def mark(session, row, status=ReminderStatus.SENT):
    with write_transaction(session):
        session.get(Reminder, row.id).status = status


def test_dosing_booking_plans_48h_2h_and_a_booked_notice(make, session, now):
    clinic = make.clinic()
    appt = make.appointment(clinic, start=make.local(clinic.location, D, 10))  # 15:00 UTC
    found = by_key(session)
    assert set(found) == {
        ("reminder", 2880, "email"),
        ("reminder", 120, "email"),
        ("booked", None, "email"),
    }
    assert found[("reminder", 2880, "email")].due_at == utc(2026, 3, 3, 15, 0)
    assert found[("reminder", 2880, "email")].template == "dosing_preparation"
    # 2 h before 10:00 is 08:00 in New York: the first allowed minute of the morning.
    assert found[("reminder", 120, "email")].due_at == utc(2026, 3, 5, 13, 0)
    # Booked at 02:00 New York time: the notice waits for the end of the patient's night.
    assert found[("booked", None, "email")].due_at == utc(2026, 3, 2, 13, 0)
    assert all(r.appointment_id == appt.id and r.status == "pending" for r in found.values())


def test_integration_reminders_follow_the_patients_zone_and_channels(make, session):
    clinic = make.clinic()
    patient = make.patient(timezone="Europe/Berlin", remind_by_sms=True)
    # 09:00 New York = 15:00 Berlin; 1 h before is 14:00 Berlin, 24 h before is fine too.
    make.appointment(
        clinic,
        kind=AppointmentKind.INTEGRATION,
        minutes=50,
        room=clinic.telehealth,
        patient=patient,
        start=make.local(clinic.location, D, 9),
    )
    found = by_key(session)
    assert {(k, o) for k, o, _c in found} == {
        ("reminder", 1440),
        ("reminder", 60),
        ("booked", None),
    }
    assert {c for _k, _o, c in found} == {"email", "sms"}
    assert found[("reminder", 60, "sms")].due_at == utc(2026, 3, 5, 13, 0)
    assert found[("reminder", 1440, "email")].template == "integration_reminder"


def test_quiet_hours_use_the_patients_zone_not_the_clinics(make, session):
    clinic = make.clinic()  # New York
    patient = make.patient(timezone="Asia/Tokyo")
    # 08:30 in New York on Thu is 22:30 in Tokyo: the 2 h reminder (20:30 Tokyo) is fine,
    # the 48 h one (Tue 22:30 Tokyo) moves to 21:00 Tokyo.
    make.appointment(clinic, patient=patient, start=make.local(clinic.location, D, 8, 30))
    found = by_key(session)
    assert found[("reminder", 120, "email")].due_at == utc(2026, 3, 5, 11, 30)
    assert found[("reminder", 2880, "email")].due_at == utc(2026, 3, 3, 12, 0)


def test_patient_overrides_and_opt_outs(make, session):
    clinic = make.clinic()
    patient = make.patient(
        reminder_overrides={"dosing": [72]}, remind_by_email=False, remind_by_sms=True
    )
    make.appointment(clinic, patient=patient, start=make.local(clinic.location, D, 10))
    found = by_key(session)
    assert set(found) == {("reminder", 4320, "sms"), ("booked", None, "sms")}
    assert found[("reminder", 4320, "sms")].template == "dosing_preparation"
    silent = make.patient(remind_by_email=False, remind_by_sms=False)
    make.appointment(clinic, patient=silent, start=make.local(clinic.location, D, 14))
    assert [r for r in rows(session) if r.patient_id == silent.id] == []


def test_booking_after_a_reminders_time(make, session):
    clinic = make.clinic()
    # Tomorrow 11:00 New York: the 48 h reminder's time is past; its instructions come with
    # the booking message instead, and the 2 h reminder stays.
    make.appointment(clinic, start=make.local(clinic.location, dt.date(2026, 3, 3), 11))
    found = by_key(session)
    assert found[("reminder", 2880, "email")].status == "skipped"
    assert "booking message" in found[("reminder", 2880, "email")].skip_reason
    assert found[("reminder", 120, "email")].status == "pending"
    assert found[("booked", None, "email")].status == "pending"


def test_scheduling_twice_creates_nothing_new(make, session):
    clinic = make.clinic()
    appt = make.appointment(clinic, start=make.local(clinic.location, D, 10))
    before = len(rows(session))
    with write_transaction(session):
        assert schedule_reminders(session, appt, make.now) == []
    assert len(rows(session)) == before


def test_move_retimes_pending_reminders_and_tells_a_patient_who_knew(make, session, now):
    clinic = make.clinic()
    appt = make.appointment(clinic, start=make.local(clinic.location, D, 10))
    found = by_key(session)
    mark(session, found[("booked", None, "email")])
    ids = {k: r.id for k, r in found.items()}
    move(session, appt, make.local(clinic.location, dt.date(2026, 3, 6), 14), now)  # Fri 19:00 UTC
    found = by_key(session)
    assert found[("reminder", 2880, "email")].id == ids[("reminder", 2880, "email")]
    assert found[("reminder", 2880, "email")].due_at == utc(2026, 3, 4, 19, 0)
    assert found[("reminder", 120, "email")].due_at == utc(2026, 3, 6, 17, 0)
    moved = found[("moved", None, "email")]
    assert moved.status == "pending" and moved.template == "appointment_moved"
    assert moved.context["old_starts_at"] == utc(2026, 3, 5, 15, 0).isoformat()
    assert moved.due_at == utc(2026, 3, 2, 13, 0)  # after the patient's night


def test_move_before_the_patient_heard_of_it_sends_no_moved_notice(make, session, now):
    clinic = make.clinic()
    appt = make.appointment(clinic, start=make.local(clinic.location, D, 10))
    move(session, appt, make.local(clinic.location, D, 14), now)
    kinds = [str(r.kind) for r in rows(session) if r.status == "pending"]
    assert sorted(kinds) == ["booked", "reminder", "reminder"]


def test_two_moves_make_one_notice_with_the_time_the_patient_knew(make, session, now):
    clinic = make.clinic()
    appt = make.appointment(clinic, start=make.local(clinic.location, D, 10))
    mark(session, by_key(session)[("booked", None, "email")])
    move(session, appt, make.local(clinic.location, D, 14), now)
    move(session, appt, make.local(clinic.location, D, 15), now)
    moved = [r for r in rows(session) if r.kind == MessageKind.MOVED]
    assert [r.status for r in moved] == ["skipped", "pending"]
    assert moved[1].context["old_starts_at"] == utc(2026, 3, 5, 15, 0).isoformat()
    # And moving back to the known time needs no message at all.
    move(session, appt, make.local(clinic.location, D, 10), now)
    assert [r.status for r in rows(session) if r.kind == MessageKind.MOVED] == ["skipped"] * 2


def test_a_sent_reminder_stays_and_the_new_time_gets_its_own(make, session, now):
    clinic = make.clinic()
    appt = make.appointment(clinic, start=make.local(clinic.location, D, 10))
    first = by_key(session)[("reminder", 2880, "email")]
    mark(session, first)
    move(session, appt, make.local(clinic.location, dt.date(2026, 3, 10), 10), now)
    prep = [r for r in rows(session) if r.offset_minutes == 2880]
    assert [(r.id == first.id, str(r.status)) for r in prep] == [(True, "sent"), (False, "pending")]
    assert prep[1].due_at == utc(2026, 3, 8, 14, 0)  # 10:00 EDT, after the clocks changed


def test_cancel_skips_what_is_to_come_and_notifies(make, session, now):
    clinic = make.clinic()
    appt = make.appointment(clinic, start=make.local(clinic.location, D, 10))
    mark(session, by_key(session)[("booked", None, "email")])
    cancel(session, appt, now)
    found = by_key(session)
    assert found[("reminder", 2880, "email")].status == "skipped"
    assert found[("reminder", 2880, "email")].skip_reason == "the appointment was cancelled"
    notice = found[("cancelled", None, "email")]
    assert notice.status == "pending"
    assert notice.context["starts_at"] == utc(2026, 3, 5, 15, 0).isoformat()


def test_cancel_before_the_patient_heard_of_it_is_silent(make, session, now):
    clinic = make.clinic()
    appt = make.appointment(clinic, start=make.local(clinic.location, D, 10))
    cancel(session, appt, now)
    assert {str(r.status) for r in rows(session)} == {"skipped"}


def test_check_in_skips_the_remaining_reminders(make, session):
    clinic = make.clinic()
    appt = make.appointment(clinic, start=make.local(clinic.location, D, 10))
    at = utc(2026, 3, 5, 14, 50)
    with write_transaction(session):
        progress_appointment(session, appt, Action("check-in", None, at), "check_in")
    assert {r.skip_reason for r in rows(session)} == {"the appointment is checked in"}


def test_course_booking_gives_one_welcome_and_no_booked_notices(make, session, now):
    clinic = make.clinic()
    day = lambda d: make.local(clinic.location, dt.date(2026, 3, d), 10)  # noqa: E731
    booked_course = make.booked_course(
        clinic, iv_definition(2), rooms=[clinic.telehealth], at=[day(5), day(6), day(9), day(10)]
    )
    course, booked = booked_course.course, booked_course.appointments
    found = rows(session)
    welcome = [r for r in found if r.kind == MessageKind.WELCOME]
    assert len(welcome) == 1 and welcome[0].course_id == course.id
    assert welcome[0].appointment_id is None
    assert not [r for r in found if r.kind == MessageKind.BOOKED]
    per_appointment = {
        a.id: sorted(r.offset_minutes for r in found if r.appointment_id == a.id) for a in booked
    }
    assert list(per_appointment.values()) == [[120, 2880], [60, 1440], [120, 2880], [60, 1440]]
    with write_transaction(session):
        course_booked(session, course, Action("again", None, now))
    assert len([r for r in rows(session) if r.kind == MessageKind.WELCOME]) == 1


def test_course_booked_folds_booked_notices_into_the_welcome(make, session, now):
    clinic = make.clinic()
    version = current_version(session, make.protocol(iv_definition(1)))
    course = Course(
        patient_id=clinic.patient.id, location_id=clinic.location.id, protocol_version_id=version.id
    )
    session.add(course)
    session.flush()
    appt = make.appointment(clinic, start=make.local(clinic.location, D, 10))
    with write_transaction(session):
        appt.course_id = course.id
        session.execute(update(Reminder).values(course_id=course.id))
        course_booked(session, course, Action("course.book", None, now))
    found = by_key(session)
    assert found[("booked", None, "email")].status == "skipped"
    assert found[("welcome", None, "email")].status == "pending"


def test_protocol_step_hours_and_instructions(make, session, now):
    clinic = make.clinic()
    infusion = {
        **IV_DEFINITION["steps"][0],
        "instructions": "Eat nothing after midnight.",
        "reminder_hours": [36, 3],
        "pairing": None,
    }
    protocol = {**IV_DEFINITION, "steps": [{**infusion, "phases": [{"count": 1}]}]}
    (appt,) = make.booked_course(
        clinic, protocol, at=[make.local(clinic.location, D, 10)]
    ).appointments
    policy = policy_for(appt)
    assert [(r.before, r.template) for r in policy.rules] == [
        (dt.timedelta(hours=36), "dosing_preparation"),
        (dt.timedelta(hours=3), "dosing_soon"),
    ]
    assert policy.instructions == ("Eat nothing after midnight.",)
    assert sorted(r.offset_minutes for r in rows(session) if r.appointment_id) == [180, 2160]


@pytest.mark.parametrize("channel", [ReminderChannel.EMAIL])
def test_dedupe_key_is_unique_in_the_database(make, session, channel):
    clinic = make.clinic()
    make.appointment(clinic, start=make.local(clinic.location, D, 10))
    existing = session.scalars(select(Reminder)).first()
    copy = Reminder(
        patient_id=existing.patient_id,
        kind=existing.kind,
        template=existing.template,
        channel=channel,
        dedupe_key=existing.dedupe_key,
        due_at=existing.due_at,
        next_attempt_at=existing.due_at,
    )
    session.add(copy)
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()


def test_patient_changes_replan_what_is_to_come(make, session, now):
    clinic = make.clinic()
    make.appointment(clinic, start=make.local(clinic.location, D, 10))
    patient = clinic.patient
    with write_transaction(session):
        patient.timezone = "Europe/Berlin"  # 10:00 New York is 16:00 in Berlin
        patient.remind_by_sms = True
        patient_changed(session, patient, Action("patient.update", None, now))
    found = by_key(session)
    assert found[("reminder", 120, "email")].due_at == utc(2026, 3, 5, 13, 0)
    assert found[("reminder", 120, "email")].status == "pending"
    assert found[("reminder", 120, "sms")].status == "pending"
    # 48 h before is 16:00 Berlin on Tuesday: unchanged, and now also by SMS.
    assert found[("reminder", 2880, "sms")].due_at == utc(2026, 3, 3, 15, 0)
    with write_transaction(session):
        patient.remind_by_email = False
        patient_changed(session, patient, Action("patient.update", None, now))
    found = by_key(session)
    assert found[("reminder", 2880, "email")].status == "skipped"
    assert found[("booked", None, "email")].skip_reason == "the patient's preferences changed"


def test_editing_a_patient_through_the_clinic_domain_replans_reminders(make, session, now):
    from scheduler.clinic.patients import update_patient

    clinic = make.clinic()
    make.appointment(clinic, start=make.local(clinic.location, D, 10))
    with write_transaction(session):
        update_patient(
            session,
            Action("patient.update", None, now),
            clinic.patient,
            {"timezone": "Europe/Berlin", "remind_by_sms": True},
        )
    found = by_key(session)
    assert found[("reminder", 120, "email")].due_at == utc(2026, 3, 5, 13, 0)
    assert found[("reminder", 120, "sms")].status == "pending"
    with write_transaction(session):
        update_patient(
            session, Action("patient.update", None, now), clinic.patient, {"remind_by_email": False}
        )
    assert by_key(session)[("reminder", 2880, "email")].status == "skipped"


def test_integration_reads_its_pairings_hours_and_instructions(make, session, now):
    clinic = make.clinic()
    infusion = copy.deepcopy(IV_DEFINITION["steps"][0])
    infusion["pairing"]["reminder_hours"] = [30, 3]
    infusion["pairing"]["instructions"] = "- Find a quiet room.\n\n- Test your video link."
    infusion["phases"] = [{"count": 1}]
    dose, integration = make.booked_course(
        clinic,
        {**IV_DEFINITION, "steps": [infusion]},
        rooms=[clinic.telehealth],
        at=[
            make.local(clinic.location, D, 10),
            make.local(clinic.location, D + dt.timedelta(1), 14),
        ],
    ).appointments
    policy = policy_for(integration)
    assert [(r.before, r.template) for r in policy.rules] == [
        (dt.timedelta(hours=30), "integration_reminder"),
        (dt.timedelta(hours=3), "integration_reminder"),
    ]
    assert policy.instructions == ("Find a quiet room.", "Test your video link.")
    # The infusion has no hours of its own: the clinic's 48 h and 2 h, with its instructions.
    dosing = policy_for(dose)
    assert [r.before for r in dosing.rules] == [dt.timedelta(hours=48), dt.timedelta(hours=2)]
    assert dosing.instructions == (
        "No solid food for 6 hours before.",
        "A driver must take you home.",
    )


def test_a_step_without_instructions_gets_the_clinics_defaults(make, session, now):
    clinic = make.clinic()
    infusion = {**IV_DEFINITION["steps"][0], "instructions": "", "pairing": None}
    (dose,) = make.booked_course(
        clinic, iv_definition(1, **infusion), at=[make.local(clinic.location, D, 10)]
    ).appointments
    assert policy_for(dose).instructions == DEFAULT_INSTRUCTIONS[AppointmentKind.DOSING]
