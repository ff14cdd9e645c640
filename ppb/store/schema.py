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

dropped_channels = sa.Table(
    "dropped_channels",
    metadata,
    sa.Column("user_id", sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("channel_id", sa.BigInteger, sa.ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("created_at", Timestamp, nullable=False),
)
"""Channels a person removed from their feed: a default one is not linked for them again
until they add it themselves."""

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
    sa.Column("html", sa.Text),  # Telegram HTML of the formatted text (0007_post_html); None: plain
    sa.Column("edited_at", Timestamp),  # the newest edit stored (0008_post_edits); None: never edited
    sa.Column("deleted_at", Timestamp),  # deleted on Telegram (0008_post_edits): out of feeds, training, digests
    sa.UniqueConstraint("channel_id", "telegram_message_id", name="uq_posts_channel_message"),
    sa.Index("ix_posts_channel_posted", "channel_id", "posted_at"),
)

post_vectors = sa.Table(
    "post_vectors",
    metadata,
    sa.Column("post_id", sa.BigInteger, sa.ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("model", sa.String(64), primary_key=True),
    sa.Column("vector", sa.LargeBinary, nullable=False),  # float16, little-endian
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Index("ix_post_vectors_model_created", "model", "created_at"),
)
"""A post's sentence vector, made once by the embedding stage and kept, per model that made it
(0009_post_vectors): every Scorer replica reads it instead of embedding the text again."""

text_models = sa.Table(
    "text_models",
    metadata,
    sa.Column("version", BigId, primary_key=True, autoincrement=True),
    sa.Column("documents", sa.BigInteger, nullable=False),
    sa.Column("weights", sa.LargeBinary, nullable=False),  # float16, little-endian
    sa.Column("components", sa.LargeBinary, nullable=False),  # float16, little-endian
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("ready_at", Timestamp, nullable=True),
)
"""The n-gram half of post rows (word weights, latent components), estimated once by the
embedding stage and read by every Scorer replica (0012_text_models); `ready_at` is set once
every post has its n-gram row of this version (kept in `post_vectors` as `ngrams:<version>`)."""

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

# Delivery (migration 0005_delivery): each person's rules, what arrived for them, what is sent.
user_rules = sa.Table(
    "user_rules",
    metadata,
    sa.Column("user_id", sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("delivery", sa.String(8), nullable=False),  # live | digest | both | off
    sa.Column("digest", sa.String(8), nullable=False),  # off | daily | twice
    sa.Column("digest_time", sa.String(5), nullable=False),  # HH:MM in `timezone`
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("quiet_start", sa.String(5)),  # HH:MM, both None: no quiet hours
    sa.Column("quiet_end", sa.String(5)),
    sa.Column("mute_words", sa.JSON, nullable=False),
    sa.Column("hide_ads", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("must_words", sa.JSON, nullable=False, server_default=sa.text("'[]'")),
    sa.Column("channel_dials", sa.JSON, nullable=False, server_default=sa.text("'{}'")),  # {channel id: dial}
    sa.Column("last_digest_at", Timestamp),
    sa.Column("updated_at", Timestamp, nullable=False),
)
"""A person's delivery rules; no row means the defaults (`ppb.domain.rules.Rules`)."""

deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("post_id", sa.BigInteger, sa.ForeignKey("posts.id", ondelete="CASCADE"), nullable=False),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("route", sa.String(8), nullable=False),  # push | digest
    sa.Column("status", sa.String(8), nullable=False),  # waiting (for the digest) | queued | dropped
    sa.Column("story", sa.String(32), nullable=False),  # cross-posts of one story share it
    sa.Column("created_at", Timestamp, nullable=False),
    sa.UniqueConstraint("user_id", "post_id", name="uq_deliveries_user_post"),
    sa.Index("ix_deliveries_user_status", "user_id", "status", "created_at"),
)
"""Each new post scored for each follower, once: pushed now, or waiting for their digest."""

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("chat_id", sa.BigInteger, nullable=False),
    sa.Column("kind", sa.String(8), nullable=False),  # push | digest | nudge
    sa.Column("payload", sa.JSON, nullable=False),  # post ids and what the message says
    sa.Column("ref", sa.String(64)),  # what queued it, when it must be found again ("nudge:<post id>")
    sa.Column("status", sa.String(8), nullable=False),  # queued, sending (claimed), sent | failed
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("message_id", sa.BigInteger),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("sent_at", Timestamp),
    sa.Index("ix_outbox_status_id", "status", "id"),
    sa.Index("ix_outbox_user_created", "user_id", "kind", "created_at"),
    sa.Index("ix_outbox_user_ref", "user_id", "ref"),
)
"""Outgoing messages, owned by the `outbox` actor: claimed (sending) before each send."""

explanations = sa.Table(
    "explanations",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("post_id", sa.BigInteger, sa.ForeignKey("posts.id", ondelete="CASCADE"), nullable=False),
    sa.Column("lead", sa.String(16), nullable=False),  # the reason named first (ppb.ranking.explain), or "none"
    sa.Column("surface", sa.String(8), nullable=False),  # chat | miniapp | api
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Index("ix_explanations_user_post", "user_id", "post_id", "created_at"),
    sa.Index("ix_explanations_created", "created_at"),
)
"""Each time a person asked why a post is in their feed (0013_explanations): the console counts
the reasons given and compares the like rate of the posts rated after asking."""
