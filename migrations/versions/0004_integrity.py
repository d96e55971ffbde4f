"""integrity: needs-attention flags, REMS enrollment, course exceptions, dose claims

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 06:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

from scheduler.db import UTCDateTime


# revision identifiers, used by Alembic.
revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

OLD_RESOURCES = "resource IN ('staff', 'room', 'patient')"
NEW_RESOURCES = "resource IN ('staff', 'room', 'patient', 'dose')"


def _claims_table(check: str) -> sa.Table:
    # SQLite cannot alter a CHECK constraint: batch mode copies the table from this definition.
    return sa.Table(
        "resource_claims",
        sa.MetaData(),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("resource", sa.String(length=16), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.CheckConstraint(check, name="ck_resource_claims_resource"),
        sa.CheckConstraint("starts_at < ends_at", name="ck_resource_claims_order"),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name="fk_resource_claims_appointment_id_appointments",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_resource_claims"),
        sa.Index("ix_resource_claims_appointment_id", "appointment_id"),
        sa.Index("ix_resource_claims_lookup", "resource", "resource_id", "starts_at"),
    )


def _set_resources(old: str, new: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(op.f("ck_resource_claims_resource"), "resource_claims", type_="check")
        op.create_check_constraint(op.f("ck_resource_claims_resource"), "resource_claims", new)
        return
    with op.batch_alter_table(
        "resource_claims", copy_from=_claims_table(new), recreate="always"
    ):
        pass


def upgrade():
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attention_rule", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("attention_message", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("attention_since", UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_appointments_attention_rule"), ["attention_rule"], unique=False
        )
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rems_enrolled_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("rems_number", sa.String(length=40), nullable=True))
    with op.batch_alter_table("courses", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("exceptions", sa.JSON(), nullable=False, server_default="[]")
        )
    _set_resources(OLD_RESOURCES, NEW_RESOURCES)


def downgrade():
    op.execute("DELETE FROM resource_claims WHERE resource = 'dose'")
    _set_resources(NEW_RESOURCES, OLD_RESOURCES)
    # Plain ALTER TABLE ... DROP COLUMN: a batch migration would copy and drop the appointments
    # table, and on SQLite with foreign keys on that deletes its claims and staff (CASCADE).
    op.drop_column("courses", "exceptions")
    op.drop_column("patients", "rems_number")
    op.drop_column("patients", "rems_enrolled_on")
    op.drop_index(op.f("ix_appointments_attention_rule"), table_name="appointments")
    op.drop_column("appointments", "attention_since")
    op.drop_column("appointments", "attention_message")
    op.drop_column("appointments", "attention_rule")
