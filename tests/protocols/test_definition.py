"""Protocol documents: the seeds parse, and impossible protocols are refused with the field path
and the reason."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from scheduler.errors import ValidationFailed
from scheduler.protocols import SEED_PROTOCOLS, Span, definition_document, parse_definition
from scheduler.protocols.seed import ESKETAMINE, IM_KAP, IV_INDUCTION


def test_every_seed_parses_and_round_trips():
    for document in SEED_PROTOCOLS:
        definition = parse_definition(document)
        again = parse_definition(definition_document(definition))
        assert again == definition


def test_seed_figures_match_the_domain():
    iv = parse_definition(IV_INDUCTION)
    dosing = iv.step("dosing")
    assert dosing.count == 6 and dosing.minutes == 100 and dosing.buffer_minutes == 15
    assert str(dosing.window) == "21d"
    assert (str(dosing.phases[0].min_gap), str(dosing.phases[0].max_gap)) == ("48h", "7d")
    assert dosing.pairing is not None
    assert (str(dosing.pairing.min_after), str(dosing.pairing.max_after)) == ("18h", "72h")
    assert dosing.after[0].step == "evaluation" and str(dosing.after[0].min_gap) == "1d"
    esketamine = parse_definition(ESKETAMINE).step("dosing")
    assert esketamine.open_ended and esketamine.count is None
    assert [p.count for p in esketamine.phases] == [8, 4, None]
    assert esketamine.planned_count() == 14 and esketamine.planned_count(1) == 13
    assert esketamine.minutes == 150 and esketamine.follow_up is not None
    kap = parse_definition(IM_KAP)
    assert kap.step("preparation").count == 3
    assert {p.value for p in kap.step("dosing").parts} == {"administering_clinician", "therapist"}


def _iv() -> dict[str, Any]:
    return copy.deepcopy(IV_INDUCTION)


def _errors(document: dict[str, Any]) -> dict[str, list[str]]:
    with pytest.raises(ValidationFailed) as caught:
        parse_definition(document)
    return caught.value.fields


def test_max_gap_below_min_gap():
    doc = _iv()
    doc["steps"][1]["phases"][0]["max_gap"] = "24h"
    errors = _errors(doc)
    assert errors["steps.1.phases.0.max_gap"] == ["max_gap (24h) is below min_gap (48h)"]


def test_window_too_short_for_the_count():
    doc = _iv()
    doc["steps"][1]["window"] = "9d"
    message = _errors(doc)["steps.1.window"][0]
    assert "6 sessions" in message and "at least 10 days" in message and "9 days" in message


def test_pairing_window_that_closes_before_it_opens():
    doc = _iv()
    doc["steps"][1]["pairing"]["max_after"] = "12h"
    assert "closes (12h) before it opens (18h)" in _errors(doc)["steps.1.pairing.max_after"][0]


def test_same_day_pairing_that_cannot_fit_the_day():
    doc = _iv()
    doc["steps"][1]["pairing"].update({"same_day": True, "min_after": "23h"})
    assert "same-day" in _errors(doc)["steps.1.pairing.min_after"][0]


def test_pairing_counted_from_the_start_inside_the_session():
    doc = _iv()
    doc["steps"][1]["pairing"].update({"anchor": "start", "min_after": "30m"})
    assert "cannot be in both" in _errors(doc)["steps.1.pairing.min_after"][0]


def test_phase_weeks_too_few_for_the_count():
    doc = copy.deepcopy(ESKETAMINE)
    doc["steps"][1]["phases"][0]["count"] = 9
    message = _errors(doc)["steps.1.phases.0.count"][0]
    assert "9 sessions cannot fit in weeks 1-4 at most 2 a week" in message


def test_open_ended_rules():
    doc = _iv()
    doc["steps"][1]["phases"] = [{"count": None, "min_gap": "7d"}, {"count": 2}]
    errors = _errors(doc)
    assert "only the last phase" in errors["steps.1.phases.0.count"][0]
    doc["steps"][1]["phases"] = [{"count": None, "min_gap": "7d"}]
    errors = _errors(doc)
    assert "needs book_ahead" in errors["steps.1.book_ahead"][0]
    assert "open-ended step cannot have an overall window" in errors["steps.1.window"][0]


def test_resources_must_suit_the_kind():
    doc = _iv()
    doc["steps"][1]["room_kinds"] = ["therapy_room"]
    doc["steps"][1]["staff"] = ["therapist"]
    errors = _errors(doc)
    assert "cannot use a therapy room" in errors["steps.1.room_kinds"][0]
    assert "needs: administering clinician" in errors["steps.1.staff"][0]


def test_prerequisites_and_keys():
    doc = _iv()
    doc["steps"][1]["after"] = [{"step": "consent", "min_gap": "1d"}]
    doc["steps"][1]["pairing"]["key"] = "evaluation"
    errors = _errors(doc)
    assert "no earlier step called 'consent'" in errors["steps.1.after.0.step"][0]
    assert "already used" in errors["steps.1.pairing.key"][0]


def test_gap_shorter_than_a_session():
    doc = _iv()
    doc["steps"][1]["phases"][0].update({"min_gap": "30m", "max_gap": "1h"})
    errors = _errors(doc)
    assert "sessions would overlap" in errors["steps.1.phases.0.min_gap"][0]
    assert "shorter than one session" in errors["steps.1.phases.0.max_gap"][0]


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("steps", 1, "phases", 0, "min_gap"), "two days", "steps.1.phases.0.min_gap"),
        (("steps", 1, "phases", 0, "count"), 0, "steps.1.phases.0.count"),
        (("steps", 1, "kind"), "surgery", "steps.1.kind"),
        (("steps", 1, "administration_minutes"), 800, "steps.1.administration_minutes"),
        (("steps", 1, "surprise"), True, "steps.1.surprise"),
        (("route",), "oral", "route"),
        (("name",), "", "name"),
    ],
)
def test_shape_errors_name_the_field(path, value, field):
    doc = _iv()
    target: Any = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert field in _errors(doc)


def test_not_an_object():
    with pytest.raises(ValidationFailed):
        parse_definition(["steps"])


def test_spans_elapsed_and_wall_clock_across_daylight_saving():
    ny = ZoneInfo("America/New_York")
    # Sat 7 Mar 2026 10:00 EST; the clocks go forward on Sun 8 Mar.
    saturday = dt.datetime(2026, 3, 7, 10, 0, tzinfo=ny)
    assert Span.parse("1d").add(saturday, ny).astimezone(ny).hour == 10
    assert Span.parse("24h").add(saturday, ny).astimezone(ny).hour == 11
    week = Span.parse("1w").add(saturday, ny)
    assert week - saturday == dt.timedelta(hours=167)
    assert str(Span.parse(" 2.5 h ")) == "2.5h" and Span.parse("90m").nominal_seconds == 5400
    with pytest.raises(ValueError):
        Span.parse("7 days")
