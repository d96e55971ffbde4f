"""Domain errors to HTTP, in one place: JSON under /api, a page elsewhere. Never a 500 for bad
input, and never patient data in an error page."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from jinja2 import TemplateNotFound
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from .db import db
from .errors import Conflict, DomainError, ValidationFailed

log = logging.getLogger(__name__)


def wants_json() -> bool:
    if request.path.startswith("/api"):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def error_body(status: int, message: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"code": status, "status": HTTPStatus(status).phrase, "message": message}
    body.update(extra)
    return body


def domain_error_body(error: DomainError) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if isinstance(error, ValidationFailed):
        extra["errors"] = {"json": error.fields}
    elif isinstance(error, Conflict):
        extra["rule"] = error.rule
        extra["conflicts"] = error.conflicts
        extra.update({k: v for k, v in error.details.items() if k not in {"rule", "conflicts"}})
    return error_body(error.status, error.message, **extra)


def render_error(status: int, body: dict[str, Any]) -> Response | tuple[Any, int]:
    if wants_json():
        return jsonify(body), status
    try:
        return render_template("error.html", error=body), status
    except (TemplateNotFound, RequestEntityTooLarge):
        # The page's layout reads the form (its sign-out button); a body too large to read
        # gets its answer in plain text.
        return Response(f"{status} {body['message']}\n", status=status, mimetype="text/plain")


#: Seconds a client is asked to wait before retrying after a 503.
RETRY_AFTER = 2


def rollback() -> None:
    """Roll the request's session back; when the connection itself is gone (the database
    restarted, the backend was terminated), drop it instead, so that the answer can still be
    sent and the pool hands out a live connection next."""
    try:
        db.session.rollback()
    except SQLAlchemyError:
        log.warning("rollback failed; the connection is discarded")
        try:
            db.session().invalidate()
        except SQLAlchemyError:
            log.warning("discarding the connection failed")


def handle_domain_error(error: DomainError) -> Response | tuple[Any, int]:
    rollback()
    return render_error(error.status, domain_error_body(error))


def handle_database_busy(error: OperationalError) -> Response | tuple[Any, int]:
    # A lock wait that ran out (SQLite busy, PostgreSQL lock timeout or deadlock) or a
    # connection lost mid-request: the request can be retried.
    rollback()
    log.warning("database busy: %s", type(error.orig).__name__)
    return retry_later(
        render_error(503, error_body(503, "The clinic database is busy; please retry"))
    )


def retry_later(response: Response | tuple[Any, int]) -> Response | tuple[Any, int]:
    resp = response[0] if isinstance(response, tuple) else response
    if isinstance(resp, Response):
        resp.headers["Retry-After"] = str(RETRY_AFTER)
    return response


def handle_database_error(error: DBAPIError) -> Response | tuple[Any, int]:
    if isinstance(error, OperationalError) or error.connection_invalidated:
        return handle_database_busy(error)  # type: ignore[arg-type]
    rollback()
    log.exception("database error")
    return render_error(500, error_body(500, "Internal error"))


def handle_unexpected(error: Exception) -> Response | tuple[Any, int]:
    """Anything else: logged, rolled back and answered as JSON or a page, never a bare 500."""
    if isinstance(error, HTTPException):
        return handle_http_error(error)
    rollback()
    log.exception("unexpected error")
    return render_error(500, error_body(500, "Internal error"))


def handle_http_error(error: HTTPException) -> Response | tuple[Any, int]:
    status = error.code or 500
    body = error_body(status, error.description or HTTPStatus(status).phrase)
    data = getattr(error, "data", None)
    if isinstance(data, dict) and "messages" in data:
        body["errors"] = data["messages"]
        body["message"] = "Invalid input"
    response = render_error(status, body)
    if isinstance(response, tuple):
        resp, code = response
        if isinstance(resp, Response):
            # The exception's own headers matter: Allow on a 405 (RFC 9110), Retry-After.
            for name, value in error.get_headers():
                if name.lower() != "content-type":
                    resp.headers[name] = value
            if status == 401:
                resp.headers["WWW-Authenticate"] = 'Bearer realm="api"'
        return resp, code
    return response


def handle_too_deep(_error: RecursionError) -> Response | tuple[Any, int]:
    # JSON nested thousands deep (``[[[[…``) exhausts the parser's recursion: bad input.
    rollback()
    return render_error(400, error_body(400, "The request body is nested too deeply"))


def init_app(app: Flask) -> None:
    app.register_error_handler(RecursionError, handle_too_deep)
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(DBAPIError, handle_database_error)
    app.register_error_handler(HTTPException, handle_http_error)
    if not app.testing:
        # Tests see unexpected errors raised, with their traceback.
        app.register_error_handler(Exception, handle_unexpected)
