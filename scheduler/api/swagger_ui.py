"""Browsable API docs at /api/docs, working offline: Swagger UI's files come from the
swagger-ui-bundle package, not a CDN.

The page is a fixed HTML string rather than a template, so it renders without the web pages'
context processors (the signed-in user, CSRF) that have nothing to do with the API.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, send_from_directory, url_for
from markupsafe import escape
from swagger_ui_bundle import swagger_ui_path

#: Where OPENAPI_SWAGGER_UI_URL points by default.
URL_PREFIX = "/api/swagger-ui"

bp = Blueprint("swagger_ui", __name__)

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{title}</title>
  <link rel="stylesheet" href="{assets}swagger-ui.css">
</head>
<body>
  <div id="swagger-ui" data-config="{config}" data-spec-url="{spec_url}"></div>
  <script src="{assets}swagger-ui-bundle.js"></script>
  <script src="{assets}swagger-ui-standalone-preset.js"></script>
  <script src="{init}"></script>
</body>
</html>
"""


@bp.get(f"{URL_PREFIX}/<path:filename>")
def asset(filename: str) -> Response:
    return send_from_directory(swagger_ui_path, filename, max_age=86400)


@bp.get("/api/docs")
def docs() -> Response:
    config = current_app.config
    html = PAGE.format(
        title=escape(f"{config['API_TITLE']} — API"),
        assets=escape(config.get("OPENAPI_SWAGGER_UI_URL") or f"{URL_PREFIX}/"),
        config=escape(json.dumps(config.get("OPENAPI_SWAGGER_UI_CONFIG") or {})),
        spec_url=escape(url_for("api-docs.openapi_json")),
        init=escape(url_for("static", filename="js/swagger-init.js")),
    )
    return Response(html, mimetype="text/html")
