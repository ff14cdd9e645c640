"""Explanations given: each time a person asked why a post is in their feed, the reason
named first and where they asked, for the console's statistics.

Revision ID: 0013_explanations
Revises: 0012_text_models
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_explanations"
down_revision = "0012_text_models"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "explanations",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("post_id", sa.BigInteger, sa.ForeignKey("posts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("lead", sa.String(16), nullable=False),
        sa.Column("surface", sa.String(8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_explanations_user_post", "explanations", ["user_id", "post_id", "created_at"])
    op.create_index("ix_explanations_created", "explanations", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_explanations_created", "explanations")
    op.drop_index("ix_explanations_user_post", "explanations")
    op.drop_table("explanations")
