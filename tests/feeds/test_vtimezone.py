"""VTIMEZONE blocks written with RRULEs give the same instants as zoneinfo, in icalendar's and
dateutil's (vobject's) readings of them."""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

import icalendar
import pytest
import vobject
from dateutil import tz as dateutil_tz

from scheduler.feeds.vtimezone import vtimezone_bytes

#: Regular northern and southern rules, a negative-saving zone, a "Friday on or after the
#: 23rd" rule, half-hour offsets, a Ramadan-bound zone (irregular), zones without changes.
ZONES = [
    "America/New_York",
    "America/Los_Angeles",
    "Europe/Berlin",
    "Europe/London",
    "Europe/Dublin",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "Pacific/Auckland",
    "America/Santiago",
    "Asia/Jerusalem",
    "America/St_Johns",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "America/Phoenix",
    "Africa/Casablanca",
    "UTC",
]

REGULAR = {"America/New_York", "Europe/Berlin", "Australia/Sydney", "Europe/Dublin"}


def readers(zone: str, data: bytes):
    calendar = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n" + data + b"END:VCALENDAR\r\n"
    yield "icalendar", icalendar.Timezone.from_ical(data).to_tz()
    yield "dateutil", dateutil_tz.tzical(io.StringIO(calendar.decode())).get(zone)


@pytest.mark.parametrize("zone", ZONES)
def test_same_instants_as_zoneinfo(zone):
    data = vtimezone_bytes(zone, 2025, 2027)
    reference = ZoneInfo(zone)
    for name, tzinfo in readers(zone, data):
        instant = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
        while instant < dt.datetime(2028, 1, 1, tzinfo=dt.UTC):
            local = instant.astimezone(reference)
            wall = local.replace(tzinfo=tzinfo, fold=local.fold)
            assert wall.astimezone(dt.UTC) == instant, (name, zone, local)
            instant += dt.timedelta(minutes=30)


@pytest.mark.parametrize("zone", sorted(REGULAR))
def test_regular_zones_are_two_yearly_rules(zone):
    text = vtimezone_bytes(zone, 2025, 2027).decode()
    assert "RDATE" not in text
    assert text.count("RRULE:FREQ=YEARLY") == 2
    assert text.count("BEGIN:STANDARD") == 1 and text.count("BEGIN:DAYLIGHT") == 1
    assert "UNTIL" not in text


def test_rules_read_as_a_person_would():
    new_york = vtimezone_bytes("America/New_York", 2025, 2027).decode()
    assert "RRULE:FREQ=YEARLY;BYDAY=2SU;BYMONTH=3" in new_york
    assert "RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=11" in new_york
    berlin = vtimezone_bytes("Europe/Berlin", 2025, 2027).decode()
    assert "BYDAY=-1SU;BYMONTH=3" in berlin and "BYDAY=-1SU;BYMONTH=10" in berlin
    assert "DTSTART:20250330T020000" in berlin  # local time before the change
    israel = vtimezone_bytes("Asia/Jerusalem", 2025, 2027).decode()
    assert "BYDAY=FR;BYMONTHDAY=23,24,25,26,27,28,29;BYMONTH=3" in israel
    tokyo = vtimezone_bytes("Asia/Tokyo", 2025, 2027).decode()
    assert "RRULE" not in tokyo and "TZOFFSETTO:+0900" in tokyo


def test_vobject_reads_a_feed_zone_by_its_vtimezone():
    """A TZID no library knows, defined only by our block: events land on zoneinfo's instants."""
    block = vtimezone_bytes("Europe/Berlin", 2025, 2027).replace(
        b"TZID:Europe/Berlin", b"TZID:Clinic Zone"
    )
    lines = [b"BEGIN:VCALENDAR", b"VERSION:2.0", b"PRODID:-//t//t//EN"]
    days = [
        dt.date(2026, 3, 26),
        dt.date(2026, 3, 30),
        dt.date(2026, 10, 23),
        dt.date(2026, 10, 26),
    ]
    for number, day in enumerate(days):
        lines += [
            b"BEGIN:VEVENT",
            f"UID:{number}@t".encode(),
            b"DTSTAMP:20260101T000000Z",
            f"DTSTART;TZID=Clinic Zone:{day:%Y%m%d}T100000".encode(),
            b"END:VEVENT",
        ]
    text = (
        b"\r\n".join(lines[:3])
        + b"\r\n"
        + block
        + b"\r\n".join(lines[3:])
        + b"\r\nEND:VCALENDAR\r\n"
    )
    parsed = vobject.readOne(text.decode())
    berlin = ZoneInfo("Europe/Berlin")
    for event, day in zip(parsed.vevent_list, days, strict=True):
        expected = dt.datetime.combine(day, dt.time(10), berlin).astimezone(dt.UTC)
        assert event.dtstart.value.astimezone(dt.UTC) == expected
    calendar = icalendar.Calendar.from_ical(text)
    for event, day in zip(calendar.walk("VEVENT"), days, strict=True):
        expected = dt.datetime.combine(day, dt.time(10), berlin).astimezone(dt.UTC)
        assert event.decoded("DTSTART").astimezone(dt.UTC) == expected
