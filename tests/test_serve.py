"""Access logs never carry a feed token."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from gunicorn.config import Config

from scheduler.serve import RedactingLogger, redact_path


def test_feed_tokens_are_redacted_from_access_log_atoms():
    token = "Qm9vbXNoYWthbGFrYS1ub3QtYS1yZWFsLXRva2Vu"
    logger = RedactingLogger(Config())
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/feeds/{token}.ics?x=1",
        "PATH_INFO": f"/feeds/{token}.ics",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "QUERY_STRING": "x=1",
    }
    atoms = logger.atoms(
        SimpleNamespace(status="200 OK", sent=10, headers=[]),
        SimpleNamespace(headers=[]),
        environ,
        dt.timedelta(milliseconds=3),
    )
    assert token not in atoms["U"] and token not in atoms["r"]
    assert atoms["U"] == "/feeds/[redacted]" and atoms["r"].startswith("GET /feeds/[redacted]")
    assert redact_path("/api/appointments/3") == "/api/appointments/3"
