"""Posts follow their channel: `edited_at` (the newest edit stored) and `deleted_at` (deleted
on Telegram: out of feeds, training and digests; ratings of it stay).

Revision ID: 0008_post_edits
Revises: 0007_post_html
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_post_edits"
down_revision = "0007_post_html"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("posts", sa.Column("edited_at", Timestamp))
    op.add_column("posts", sa.Column("deleted_at", Timestamp))


def downgrade() -> None:
    with op.batch_alter_table("posts") as batch:
        batch.drop_column("deleted_at")
        batch.drop_column("edited_at")
