"""feeds: subscription tokens (hashed), per-owner feed versions, departures

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 08:10:00.000000

"""
from alembic import op
import sqlalchemy as sa

from scheduler.db import UTCDateTime


# revision identifiers, used by Alembic.
revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "feed_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "owner_kind",
            sa.Enum(
                "patient",
                "staff",
                "room",
                "location",
                name="feed_owner_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("revoked_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["staff.id"],
            name=op.f("fk_feed_tokens_created_by_id_staff"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_feed_tokens_token_hash")),
    )
    with op.batch_alter_table("feed_tokens", schema=None) as batch_op:
        batch_op.create_index("ix_feed_tokens_owner", ["owner_kind", "owner_id"], unique=False)

    op.create_table(
        "feed_versions",
        sa.Column("owner_kind", sa.String(length=16), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("changed_second", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("owner_kind", "owner_id", name=op.f("pk_feed_versions")),
    )

    op.create_table(
        "feed_departures",
        sa.Column("owner_kind", sa.String(length=16), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("departed_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name=op.f("fk_feed_departures_appointment_id_appointments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "owner_kind", "owner_id", "appointment_id", name=op.f("pk_feed_departures")
        ),
    )
    with op.batch_alter_table("feed_departures", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_feed_departures_appointment_id"), ["appointment_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("feed_departures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feed_departures_appointment_id"))
    op.drop_table("feed_departures")
    op.drop_table("feed_versions")
    with op.batch_alter_table("feed_tokens", schema=None) as batch_op:
        batch_op.drop_index("ix_feed_tokens_owner")
    op.drop_table("feed_tokens")
