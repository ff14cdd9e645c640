"""Post vectors: each post's sentence vector, made once when it arrives, per model.

Revision ID: 0009_post_vectors
Revises: 0008_post_edits
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_post_vectors"
down_revision = "0008_post_edits"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "post_vectors",
        sa.Column("post_id", sa.BigInteger, sa.ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("model", sa.String(64), primary_key=True),
        sa.Column("vector", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_post_vectors_model_created", "post_vectors", ["model", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_post_vectors_model_created", table_name="post_vectors")
    op.drop_table("post_vectors")
