"""The operators' console: experiments and assignments, blocked users, admin sessions, the
admin action log, and the indexes analytics read by.

Revision ID: 0004_console
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_console"
down_revision = "0003"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Timestamp = sa.DateTime(timezone=True)


def _fk(column: str, target: str) -> sa.Column:
    return sa.Column(column, sa.BigInteger, sa.ForeignKey(target, ondelete="CASCADE"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "experiments",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("variants", sa.JSON, nullable=False),
        sa.Column("started_at", Timestamp),
        sa.Column("stopped_at", Timestamp),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
    )
    op.create_index("ix_experiments_name", "experiments", ["name"], unique=True)
    op.create_table(
        "experiment_assignments",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        _fk("experiment_id", "experiments.id"),
        _fk("user_id", "users.id"),
        sa.Column("variant", sa.String(64), nullable=False),
        sa.Column("assigned_at", Timestamp, nullable=False),
        sa.UniqueConstraint("experiment_id", "user_id", name="uq_experiment_assignments_user"),
    )
    op.create_index("ix_experiment_assignments_user", "experiment_assignments", ["user_id"])
    op.create_table(
        "blocked_users",
        sa.Column("user_id", sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("blocked_by", sa.String(128), nullable=False),
        sa.Column("reason", sa.String(256)),
        sa.Column("created_at", Timestamp, nullable=False),
    )
    op.create_table(
        "admin_sessions",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("operator", sa.String(128), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("expires_at", Timestamp, nullable=False),
    )
    op.create_index("ix_admin_sessions_token", "admin_sessions", ["token_hash"], unique=True)
    op.create_table(
        "admin_actions",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(128)),
        sa.Column("details", sa.JSON),
        sa.Column("created_at", Timestamp, nullable=False),
    )
    op.create_index("ix_admin_actions_created", "admin_actions", ["created_at"])
    op.create_index(  # covering: the daily figures read the window's ratings from the index alone
        "ix_interactions_created_cover", "interactions", ["created_at", "user_id", "post_id", "interaction_type"]
    )
    op.create_index("ix_interactions_user_created", "interactions", ["user_id", "created_at"])
    op.create_index("ix_user_logs_action_user", "user_logs", ["action", "user_id"])
    op.create_index("ix_user_channels_channel", "user_channels", ["channel_id"])


def downgrade() -> None:
    for name, table in (
        ("ix_user_channels_channel", "user_channels"),
        ("ix_user_logs_action_user", "user_logs"),
        ("ix_interactions_user_created", "interactions"),
        ("ix_interactions_created_cover", "interactions"),
    ):
        op.drop_index(name, table_name=table)
    for table in ("admin_actions", "admin_sessions", "blocked_users", "experiment_assignments", "experiments"):
        op.drop_table(table)
