"""Configuration: defaults, then ``instance/config.py``, then ``SCHEDULER_*`` environment variables.

The environment wins so that one built image can be pointed at another database or mail server
without editing files.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

#: The project folder: templates, static files and migrations sit here, beside the package.
ROOT = Path(__file__).resolve().parent.parent

ENV_PREFIX = "SCHEDULER_"

#: Environment variables read at start-up, mapped to the config key each one sets.
ENV_KEYS = {
    "SCHEDULER_DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
    "SCHEDULER_SECRET_KEY": "SECRET_KEY",
    "SCHEDULER_SMTP_URL": "SMTP_URL",
    "SCHEDULER_BASE_URL": "BASE_URL",
    "SCHEDULER_SMS_WEBHOOK_URL": "SMS_WEBHOOK_URL",
    "SCHEDULER_SMS_BACKEND": "SMS_BACKEND",
    "SCHEDULER_RATELIMIT_STORAGE_URI": "RATELIMIT_STORAGE_URI",
    "SCHEDULER_RUN_WORKER": "RUN_WORKER_IN_APP",
    "SCHEDULER_REMINDER_INTERVAL": "REMINDER_WORKER_INTERVAL",
    "SCHEDULER_REMINDER_CLAIM_TIMEOUT": "REMINDER_CLAIM_TIMEOUT",
    "SCHEDULER_REMINDER_BATCH_SIZE": "REMINDER_BATCH_SIZE",
    "SCHEDULER_MIN_DOSING_INTERVAL_HOURS": "MIN_DOSING_INTERVAL_HOURS",
    "SCHEDULER_PLAN_BUDGET_SECONDS": "PLAN_BUDGET_SECONDS",
    "SCHEDULER_SESSION_COOKIE_SECURE": "SESSION_COOKIE_SECURE",
    "SCHEDULER_TRUSTED_PROXIES": "TRUSTED_PROXIES",
}


def defaults(instance_path: str) -> dict[str, Any]:
    sqlite_path = os.path.join(instance_path, "scheduler.sqlite")
    return {
        "SECRET_KEY": None,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{sqlite_path}",
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "SMTP_URL": None,
        "SMS_WEBHOOK_URL": None,
        "BASE_URL": "http://127.0.0.1:5000",
        "CLINIC_NAME": "Ketamine Clinic",
        # Messages to patients are signed with this name; None: the appointment's location.
        "MESSAGE_SENDER_NAME": None,
        # Any two doses of one patient, from any courses, are at least this far apart.
        "MIN_DOSING_INTERVAL_HOURS": 24,
        # Wall-clock seconds one plan or move preview may search before it answers with the
        # best it found (a web worker's thread is held that long).
        "PLAN_BUDGET_SECONDS": 1.0,
        "API_TOKEN_TTL_HOURS": 12,
        # Failed sign-ins (pages and API) allowed for one account from one address, and for one
        # account from anywhere (Flask-Limiter syntax); see scheduler/auth/sign_in_limits.py.
        "SIGN_IN_RATE_LIMIT": "5 per minute;30 per hour",
        "SIGN_IN_ACCOUNT_RATE_LIMIT": "20 per hour",
        "SESSION_LIFETIME_MINUTES": 60,
        # However active, a signed-in session ends this long after signing in.
        "SESSION_ABSOLUTE_HOURS": 12,
        # No form or JSON body of this product comes near 1 MiB: a larger one is refused
        # (413) before it is read, instead of being held in a worker's memory.
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        # Flask's default is None: the session cookie would go with cross-site posts.
        "SESSION_COOKIE_SAMESITE": "Lax",
        # None: Secure whenever BASE_URL is https (scheduler/http_headers.py).
        "SESSION_COOKIE_SECURE": None,
        # Proxies in front whose X-Forwarded-For/-Proto are believed (0: none, the default).
        "TRUSTED_PROXIES": 0,
        "FEED_DAYS_BACK": 90,
        "FEED_DAYS_AHEAD": 365,
        "FEED_CANCELLED_GRACE_DAYS": 30,
        "RATELIMIT_STORAGE_URI": "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        "RUN_WORKER_IN_APP": False,
        # Reminder worker: seconds between runs, seconds before a crashed worker's claim is
        # taken over (far longer than one send), rows per claim.
        "REMINDER_WORKER_INTERVAL": 5,
        "REMINDER_CLAIM_TIMEOUT": 300,
        "REMINDER_BATCH_SIZE": 50,
        "REMINDER_MAX_ATTEMPTS": 8,
        # flask-smorest / OpenAPI
        "API_TITLE": "Ketamine clinic scheduler",
        "API_VERSION": "1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api",
        "OPENAPI_JSON_PATH": "openapi.json",
        # /api/docs is served by scheduler/api/swagger_ui.py (Swagger UI from the
        # swagger-ui-bundle package: works offline), so flask-smorest's own page is off.
        "OPENAPI_SWAGGER_UI_PATH": None,
        "OPENAPI_SWAGGER_UI_URL": "/api/swagger-ui/",
        "OPENAPI_SWAGGER_UI_CONFIG": {"persistAuthorization": True},
        "WTF_CSRF_TIME_LIMIT": None,
    }


def from_environment(environ: os._Environ[str] | dict[str, str] | None = None) -> dict[str, Any]:
    environ = os.environ if environ is None else environ
    found: dict[str, Any] = {}
    for var, key in ENV_KEYS.items():
        value = environ.get(var)
        if value:
            found[key] = normalize(key, value)
    return found


def normalize(key: str, value: str) -> Any:
    if key == "SQLALCHEMY_DATABASE_URI":
        return normalize_database_url(value)
    if key in ("MIN_DOSING_INTERVAL_HOURS", "PLAN_BUDGET_SECONDS"):
        return float(value)
    if key in ("RUN_WORKER_IN_APP", "SESSION_COOKIE_SECURE"):
        return value.lower() in {"1", "true", "yes", "on"}
    if key == "TRUSTED_PROXIES":
        return int(value)
    return value


def normalize_database_url(url: str) -> str:
    """Accept the ``postgres://`` and ``postgresql://`` forms hosting providers hand out, and
    drive them with psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
