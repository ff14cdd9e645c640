"""Channels a person removed: a default channel removed stays out of their training and feed.

Revision ID: 0010_dropped_channels
Revises: 0009_post_vectors
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_dropped_channels"
down_revision = "0009_post_vectors"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "dropped_channels",
        sa.Column("user_id", sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("channel_id", sa.BigInteger, sa.ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("created_at", Timestamp, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("dropped_channels")
