"""One test per rule: the planner keeps every booking rule and every protocol rule."""

from __future__ import annotations

import datetime as dt
import itertools

from scheduler.models import Role, RoomKind, StaffPart
from scheduler.planning import Preferences
from scheduler.protocols.seed import ESKETAMINE, IM_KAP

from .builders import PATIENT_ID, ClinicBuilder
from .conftest import doc, local, plan

MON, TUE, WED, THU, FRI = (dt.date(2026, 3, d) for d in (2, 3, 4, 5, 6))


def _single(document: dict) -> dict:  # type: ignore[type-arg]
    """A protocol of dosing sessions only (no evaluation), for rules about the sessions."""
    document = doc(document)
    document["steps"] = [s for s in document["steps"] if s["key"] != "evaluation"]
    for step in document["steps"]:
        step["after"] = [a for a in step.get("after", []) if a["step"] != "evaluation"]
    return document


def test_baseline_iv_course(clinic):
    p = plan(clinic)
    assert p.complete
    assert [a.key for a in p.appointments][:3] == ["evaluation-1", "dosing-1", "integration-1"]
    assert len(p.appointments) == 13
    assert local(p, "evaluation-1").isoformat().startswith("2026-03-02T08:00")
    assert all(a.room_id in {r.id for r in clinic.rooms} for a in p.appointments)


def test_opening_hours(clinic: ClinicBuilder):
    clinic.location.opening_hours[0].opens = dt.time(12)  # Monday from noon
    p = plan(clinic)
    first = local(p, "evaluation-1")
    assert first.hour >= 12 and first.date() == MON


def test_closures(clinic):
    clinic.close(MON, TUE, reason="Founders")
    p = plan(clinic)
    assert local(p, "evaluation-1").date() == WED


def test_working_hours(clinic: ClinicBuilder):
    for member in clinic.staff:
        if Role.CLINICIAN in member.roles:
            for h in member.working_hours:
                h.starts = dt.time(14)
    p = plan(clinic)
    assert all(local(p, a.key).hour >= 14 for a in p.appointments if a.step_key != "integration")


def test_time_off(clinic):
    for member in clinic.staff:
        if Role.CLINICIAN in member.roles:
            clinic.off(member, clinic.at(MON, 0), clinic.at(TUE, 23))
    p = plan(clinic)
    assert local(p, "evaluation-1").date() == WED


def test_room_kinds(clinic):
    p = plan(clinic)
    kinds = {r.id: r.kind for r in clinic.rooms}
    for a in p.appointments:
        if a.step_key == "dosing":
            assert kinds[a.room_id] == RoomKind.INFUSION_CHAIR
        if a.step_key == "integration":
            assert kinds[a.room_id] in {RoomKind.THERAPY_ROOM, RoomKind.TELEHEALTH}


def test_parts_need_distinct_people_with_the_roles():
    clinic = ClinicBuilder()
    clinic.room(RoomKind.PROCEDURE_ROOM)
    clinic.room(RoomKind.THERAPY_ROOM)
    both = clinic.member(Role.CLINICIAN, Role.THERAPIST, name="Both Roles")
    therapist = clinic.member(Role.THERAPIST, weekdays=(3, 4))  # Thu, Fri only
    p = plan(clinic, IM_KAP)
    assert p.complete
    for a in p.appointments:
        if a.step_key == "dosing":
            assert dict((part, s) for s, part in a.staff) == {
                StaffPart.ADMINISTERING_CLINICIAN: both.id,
                StaffPart.THERAPIST: therapist.id,
            }
            assert local(p, a.key).weekday() in (3, 4)


def test_turnover_buffer_of_the_new_session(clinic: ClinicBuilder):
    chairs = [r for r in clinic.rooms if r.kind == RoomKind.INFUSION_CHAIR]
    # Both chairs are taken from 10:50 on Tuesday: a 100-minute infusion at 09:00 ends 10:40
    # and its 15-minute turnover would reach 10:55.
    for chair in chairs:
        clinic.book("room", chair.id, clinic.at(TUE, 10, 50), clinic.at(TUE, 18))
    p = plan(clinic)
    dose = local(p, "dosing-1")
    assert dose.date() != TUE or dose.hour >= 18


