"""session generation: a staff member's signed-in sessions end together (sign-out, password,
role or active change)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 14:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "staff",
        sa.Column("session_generation", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade():
    with op.batch_alter_table("staff") as batch:
        batch.drop_column("session_generation")
