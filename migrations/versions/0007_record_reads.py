"""record reads: who looked at which patient's record, when, through which route

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 15:05:00.000000

"""

import sqlalchemy as sa
from alembic import op

from scheduler.db import UTCDateTime

# revision identifiers, used by Alembic.
revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "record_reads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("staff_label", sa.String(length=160), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("via", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff.id"],
            name=op.f("fk_record_reads_staff_id_staff"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_reads")),
    )
    op.create_index(op.f("ix_record_reads_at"), "record_reads", ["at"])
    op.create_index(op.f("ix_record_reads_staff_id"), "record_reads", ["staff_id"])
    op.create_index(op.f("ix_record_reads_patient_id"), "record_reads", ["patient_id"])


def downgrade():
    op.drop_table("record_reads")
