"""The Blueprint every API resource is built with.

flask-smorest binds a blueprint's ``ARGUMENTS_PARSER`` when ``@blp.arguments`` decorates a view,
so the parser is chosen here, by class, rather than by changing flask-smorest's shared one: other
flask-smorest users in the process (another app, a test) keep webargs' defaults.
"""

from __future__ import annotations

import flask_smorest
from marshmallow import RAISE
from webargs.flaskparser import FlaskParser


class StrictQueryParser(FlaskParser):
    """Query strings follow the rule bodies follow: a parameter the operation does not declare
    is a 422 naming it, not silently ignored (webargs' default outside bodies)."""

    DEFAULT_UNKNOWN_BY_LOCATION = {
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
        "query": RAISE,
        "querystring": RAISE,
    }


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = StrictQueryParser()
