"""``flask --app scheduler seed-protocols``: add the four standard protocols (idempotent)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from ..audit import Action
from ..db import db, utcnow, write_transaction
from .seed import seed_protocols


@click.command("seed-protocols")
@with_appcontext
def seed_protocols_command() -> None:
    """Add the standard protocols that do not exist yet; existing ones are left as they are."""
    with write_transaction(db.session):
        seeded = seed_protocols(db.session, Action("cli.seed-protocols", None, utcnow()))
    for item in seeded:
        state = "added" if item.created else "already present"
        if item.lacks:
            state += (
                f" (its current version has no {' or '.join(item.lacks)}: add a version "
                "to have its preconditions checked)"
            )
        click.echo(f"{item.protocol.name}: {state}")
