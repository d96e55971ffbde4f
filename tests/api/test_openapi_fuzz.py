"""Schemathesis over /api/openapi.json: no 5xx and no answer that breaks the document, for
generated valid and invalid input, signed in as an admin of a seeded clinic, on each database.

The document is read once from an app without a database (it does not depend on one); every
generated request goes to the test's own ``app``.
"""

from __future__ import annotations

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation import GenerationMode

from scheduler import create_app
from tests.factories import Clinic

schema = schemathesis.openapi.from_wsgi(
    "/api/openapi.json",
    create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"}),
)


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_document(
    case: schemathesis.Case, app: Flask, clinic: Clinic, tokens: dict[str, str]
) -> None:
    case.call_and_validate(
        app=app,
        headers=_auth_unless_negated(case, tokens["admin"]),
        # "Schema-valid input must be accepted" cannot hold for rules a JSON schema cannot
        # state (an end after the start, an existing time zone, a free slot): those are 422/409.
        excluded_checks=[schemathesis.checks.positive_data_acceptance],
    )


def _auth_unless_negated(case: schemathesis.Case, token: str) -> dict[str, str]:
    """Sign the request in, except when the case's headers were generated to be invalid (the
    bearer header left out, say): adding it back would make schemathesis expect a refusal of
    a request that no longer breaks the document. Those cases go out as generated: 401."""
    meta = case.meta
    header = meta.components.get(ParameterLocation.HEADER) if meta is not None else None
    if header is not None and header.mode == GenerationMode.NEGATIVE:
        return {}
    return {"Authorization": f"Bearer {token}"}
