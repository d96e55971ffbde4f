"""Files the pages hand out: calendar (.ics) downloads."""

from __future__ import annotations

from flask import Response


def ics_response(data: bytes, filename: str) -> Response:
    response = Response(data, mimetype="text/calendar")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