def test_existing_bookings_of_patient_staff_and_rooms(clinic: ClinicBuilder):
    clinic.book("patient", PATIENT_ID, clinic.at(MON, 8), clinic.at(MON, 12))
    for member in clinic.staff:
        if Role.CLINICIAN in member.roles:
            clinic.book("staff", member.id, clinic.at(MON, 12), clinic.at(MON, 15))
    therapy = next(r for r in clinic.rooms if r.kind == RoomKind.THERAPY_ROOM)
    procedure = next(r for r in clinic.rooms if r.kind == RoomKind.PROCEDURE_ROOM)
    clinic.book("room", therapy.id, clinic.at(MON, 15), clinic.at(MON, 18))
    clinic.book("room", procedure.id, clinic.at(MON, 15), clinic.at(MON, 16))
    p = plan(clinic)
    assert local(p, "evaluation-1").isoformat().startswith("2026-03-02T16:00")


def test_minimum_and_maximum_gap(clinic):
    p = plan(clinic)
    doses = [a for a in p.appointments if a.step_key == "dosing"]
    gaps = [b.starts_at - a.starts_at for a, b in itertools.pairwise(doses)]
    assert all(dt.timedelta(hours=48) <= g <= dt.timedelta(days=7) for g in gaps)


def test_maximum_gap_forces_an_earlier_choice(clinic: ClinicBuilder):
    # No chair on Mon 9 to Fri 13 March: with at most 7 days between infusions the series
    # must still be planned around that week, not through it.
    for chair in [r for r in clinic.rooms if r.kind == RoomKind.INFUSION_CHAIR]:
        clinic.book(
            "room", chair.id, clinic.at(dt.date(2026, 3, 9), 0), clinic.at(dt.date(2026, 3, 14), 0)
        )
    p = plan(clinic)
    assert p.complete
    doses = [a.starts_at for a in p.appointments if a.step_key == "dosing"]
    assert all(b - a <= dt.timedelta(days=7) for a, b in itertools.pairwise(doses))
    assert all(not dt.date(2026, 3, 9) <= d.date() <= dt.date(2026, 3, 13) for d in doses)


def test_overall_window(clinic):
    document = doc()
    document["steps"][1]["window"] = "12d"
    p = plan(clinic, document)
    doses = [a for a in p.appointments if a.step_key == "dosing"]
    assert doses[-1].ends_at - doses[0].starts_at <= dt.timedelta(days=12)


def test_prerequisite_evaluation_a_day_before(clinic):
    p = plan(clinic)
    evaluation = next(a for a in p.appointments if a.step_key == "evaluation")
    first = next(a for a in p.appointments if a.key == "dosing-1")
    assert first.starts_at >= evaluation.ends_at + dt.timedelta(days=1)


def test_preparation_sessions_before_the_first_dose(clinic):
    p = plan(clinic, IM_KAP)
    preparations = [a for a in p.appointments if a.step_key == "preparation"]
    first = next(a for a in p.appointments if a.key == "dosing-1")
    assert len(preparations) == 3
    assert all(first.starts_at >= s.ends_at + dt.timedelta(days=1) for s in preparations)


def test_pairing_window_after_the_dose_ends(clinic):
    p = plan(clinic)
    by_key = {a.key: a for a in p.appointments}
    for n in range(1, 7):
        dose, pair = by_key[f"dosing-{n}"], by_key[f"integration-{n}"]
        assert pair.paired_with_key == dose.key and dose.pair_key == pair.key
        assert dt.timedelta(hours=18) <= pair.starts_at - dose.ends_at <= dt.timedelta(hours=72)


def test_same_day_pairing_after_monitoring(clinic):
    document = _single(doc())
    document["steps"][0]["pairing"].update({"min_after": "0m", "max_after": "6h", "same_day": True})
    p = plan(clinic, document)
    by_key = {a.key: a for a in p.appointments}
    for n in range(1, 7):
        dose, pair = by_key[f"dosing-{n}"], by_key[f"integration-{n}"]
        assert pair.starts_at >= dose.ends_at
        assert local(p, pair.key).date() == local(p, dose.key).date()


