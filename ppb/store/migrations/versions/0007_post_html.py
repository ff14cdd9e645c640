"""A post's formatting: its text as Telegram HTML, rendered from its entities when stored.

Revision ID: 0007_post_html
Revises: 0006_miniapp_feed
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_post_html"
down_revision = "0006_miniapp_feed"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("posts", sa.Column("html", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("posts") as batch:
        batch.drop_column("html")
