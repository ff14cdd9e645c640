"""Text models: the n-gram half of post rows estimated once by the embedding stage, so a
Scorer replica reads rows instead of vectorizing every post again.

Revision ID: 0012_text_models
Revises: 0011_channel_dials
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_text_models"
down_revision = "0011_channel_dials"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "text_models",
        sa.Column("version", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("documents", sa.BigInteger, nullable=False),
        sa.Column("weights", sa.LargeBinary, nullable=False),
        sa.Column("components", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ready_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("text_models")
