"""Retention: the nudges sent to quiet users (one row per user and post, claimed before sending).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "nudges",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("post_id", sa.BigInteger, sa.ForeignKey("posts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("message_id", sa.BigInteger),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("sent_at", Timestamp),
        sa.UniqueConstraint("user_id", "post_id", name="uq_nudges_user_post"),
    )
    op.create_index("ix_nudges_user_created", "nudges", ["user_id", "created_at"])
    op.create_index("ix_nudges_status", "nudges", ["status"])


def downgrade() -> None:
    op.drop_table("nudges")
