"""Failed sign-ins are limited per account and address and per account from anywhere; a
correct password is never refused for a colleague's misses from the same address; with Redis
configured, every worker shares the counts."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis

from scheduler.models import Role
from tests.factories import PASSWORD

WRONG = "not-the-password-at-all"
REDIS = "redis://127.0.0.1:6379/14"


def _token(client, email: str, password: str, address: str = "203.0.113.7"):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/auth/token",
        json={"email": email, "password": password},
        headers={"X-Forwarded-For": address},
    )


def test_a_colleagues_misses_do_not_lock_out_a_correct_password(configure, make):
    app = configure(SIGN_IN_RATE_LIMIT="3 per minute")
    typo, colleague = make.staff([Role.FRONT_DESK]), make.staff([Role.FRONT_DESK])
    client = app.test_client()
    for _ in range(3):
        assert _token(client, typo.email, WRONG).status_code == 401
    assert _token(client, typo.email, PASSWORD).status_code == 429  # their own misses count
    assert _token(client, colleague.email, PASSWORD).status_code == 201
    page = app.test_client().post("/sign-in", data={"email": colleague.email, "password": PASSWORD})
    assert page.status_code == 302


def test_guessing_one_account_from_many_addresses_is_limited(fresh_app, make):
    app = fresh_app(
        TRUSTED_PROXIES=1,
        SIGN_IN_RATE_LIMIT="100 per minute",
        SIGN_IN_ACCOUNT_RATE_LIMIT="4 per hour",
    )
    target = make.staff([Role.ADMIN])
    client = app.test_client()
    answers = [_token(client, target.email, WRONG, f"198.51.100.{n}").status_code for n in range(6)]
    assert answers == [401, 401, 401, 401, 429, 429]


@pytest.fixture
def shared_limits(fresh_app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    server = redis.Redis.from_url(REDIS)
    try:
        server.ping()
    except redis.RedisError:
        pytest.skip("Redis is not running at 127.0.0.1:6379")
    yield REDIS
    server.flushdb()
    # Flask-Limiter keeps one storage for all apps, the last one set up: give the others
    # back an in-memory one.
    fresh_app()


def test_workers_share_the_counts_through_redis(fresh_app, make, shared_limits):
    # Two apps stand for two gunicorn workers; a fresh e-mail keeps runs apart.
    settings = {"RATELIMIT_STORAGE_URI": shared_limits, "SIGN_IN_RATE_LIMIT": "4 per minute"}
    first, second = fresh_app(**settings).test_client(), fresh_app(**settings).test_client()
    email = f"{uuid.uuid4().hex}@example.org"
    answers = []
    for n in range(6):
        client = first if n % 2 else second
        answers.append(_token(client, email, WRONG).status_code)
    assert answers == [401, 401, 401, 401, 429, 429]
