"""The demo clinic's places and people, as data."""

from __future__ import annotations

import datetime as dt

from ..models import Role, RoomKind

PASSWORD = "demo-clinic-2026"

LOCATIONS = [
    {
        "key": "ny",
        "name": "Riverside Ketamine Clinic, New York",
        "timezone": "America/New_York",
        "address": "120 Hudson Street, New York, NY 10013, USA",
        "phone": "+1 212 555 0140",
        # weekday -> (opens, closes); Saturdays are short.
        "hours": {d: (dt.time(8), dt.time(18)) for d in range(5)} | {5: (dt.time(9), dt.time(14))},
        "closures": [
            (dt.date(2026, 11, 26), dt.date(2026, 11, 27), "Thanksgiving"),
            (dt.date(2026, 12, 24), dt.date(2026, 12, 25), "Christmas"),
            (dt.date(2027, 1, 1), dt.date(2027, 1, 1), "New Year's Day"),
        ],
        "rooms": [
            ("Infusion chair 1", RoomKind.INFUSION_CHAIR, None),
            ("Infusion chair 2", RoomKind.INFUSION_CHAIR, None),
            ("Infusion chair 3", RoomKind.INFUSION_CHAIR, None),
            ("Procedure room A", RoomKind.PROCEDURE_ROOM, None),
            ("Spravato room 1", RoomKind.MONITORED_TREATMENT_ROOM, None),
            ("Spravato room 2", RoomKind.MONITORED_TREATMENT_ROOM, None),
            ("Therapy room Willow", RoomKind.THERAPY_ROOM, None),
            ("Therapy room Cedar", RoomKind.THERAPY_ROOM, None),
            (
                "Telehealth line NY-1",
                RoomKind.TELEHEALTH,
                "https://video.riverside-clinic.example/ny-1",
            ),
            (
                "Telehealth line NY-2",
                RoomKind.TELEHEALTH,
                "https://video.riverside-clinic.example/ny-2",
            ),
        ],
    },
    {
        "key": "berlin",
        "name": "Klinik Mitte, Berlin",
        "timezone": "Europe/Berlin",
        "address": "Friedrichstraße 110, 10117 Berlin, Germany",
        "phone": "+49 30 5550 1200",
        "hours": {d: (dt.time(8), dt.time(18)) for d in range(5)},
        "closures": [
            (dt.date(2026, 12, 24), dt.date(2026, 12, 26), "Weihnachten"),
            (dt.date(2026, 12, 31), dt.date(2027, 1, 1), "Silvester / Neujahr"),
        ],
        "rooms": [
            ("Infusionsplatz 1", RoomKind.INFUSION_CHAIR, None),
            ("Infusionsplatz 2", RoomKind.INFUSION_CHAIR, None),
            ("Behandlungsraum B", RoomKind.PROCEDURE_ROOM, None),
            ("Überwachungsraum 1", RoomKind.MONITORED_TREATMENT_ROOM, None),
            ("Therapieraum Linde", RoomKind.THERAPY_ROOM, None),
            (
                "Telehealth Berlin-1",
                RoomKind.TELEHEALTH,
                "https://video.riverside-clinic.example/be-1",
            ),
        ],
    },
]

WEEKDAYS = range(5)

# (name, email, roles, {location key: (starts, ends, weekdays)})
STAFF = [
    ("Morgan Hale", "admin@demo.clinic", [Role.ADMIN], {}),
    (
        "Priya Raman",
        "frontdesk@demo.clinic",
        [Role.FRONT_DESK],
        {"ny": (dt.time(8), dt.time(18), WEEKDAYS)},
    ),
    (
        "Jonas Keller",
        "empfang@demo.clinic",
        [Role.FRONT_DESK],
        {"berlin": (dt.time(8), dt.time(18), WEEKDAYS)},
    ),
    (
        "Dr. Elena Park",
        "clinician@demo.clinic",
        [Role.CLINICIAN],
        {"ny": (dt.time(8), dt.time(18), WEEKDAYS)},
    ),
    (
        "Dr. Marcus Webb",
        "m.webb@demo.clinic",
        [Role.CLINICIAN, Role.ADMIN],
        {"ny": (dt.time(9), dt.time(17), [0, 1, 2, 3, 4, 5])},
    ),
    (
        "Dr. Sofia Brandt",
        "s.brandt@demo.clinic",
        [Role.CLINICIAN],
        {"berlin": (dt.time(8), dt.time(17), WEEKDAYS)},
    ),
    (
        "Dana Whitfield, LCSW",
        "therapist@demo.clinic",
        [Role.THERAPIST],
        {"ny": (dt.time(9), dt.time(18), WEEKDAYS)},
    ),
    (
        "Samuel Ortiz, PsyD",
        "s.ortiz@demo.clinic",
        [Role.THERAPIST],
        {"ny": (dt.time(8), dt.time(16), [0, 1, 2, 3, 4, 5])},
    ),
    (
        "Lena Vogel, M.Sc. Psych.",
        "l.vogel@demo.clinic",
        [Role.THERAPIST],
        {"berlin": (dt.time(9), dt.time(18), WEEKDAYS)},
    ),
    (
        "Amir Haddad, LMFT",
        "a.haddad@demo.clinic",
        [Role.THERAPIST, Role.CLINICIAN],
        {"ny": (dt.time(10), dt.time(18), [1, 3]), "berlin": (dt.time(9), dt.time(15), [0, 2, 4])},
    ),
]

FIRST_NAMES = [
    "Olivia",
    "Liam",
    "Emma",
    "Noah",
    "Ava",
    "Elijah",
    "Sophia",
    "James",
    "Isabella",
    "Lucas",
    "Mia",
    "Mateo",
    "Charlotte",
    "Benjamin",
    "Amelia",
    "Henry",
    "Harper",
    "Theodore",
    "Evelyn",
    "Jack",
    "Lena",
    "Felix",
    "Hannah",
    "Paul",
    "Marie",
    "Leon",
    "Emilia",
    "Maximilian",
    "Clara",
    "Jakob",
    "Grace",
    "Owen",
    "Nora",
    "Samuel",
    "Zoe",
    "Ezra",
    "Ruby",
    "Caleb",
    "Ida",
    "Milan",
]
LAST_NAMES = [
    "Bennett",
    "Castillo",
    "Dawson",
    "Ellison",
    "Foster",
    "Garner",
    "Hughes",
    "Irwin",
    "Jensen",
    "Kowalski",
    "Lindqvist",
    "Morales",
    "Nakamura",
    "Okafor",
    "Patel",
    "Quinn",
    "Reyes",
    "Schneider",
    "Thompson",
    "Underwood",
    "Vasquez",
    "Weber",
    "Xu",
    "Yilmaz",
    "Zimmermann",
    "Fischer",
    "Becker",
    "Hoffmann",
    "Schäfer",
    "Koch",
    "Richter",
    "Klein",
    "Wolf",
    "Brooks",
    "Sullivan",
    "Murphy",
    "Novak",
    "Santos",
    "Ahmed",
    "Larsen",
]
# Most patients live where they are treated; a few subscribe from elsewhere.
PATIENT_ZONES = {
    "ny": ["America/New_York"] * 8 + ["America/Chicago", "America/Los_Angeles"],
    "berlin": ["Europe/Berlin"] * 8 + ["Europe/London", "Europe/Vienna"],
}
