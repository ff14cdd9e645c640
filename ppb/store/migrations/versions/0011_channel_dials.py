"""Channel dials and must-see words, kept with the rest of a person's rules.

Revision ID: 0011_channel_dials
Revises: 0010_dropped_channels
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_channel_dials"
down_revision = "0010_dropped_channels"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("user_rules") as table:
        table.add_column(sa.Column("must_words", sa.JSON, nullable=False, server_default=sa.text("'[]'")))
        table.add_column(sa.Column("channel_dials", sa.JSON, nullable=False, server_default=sa.text("'{}'")))


def downgrade() -> None:
    with op.batch_alter_table("user_rules") as table:
        table.drop_column("channel_dials")
        table.drop_column("must_words")
