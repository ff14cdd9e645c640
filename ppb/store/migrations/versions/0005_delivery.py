"""Delivery: each person's rules, new posts scored for their followers, the send queue.

Revision ID: 0005_delivery
Revises: 0004_console
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_delivery"
down_revision = "0004_console"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Timestamp = sa.DateTime(timezone=True)


def _user() -> sa.Column:
    return sa.Column("user_id", sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "user_rules",
        sa.Column("user_id", sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("delivery", sa.String(8), nullable=False),
        sa.Column("digest", sa.String(8), nullable=False),
        sa.Column("digest_time", sa.String(5), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("quiet_start", sa.String(5)),
        sa.Column("quiet_end", sa.String(5)),
        sa.Column("mute_words", sa.JSON, nullable=False),
        sa.Column("hide_ads", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("last_digest_at", Timestamp),
        sa.Column("updated_at", Timestamp, nullable=False),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        _user(),
        sa.Column("post_id", sa.BigInteger, sa.ForeignKey("posts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("route", sa.String(8), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("story", sa.String(32), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.UniqueConstraint("user_id", "post_id", name="uq_deliveries_user_post"),
    )
    op.create_index("ix_deliveries_user_status", "deliveries", ["user_id", "status", "created_at"])
    op.create_table(
        "outbox",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        _user(),
        sa.Column("chat_id", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("ref", sa.String(64)),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("message_id", sa.BigInteger),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("sent_at", Timestamp),
    )
    op.create_index("ix_outbox_status_id", "outbox", ["status", "id"])
    op.create_index("ix_outbox_user_created", "outbox", ["user_id", "kind", "created_at"])
    op.create_index("ix_outbox_user_ref", "outbox", ["user_id", "ref"])


def downgrade() -> None:
    op.drop_index("ix_outbox_user_ref", table_name="outbox")
    op.drop_index("ix_outbox_user_created", table_name="outbox")
    op.drop_index("ix_outbox_status_id", table_name="outbox")
    op.drop_table("outbox")
    op.drop_index("ix_deliveries_user_status", table_name="deliveries")
    op.drop_table("deliveries")
    op.drop_table("user_rules")
