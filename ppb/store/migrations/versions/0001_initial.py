"""The original schema: users, channels, user_channels, posts, interactions, user_logs.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Timestamp = sa.DateTime(timezone=True)


def _fk(column: str, target: str) -> sa.Column:
    return sa.Column(column, sa.BigInteger, sa.ForeignKey(target, ondelete="CASCADE"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("telegram_id", sa.BigInteger, nullable=False),
        sa.Column("username", sa.String(64)),
        sa.Column("first_name", sa.String(128)),
        sa.Column("last_name", sa.String(128)),
        sa.Column("language", sa.String(8)),
        sa.Column("status", sa.String(16), nullable=False, server_default="new"),
        sa.Column("is_trained", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("bonus_channels_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.Column("last_activity_at", Timestamp, nullable=False),
    )
    op.create_index("ix_users_telegram_id", "users", ["telegram_id"], unique=True)
    op.create_index("ix_users_status_activity", "users", ["status", "last_activity_at"])

    op.create_table(
        "channels",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("telegram_id", sa.BigInteger, nullable=False),
        sa.Column("username", sa.String(64)),
        sa.Column("title", sa.String(256), nullable=False),
        sa.Column("is_default", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", Timestamp, nullable=False),
    )
    op.create_index("ix_channels_telegram_id", "channels", ["telegram_id"], unique=True)
    op.create_index("ix_channels_username", "channels", ["username"], unique=True)

    op.create_table(
        "user_channels",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        _fk("user_id", "users.id"),
        _fk("channel_id", "channels.id"),
        sa.Column("is_for_training", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("is_bonus", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.UniqueConstraint("user_id", "channel_id", name="uq_user_channels_user_channel"),
    )

    op.create_table(
        "posts",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        _fk("channel_id", "channels.id"),
        sa.Column("telegram_message_id", sa.BigInteger, nullable=False),
        sa.Column("text", sa.Text, nullable=False, server_default=""),
        sa.Column("media_type", sa.String(16), nullable=False, server_default="text"),
        sa.Column("posted_at", Timestamp, nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.UniqueConstraint("channel_id", "telegram_message_id", name="uq_posts_channel_message"),
    )
    op.create_index("ix_posts_channel_posted", "posts", ["channel_id", "posted_at"])

    op.create_table(
        "interactions",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        _fk("user_id", "users.id"),
        _fk("post_id", "posts.id"),
        sa.Column("interaction_type", sa.String(16), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.UniqueConstraint("user_id", "post_id", name="uq_interactions_user_post"),
    )
    op.create_index("ix_interactions_post", "interactions", ["post_id"])

    op.create_table(
        "user_logs",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        _fk("user_id", "users.id"),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("details", sa.JSON),
        sa.Column("created_at", Timestamp, nullable=False),
    )
    op.create_index("ix_user_logs_user_created", "user_logs", ["user_id", "created_at"])


def downgrade() -> None:
    for table in ("user_logs", "interactions", "posts", "user_channels", "channels", "users"):
        op.drop_table(table)
