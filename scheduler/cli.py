"""Command-line entry points: ``flask --app scheduler <command>``."""

from __future__ import annotations

import click
from flask import Flask

from .audit import Action
from .auth.accounts import upsert_user
from .db import db, utcnow, write_transaction
from .errors import DomainError
from .serve import serve_command


@click.command("create-user")
@click.option("--email", required=True, help="Sign-in e-mail.")
@click.option("--password", required=True, help="At least 8 characters.")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    help="admin, front_desk, clinician or therapist; repeat for several.",
)
@click.option("--name", default=None, help="Display name (defaults from the e-mail).")
def create_user_command(
    email: str, password: str, roles: tuple[str, ...], name: str | None
) -> None:
    """Create a staff sign-in, or update the password and roles of an existing one."""
    try:
        with write_transaction(db.session):
            member, created = upsert_user(
                db.session,
                Action("cli.create-user", None, utcnow()),
                email=email,
                password=password,
                roles=roles,
                name=name,
            )
    except DomainError as error:
        details = error.details.get("errors", {})
        text = "; ".join(f"{k}: {', '.join(v)}" for k, v in details.items()) or error.message
        raise click.ClickException(text) from None
    verb = "Created" if created else "Updated"
    click.echo(f"{verb} {member.email} with roles {', '.join(sorted(member.roles))}")


def init_app(app: Flask) -> None:
    app.cli.add_command(create_user_command)
    app.cli.add_command(serve_command)
