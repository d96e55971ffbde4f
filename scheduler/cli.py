"""Command-line entry points: ``flask --app scheduler <command>``."""

from __future__ import annotations

import click
from flask import Flask

from .audit import Action
from .auth.accounts import upsert_user
from .db import db, utcnow, write_transaction
from .errors import DomainError
from .integrity.cli import check_schedule_command
from .protocols.cli import seed_protocols_command
from .reminders.worker import worker_command
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


@click.command("demo")
@click.option("--if-empty", is_flag=True, help="Only load into a database with no clinic data.")
def demo_command(if_empty: bool) -> None:
    """Load the demo clinic (idempotent) and print how to sign in."""
    from .demo import load_demo
    from .demo.loader import database_empty, demo_present, sign_ins

    session = db.session
    if if_empty and not database_empty(session):
        present = demo_present(session)
        click.echo(
            "The demo clinic is already loaded."
            if present
            else "The database already holds clinic data; the demo was not loaded."
        )
        _print_sign_in(sign_ins(), demo=present)
        return
    with write_transaction(session):
        summary = load_demo(session, Action("cli.demo", None, utcnow()))
    if summary.created:
        click.echo(
            f"Loaded the demo clinic: {summary.locations} locations, {summary.rooms} rooms and "
            f"chairs, {summary.staff} staff, {summary.patients} patients, "
            f"{summary.courses} courses, {summary.appointments} appointments."
        )
    else:
        click.echo("The demo clinic is already loaded.")
    _print_sign_in(summary.sign_ins, demo=True)


def _print_sign_in(accounts: list[tuple[str, str, str]], demo: bool) -> None:
    from flask import current_app

    base = current_app.config["BASE_URL"]
    click.echo(f"Open {base}/ and sign in" + (" as one of:" if demo else "."))
    if demo:
        for email, password, roles in accounts:
            click.echo(f"  {email:<24} password {password:<18} ({roles})")
    click.echo(f"API documentation: {base}/api/docs")


def init_app(app: Flask) -> None:
    app.cli.add_command(create_user_command)
    app.cli.add_command(serve_command)
    app.cli.add_command(worker_command)
    app.cli.add_command(demo_command)
    app.cli.add_command(seed_protocols_command)
    app.cli.add_command(check_schedule_command)
