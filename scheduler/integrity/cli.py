"""``flask --app scheduler check-schedule``: the invariant, checked over the stored schedule."""

from __future__ import annotations

import sys

import click
from sqlalchemy import select

from ..clock import now
from ..db import db, write_transaction
from ..models import Appointment
from .check import Scope, find_violations
from .flags import refresh_flags


@click.command("check-schedule")
@click.option("--location", "location_id", type=int, default=None, help="Only this location.")
@click.option(
    "--flag",
    is_flag=True,
    help="First bring every flag up to date (after an upgrade or an import that changed data "
    "behind the product's back), then check.",
)
def check_schedule_command(location_id: int | None, flag: bool) -> None:
    """List every session still to come that breaks a rule. Exit 1 when one of them is not
    flagged as needing attention (a broken invariant); flagged ones are listed as known."""
    scope = (
        Scope(location_ids=frozenset({location_id}))
        if location_id is not None
        else Scope(everything=True)
    )
    session = db.session
    if flag:
        with write_transaction(session):
            refresh_flags(session, scope, now())
    found = find_violations(session, scope, now())
    ids = {v.appointment_id for v in found}
    flagged = dict(
        session.execute(
            select(Appointment.id, Appointment.attention_rule).where(Appointment.id.in_(ids))
        ).all()
    )
    unflagged = 0
    for violation in found:
        known = flagged.get(violation.appointment_id) is not None
        unflagged += not known
        mark = "flagged  " if known else "UNFLAGGED"
        click.echo(
            f"{mark} appointment {violation.appointment_id}: [{violation.rule}] {violation.message}"
        )
    sessions = len(ids)
    click.echo(
        f"{len(found)} broken rule(s) on {sessions} session(s); "
        f"{unflagged} not flagged for the front desk."
    )
    db.session.rollback()
    if unflagged:
        sys.exit(1)
