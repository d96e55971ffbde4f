"""replacements: a rebooked dose names the missed session it stands in for; dose claims for
doses booked before 0004

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 07:10:00.000000

"""
import datetime as dt
import os

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    # A plain column: a foreign key would make SQLite copy and drop the appointments table,
    # and with foreign keys on, dropping it deletes every claim and staff part (CASCADE).
    op.add_column("appointments", sa.Column("replaces_id", sa.Integer(), nullable=True))
    _backfill_dose_claims()


def _backfill_dose_claims():
    """Doses booked before dose claims existed get theirs, so the database keeps later doses
    away from them too. A dose already too close to another keeps none: ``flask check-schedule``
    lists it for the front desk, and its next change gives it one."""
    hours = float(os.environ.get("SCHEDULER_MIN_DOSING_INTERVAL_HOURS") or 24)
    half = dt.timedelta(hours=hours) / 2
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT a.id, a.patient_id, a.starts_at, a.ends_at FROM appointments a "
            "WHERE a.kind = 'dosing' AND a.status IN ('scheduled', 'confirmed', 'checked_in') "
            "AND NOT EXISTS (SELECT 1 FROM resource_claims c "
            "WHERE c.appointment_id = a.id AND c.resource = 'dose') "
            "ORDER BY a.patient_id, a.starts_at"
        )
    ).all()
    held: dict[int, list[tuple[dt.datetime, dt.datetime]]] = {}
    for row in bind.execute(
        sa.text(
            "SELECT resource_id, starts_at, ends_at FROM resource_claims "
            "WHERE resource = 'dose' AND active"
        )
    ):
        held.setdefault(row[0], []).append((_aware(row[1]), _aware(row[2])))
    for appointment_id, patient_id, starts_at, ends_at in rows:
        span = (_aware(starts_at) - half, _aware(ends_at) + half)
        claims = held.setdefault(patient_id, [])
        if any(s < span[1] and span[0] < e for s, e in claims):
            continue
        claims.append(span)
        bind.execute(
            sa.text(
                "INSERT INTO resource_claims "
                "(appointment_id, resource, resource_id, starts_at, ends_at, active) "
                "VALUES (:a, 'dose', :p, :s, :e, :t)"
            ),
            {"a": appointment_id, "p": patient_id, "s": _bind(span[0]), "e": _bind(span[1]),
             "t": True},
        )


def _aware(value):
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _bind(value):
    # SQLite keeps naive UTC text (scheduler.db.UTCDateTime); PostgreSQL a timestamptz.
    if op.get_bind().dialect.name == "sqlite":
        return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ")
    return value


def downgrade():
    op.drop_column("appointments", "replaces_id")