def test_esketamine_phases_weeks_and_per_week(clinic):
    p = plan(clinic, ESKETAMINE, days=120)
    assert p.complete, p.failure
    doses = [local(p, a.key) for a in p.appointments if a.step_key == "dosing"]
    assert len(doses) == 14
    first = doses[0].date()
    weeks = [(d.date() - first).days // 7 + 1 for d in doses]
    assert weeks[:8] == [1, 1, 2, 2, 3, 3, 4, 4]
    assert weeks[8:12] == [5, 6, 7, 8]
    assert all(w >= 9 for w in weeks[12:])
    assert doses[13] - doses[12] >= dt.timedelta(days=7)


def test_patient_weekdays_and_hours(clinic):
    prefs = Preferences(
        weekdays=frozenset({0, 2, 4}), earliest_time=dt.time(13), latest_time=dt.time(17, 30)
    )
    p = plan(clinic, prefs=prefs, days=90)
    assert p.complete, p.failure
    for a in p.appointments:
        start = local(p, a.key)
        end = a.ends_at.astimezone(start.tzinfo)
        assert start.weekday() in (0, 2, 4) and start.time() >= dt.time(13)
        assert end.time() <= dt.time(17, 30)


def test_days_that_cannot_hold_the_series_fail_with_a_reason(clinic):
    # Tuesdays and Thursdays only: an integration 18-72 h after a Thursday infusion would fall
    # on Fri-Sun, and infusions on Tuesdays alone cannot fit six in 21 days.
    prefs = Preferences(weekdays=frozenset({1, 3}))
    p = plan(clinic, prefs=prefs, days=90)
    assert p.status == "impossible" and p.failure is not None
    assert p.failure.message == (
        "Infusion 6 of 6 must be all within 21 days of Infusion 1 of 6; with Tuesdays and "
        "Thursdays only there is no such day. Allow Friday."
    )
    reason = p.failure.reasons[0]
    assert (reason.code, reason.step, reason.change) == (
        "protocol_days",
        "dosing-6",
        {"weekdays": [1, 3, 4]},
    )
    assert plan(clinic, prefs=Preferences(weekdays=frozenset({1, 3, 4})), days=90).complete


def test_telehealth_not_wanted(clinic):
    therapy = next(r for r in clinic.rooms if r.kind == RoomKind.THERAPY_ROOM)
    clinic.book("room", therapy.id, clinic.at(MON, 0), clinic.at(dt.date(2026, 4, 30), 0))
    video = next(r for r in clinic.rooms if r.kind == RoomKind.TELEHEALTH)
    p = plan(clinic)
    assert {a.room_id for a in p.appointments if a.step_key == "integration"} == {video.id}
    refused = plan(clinic, prefs=Preferences(telehealth_ok=False))
    assert not refused.complete
    assert refused.failure is not None and "No therapy room free" in refused.failure.message


def test_preferred_clinician_and_therapist(clinic):
    clinician = [m for m in clinic.staff if Role.CLINICIAN in m.roles][1]
    therapist = [m for m in clinic.staff if Role.THERAPIST in m.roles][1]
    p = plan(clinic, prefs=Preferences(clinician_id=clinician.id, therapist_id=therapist.id))
    for a in p.appointments:
        people = {s for s, _ in a.staff}
        assert people == ({therapist.id} if a.step_key == "integration" else {clinician.id})


def test_one_therapist_for_every_integration_session(clinic: ClinicBuilder):
    first, second = [m for m in clinic.staff if Role.THERAPIST in m.roles]
    # The first therapist is away in the second week: the second can take all six.
    clinic.off(first, clinic.at(dt.date(2026, 3, 9), 0), clinic.at(dt.date(2026, 3, 14), 0))
    p = plan(clinic)
    therapists = {s for a in p.appointments if a.step_key == "integration" for s, _ in a.staff}
    assert therapists == {second.id}


def test_earliest_completion_before_one_therapist(clinic: ClinicBuilder):
    first, second = [m for m in clinic.staff if Role.THERAPIST in m.roles]
    clinic.off(first, clinic.at(dt.date(2026, 3, 12), 0), clinic.at(dt.date(2026, 3, 20), 0))
    clinic.off(second, clinic.at(MON, 0), clinic.at(dt.date(2026, 3, 9), 0))
    p = plan(clinic)
    baseline = plan(standard_clinic_like(clinic))
    assert p.completes_at is not None and baseline.completes_at is not None
    assert p.completes_at.date() == baseline.completes_at.date()


def standard_clinic_like(clinic: ClinicBuilder) -> ClinicBuilder:
    from .builders import standard_clinic

    return standard_clinic(clinic.timezone)


def test_steady_time_of_day(clinic: ClinicBuilder):
    chair = [r for r in clinic.rooms if r.kind == RoomKind.INFUSION_CHAIR]
    # Mornings are busy on Thursday 5 March only; the plan keeps one time for all infusions.
    for c in chair:
        clinic.book("room", c.id, clinic.at(THU, 8), clinic.at(THU, 11))
    p = plan(clinic)
    times = {local(p, a.key).time() for a in p.appointments if a.step_key == "dosing"}
    assert len(times) == 1


def test_same_inputs_same_plan(clinic):
    assert plan(clinic).appointments == plan(clinic).appointments
