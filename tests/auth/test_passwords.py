"""New passwords as NIST SP 800-63B rev. 4 asks of a single factor: 15 characters at least, no
composition rules, and nothing common, easily guessed or personal; each refusal says why."""

from __future__ import annotations

import pytest

from scheduler.auth.passwords import password_problem


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("password", "at least 15 characters"),
        ("12345678", "at least 15 characters"),
        ("Tr0ub4dor&3", "at least 15 characters"),
        ("passwordpassword", "common or easy to guess"),
        ("123456789012345", "common or easy to guess"),
        ("aaaaaaaaaaaaaaaa", "common or easy to guess"),
        ("qwertyuiopasdfgh", "common or easy to guess"),
        ("morgan-hale-is-my-name", "your name or e-mail"),
    ],
)
def test_weak_passwords_are_refused_saying_why(password: str, why: str) -> None:
    problem = password_problem(password, email="morgan.hale@example.org", name="Morgan Hale")
    assert problem is not None and why in problem


@pytest.mark.parametrize(
    "password", ["correct horse battery staple", "lilac-kettle-orbit", "all lower case words"]
)
def test_long_unrelated_words_need_no_digits_or_symbols(password: str) -> None:
    assert password_problem(password, email="morgan.hale@example.org") is None


def test_the_api_refuses_a_short_or_common_password_naming_the_field(api, clinic):
    member = clinic.therapist
    for weak in ("12345678", "passwordpassword"):
        answer = api.patch(f"/api/staff/{member.id}", "admin", json={"password": weak})
        assert answer.status_code == 422
        assert "password" in answer.json["errors"]["json"]
