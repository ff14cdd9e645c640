"""The Mini App's feed cards, remembered so that their ratings count as feed ratings.

Revision ID: 0006_miniapp_feed
Revises: 0005_delivery
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_miniapp_feed"
down_revision = "0005_delivery"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "miniapp_feed_posts",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("post_id", sa.BigInteger, sa.ForeignKey("posts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.UniqueConstraint("user_id", "post_id", name="uq_miniapp_feed_posts_user_post"),
    )


def downgrade() -> None:
    op.drop_table("miniapp_feed_posts")
