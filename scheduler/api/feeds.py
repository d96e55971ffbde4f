"""Calendar-feed links and .ics downloads: ``/api/feeds``.

Links exist per patient, staff member, room and location. The clinic stores only a hash of a
link's token, so a link is shown once, in the answer that issues it (``POST .../rotate``);
issuing a new one ends the old one at once. ``DELETE`` ends a link without a replacement.
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app
from flask.views import MethodView

from ..auth.api import current_actor
from ..auth.permissions import (
    can_manage_feed,
    can_view_appointment,
    can_view_patient,
    require,
)
from ..db import db, write_transaction
from ..feeds import (
    active_token,
    feed_links,
    issue_feed_token,
    render_appointment_ics,
    render_course_ics,
    revoke_feed_tokens,
    staff_audience,
)
from ..feeds.qr import qr_data_uri
from ..feeds.tokens import OWNER_MODELS
from ..models import Appointment, Course, FeedOwnerKind
from ..record_reads import note_read
from .access import action, get_or_404, visible_or_404
from .blueprint import Blueprint
from .responses import errors
from .schemas.feeds import FeedLinkSchema, FeedStatusSchema, IcsQuerySchema

blp = Blueprint(
    "feed_links",
    __name__,
    url_prefix="/api/feeds",
    description="Calendar subscribe links (patients, staff, rooms, locations) and .ics files",
)

#: URL segment per owner kind.
SEGMENTS = {
    "patients": FeedOwnerKind.PATIENT,
    "staff": FeedOwnerKind.STAFF,
    "rooms": FeedOwnerKind.ROOM,
    "locations": FeedOwnerKind.LOCATION,
}
NO_STORE = {"Cache-Control": "no-store"}


def _owner(kind: FeedOwnerKind, owner_id: int) -> None:
    require(can_manage_feed(current_actor(), str(kind), owner_id), f"manage this {kind} feed")
    get_or_404(OWNER_MODELS[kind], owner_id, str(kind))


def _status(kind: FeedOwnerKind, owner_id: int) -> dict[str, Any]:
    row = active_token(db.session, kind, owner_id)
    return {
        "owner_kind": kind,
        "owner_id": owner_id,
        "active": row is not None,
        "created_at": row.created_at if row else None,
    }


def _register(segment: str, kind: FeedOwnerKind) -> None:
    class FeedLink(MethodView):
        @blp.response(200, FeedStatusSchema)
        @errors(blp, 403, 404)
        def get(self, owner_id: int) -> Any:
            _owner(kind, owner_id)
            return _status(kind, owner_id)

        @blp.response(204)
        @errors(blp, 403, 404)
        def delete(self, owner_id: int) -> Response:
            with write_transaction(db.session):
                _owner(kind, owner_id)
                revoke_feed_tokens(db.session, kind, owner_id, action("feed.revoke"))
            return Response(status=204)

    FeedLink.get.__doc__ = f"Whether the {kind} feed has a live link (the link is not shown)."
    FeedLink.delete.__doc__ = f"End the {kind} feed's link; its URL answers 404 from now on."
    FeedLink.__name__ = f"{segment.title()}FeedLink"
    blp.route(f"/{segment}/<int:owner_id>", endpoint=f"{segment}_feed")(FeedLink)

    def rotate(owner_id: int) -> Any:
        with write_transaction(db.session):
            _owner(kind, owner_id)
            token = issue_feed_token(db.session, kind, owner_id, action("feed.rotate"))
        links = feed_links(current_app.config["BASE_URL"], token)
        body = _status(kind, owner_id)
        body.update(url=links.url, webcal_url=links.webcal_url, qr_svg=None)
        if kind == FeedOwnerKind.PATIENT:
            body["qr_svg"] = qr_data_uri(links.webcal_url)
        return body, 201, NO_STORE

    rotate.__name__ = f"rotate_{segment}_feed"
    rotate.__doc__ = (
        f"Issue a new link for the {kind} feed, ending the current one. The answer is the only "
        "time the link is shown."
    )
    view = errors(blp, 403, 404)(blp.response(201, FeedLinkSchema)(rotate))
    blp.route(
        f"/{segment}/<int:owner_id>/rotate", methods=["POST"], endpoint=f"{segment}_feed_rotate"
    )(view)


for _segment, _kind in SEGMENTS.items():
    _register(_segment, _kind)


def _ics(data: bytes, filename: str) -> Response:
    return Response(
        data,
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', **NO_STORE},
    )


@blp.route("/appointments/<int:appointment_id>.ics")
@blp.arguments(IcsQuerySchema, location="query")
@blp.response(200, content_type="text/calendar", description="The appointment as iCalendar")
@errors(blp, 403, 404, 422)
def appointment_ics(query: dict[str, Any], appointment_id: int) -> Response:
    """One appointment as an .ics file (cancelled ones as STATUS:CANCELLED)."""
    actor = current_actor()
    appointment = get_or_404(Appointment, appointment_id, "appointment")
    visible_or_404(
        can_view_appointment(db.session, actor, appointment), "appointment", appointment_id
    )
    note_read(actor, appointment.patient_id)
    audience = staff_audience(actor) if query["view"] == "staff" else None
    data = render_appointment_ics(db.session, appointment, audience=audience)
    return _ics(data, f"appointment-{appointment_id}.ics")


@blp.route("/courses/<int:course_id>.ics")
@blp.arguments(IcsQuerySchema, location="query")
@blp.response(200, content_type="text/calendar", description="The course as iCalendar")
@errors(blp, 403, 404, 422)
def course_ics(query: dict[str, Any], course_id: int) -> Response:
    """Every appointment of a course as one .ics file."""
    actor = current_actor()
    course = get_or_404(Course, course_id, "course")
    visible_or_404(can_view_patient(db.session, actor, course.patient_id), "course", course_id)
    note_read(actor, course.patient_id)
    audience = staff_audience(actor) if query["view"] == "staff" else None
    data = render_course_ics(db.session, course, audience=audience)
    return _ics(data, f"course-{course_id}.ics")
