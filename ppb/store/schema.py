"""The tables of the original schema, as SQLAlchemy Core (migrations mirror these)."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
"""Primary keys: BIGINT on PostgreSQL, INTEGER (rowid alias, autoincrement) on SQLite."""

Timestamp = sa.DateTime(timezone=True)

users = sa.Table(
    "users",
    metadata,
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
    sa.Index("ix_users_telegram_id", "telegram_id", unique=True),
    sa.Index("ix_users_status_activity", "status", "last_activity_at"),
)

channels = sa.Table(
    "channels",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("telegram_id", sa.BigInteger, nullable=False),
    sa.Column("username", sa.String(64)),
    sa.Column("title", sa.String(256), nullable=False),
    sa.Column("is_default", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Index("ix_channels_telegram_id", "telegram_id", unique=True),
    sa.Index("ix_channels_username", "username", unique=True),
)

user_channels = sa.Table(
    "user_channels",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column(
        "channel_id", sa.BigInteger, sa.ForeignKey("channels.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("is_for_training", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("is_bonus", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.UniqueConstraint("user_id", "channel_id", name="uq_user_channels_user_channel"),
)

posts = sa.Table(
    "posts",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column(
        "channel_id", sa.BigInteger, sa.ForeignKey("channels.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("telegram_message_id", sa.BigInteger, nullable=False),
    sa.Column("text", sa.Text, nullable=False, server_default=""),
    sa.Column("media_type", sa.String(16), nullable=False, server_default="text"),
    sa.Column("posted_at", Timestamp, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.UniqueConstraint("channel_id", "telegram_message_id", name="uq_posts_channel_message"),
    sa.Index("ix_posts_channel_posted", "channel_id", "posted_at"),
)

interactions = sa.Table(
    "interactions",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("post_id", sa.BigInteger, sa.ForeignKey("posts.id", ondelete="CASCADE"), nullable=False),
    sa.Column("interaction_type", sa.String(16), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.UniqueConstraint("user_id", "post_id", name="uq_interactions_user_post"),
    sa.Index("ix_interactions_post", "post_id"),
)

user_logs = sa.Table(
    "user_logs",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("details", sa.JSON),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Index("ix_user_logs_user_created", "user_id", "created_at"),
)

nudges = sa.Table(
    "nudges",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("post_id", sa.BigInteger, sa.ForeignKey("posts.id", ondelete="CASCADE"), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # pending (claimed), then sent or undeliverable
    sa.Column("message_id", sa.BigInteger),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("sent_at", Timestamp),
    sa.UniqueConstraint("user_id", "post_id", name="uq_nudges_user_post"),
    sa.Index("ix_nudges_user_created", "user_id", "created_at"),
    sa.Index("ix_nudges_status", "status"),
)

training_items = sa.Table(
    "training_items",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("post_id", sa.BigInteger, sa.ForeignKey("posts.id", ondelete="CASCADE"), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.UniqueConstraint("user_id", "post_id", name="uq_training_items_user_post"),
    sa.Index("ix_training_items_user_position", "user_id", "position"),
)
"""The user's current training set, in the order it is shown (the chat and the Mini App read it)."""

chat_posts = sa.Table(
    "chat_posts",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("post_id", sa.BigInteger, sa.ForeignKey("posts.id", ondelete="CASCADE"), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.UniqueConstraint("user_id", "post_id", name="uq_chat_posts_user_post"),
)
"""Feed posts already sent into the user's chat: never sent there again."""

miniapp_feed_posts = sa.Table(
    "miniapp_feed_posts",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("post_id", sa.BigInteger, sa.ForeignKey("posts.id", ondelete="CASCADE"), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.UniqueConstraint("user_id", "post_id", name="uq_miniapp_feed_posts_user_post"),
)
"""Feed cards dealt to the user in the Mini App (the first time each): their ratings are feed
ratings, as the chat's are. The chat may still send them (a card dealt is not a card seen)."""

# Indexes the operators' console's analytics read by (migration 0004_console).
sa.Index(  # covering: the daily figures read the window's ratings from the index alone
    "ix_interactions_created_cover",
    interactions.c.created_at, interactions.c.user_id, interactions.c.post_id, interactions.c.interaction_type,
)
sa.Index("ix_interactions_user_created", interactions.c.user_id, interactions.c.created_at)
sa.Index("ix_user_logs_action_user", user_logs.c.action, user_logs.c.user_id)
sa.Index("ix_user_channels_channel", user_channels.c.channel_id)
