"""Protocols: ``/api/protocols``. Every staff member reads them; admins create them and add
versions (a booked course keeps the version it was planned with)."""

from __future__ import annotations

from typing import Any

from flask import request
from flask.views import MethodView
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..auth.api import current_actor
from ..auth.permissions import can_edit_protocols, require
from ..db import db, write_transaction
from ..errors import NotFound
from ..models import Protocol, ProtocolVersion
from ..protocols import add_version, create_protocol, get_protocol, set_active
from ..protocols.schema import ProtocolDocumentSchema
from .access import action
from .blueprint import Blueprint
from .responses import errors
from .schemas.protocols import (
    ProtocolActiveSchema,
    ProtocolSchema,
    ProtocolSummarySchema,
    VersionSchema,
)

blp = Blueprint(
    "protocols",
    __name__,
    url_prefix="/api/protocols",
    description="Treatment protocols as versioned data: steps, spacing, pairing, instructions",
)


def _document() -> Any:
    """The request body as sent: ``parse_definition`` checks it and names each field path."""
    return request.get_json(silent=True)


@blp.route("")
class Protocols(MethodView):
    @blp.response(200, ProtocolSummarySchema(many=True))
    @errors(blp)
    def get(self) -> Any:
        """Every protocol, active ones first, by name."""
        return db.session.scalars(
            select(Protocol)
            .options(selectinload(Protocol.versions))
            .order_by(Protocol.active.desc(), Protocol.name)
        ).all()

    @blp.arguments(ProtocolDocumentSchema)
    @blp.response(201, ProtocolSchema)
    @errors(blp, 400, 403, 422)
    def post(self, _data: dict[str, Any]) -> Any:
        """Create a protocol (admins). An impossible protocol (a maximum gap below its minimum,
        a window too short for its sessions, a pairing that cannot fit) is a 422 naming the
        field path and why."""
        require(can_edit_protocols(current_actor()), "create protocols")
        with write_transaction(db.session):
            protocol = create_protocol(db.session, action("protocol.create"), _document())
        return protocol


@blp.route("/<int:protocol_id>")
class ProtocolById(MethodView):
    @blp.response(200, ProtocolSchema)
    @errors(blp, 404)
    def get(self, protocol_id: int) -> Any:
        """A protocol with its current document and every version."""
        return get_protocol(db.session, protocol_id)

    @blp.arguments(ProtocolActiveSchema)
    @blp.response(200, ProtocolSchema)
    @errors(blp, 400, 403, 404, 422)
    def patch(self, data: dict[str, Any], protocol_id: int) -> Any:
        """Retire a protocol from new courses, or bring it back (admins)."""
        require(can_edit_protocols(current_actor()), "change protocols")
        with write_transaction(db.session):
            protocol = get_protocol(db.session, protocol_id)
            set_active(db.session, action("protocol.active"), protocol, data["active"])
        return protocol


@blp.route("/<int:protocol_id>/versions", methods=["POST"])
@blp.arguments(ProtocolDocumentSchema)
@blp.response(201, VersionSchema)
@errors(blp, 400, 403, 404, 422)
def new_version(_data: dict[str, Any], protocol_id: int) -> Any:
    """Edit a protocol: the document becomes its next version (admins). Courses already booked
    keep the version they were planned with."""
    require(can_edit_protocols(current_actor()), "edit protocols")
    with write_transaction(db.session):
        protocol = get_protocol(db.session, protocol_id)
        version = add_version(db.session, action("protocol.new_version"), protocol, _document())
    return version


@blp.route("/<int:protocol_id>/versions/<int:number>", methods=["GET"])
@blp.response(200, VersionSchema)
@errors(blp, 404)
def get_version(protocol_id: int, number: int) -> Any:
    """One version of a protocol, with its document."""
    version = None
    if 0 < number < 2**31 and 0 < protocol_id < 2**31:
        version = db.session.scalars(
            select(ProtocolVersion).where(
                ProtocolVersion.protocol_id == protocol_id, ProtocolVersion.number == number
            )
        ).first()
    if version is None:
        raise NotFound(f"No version {number} of protocol {protocol_id}")
    return version
