"""The OpenAPI document and the browsable docs, served without network access."""

from __future__ import annotations

import pytest

WRITES = {"post", "patch", "delete", "put"}


@pytest.fixture
def document(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    return response.json


def test_document_declares_bearer_auth_for_all_but_sign_in(document):
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert document["security"] == [{"bearerAuth": []}]
    assert document["paths"]["/api/auth/token"]["post"]["security"] == []


def test_every_operation_documents_its_errors(document):
    operations = [
        (path, method, op)
        for path, item in document["paths"].items()
        for method, op in item.items()
        if method in WRITES | {"get"}
    ]
    assert len(operations) >= 25
    for path, method, op in operations:
        codes = set(op["responses"])
        assert "401" in codes, (path, method)
        if "{" in path:
            assert "404" in codes, (path, method)
        if method in WRITES and path != "/api/auth/token" and not path.endswith("/auth/token"):
            assert "403" in codes, (path, method)
        if "requestBody" in op:
            assert {"400", "422"} <= codes, (path, method)


def test_swagger_ui_is_served_from_the_package(client):
    page = client.get("/api/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/api/swagger-ui/swagger-ui-bundle.js" in html
    assert "/api/openapi.json" in html
    assert "https://" not in html  # nothing from a CDN
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "swagger-ui-standalone-preset.js"):
        response = client.get(f"/api/swagger-ui/{asset}")
        assert response.status_code == 200, asset
        assert len(response.data) > 1000


def test_docs_need_no_token_but_resources_do(client):
    assert client.get("/api/openapi.json").status_code == 200
    assert client.get("/api/locations").status_code == 401
