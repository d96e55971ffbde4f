"""Each app has its own Api and document; the API's rules hold in every app built."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask

from scheduler.api import EXTENSION, blueprints
from tests.clients import Api


def test_each_app_has_its_own_api_and_the_same_document(
    app: Flask, fresh_app: Callable[..., Flask]
) -> None:
    other = fresh_app()
    assert other.extensions[EXTENSION] is not app.extensions[EXTENSION]
    first = other.test_client().get("/api/openapi.json")
    assert first.status_code == 200
    assert app.test_client().get("/api/openapi.json").json == first.json


def test_an_undeclared_query_parameter_is_a_422_naming_it(api: Api) -> None:
    response = api.get("/api/appointments?colour=red")
    assert response.status_code == 422
    assert response.json["errors"]["query"] == {"colour": ["Unknown field."]}


def test_every_api_route_but_sign_in_needs_a_token(
    app: Flask, fresh_app: Callable[..., Flask]
) -> None:
    names = {blueprint.name for blueprint in blueprints()}
    for built in (app, fresh_app()):
        client = built.test_client()
        checked = 0
        for rule in built.url_map.iter_rules():
            if rule.endpoint.partition(".")[0] not in names:
                continue
            path = re.sub(r"<[^>]+>", "1", rule.rule)
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                status = client.open(path, method=method).status_code
                if (method, path) == ("POST", "/api/auth/token"):
                    assert status != 401
                else:
                    assert status == 401, (method, path)
                checked += 1
        assert checked >= 40
