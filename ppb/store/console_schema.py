"""The operators' console's tables: experiments and their assignments, blocks, admin
sessions and the log of admin actions (migration 0004_console mirrors these)."""

from __future__ import annotations

import sqlalchemy as sa

from ppb.store.schema import BigId, Timestamp, metadata

experiments = sa.Table(
    "experiments",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("variants", sa.JSON, nullable=False),  # [{"name", "weight", "settings"}], the first is the control
    sa.Column("started_at", Timestamp),  # None: a draft; assignment starts at this time
    sa.Column("stopped_at", Timestamp),
    sa.Column("created_by", sa.String(128), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Index("ix_experiments_name", "name", unique=True),
)
"""A/B tests of ranking variants; at most one runs at a time."""

experiment_assignments = sa.Table(
    "experiment_assignments",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column(
        "experiment_id", sa.BigInteger, sa.ForeignKey("experiments.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("user_id", sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("variant", sa.String(64), nullable=False),
    sa.Column("assigned_at", Timestamp, nullable=False),
    sa.UniqueConstraint("experiment_id", "user_id", name="uq_experiment_assignments_user"),
    sa.Index("ix_experiment_assignments_user", "user_id"),
)
"""Each user's variant in an experiment, written on first use and never changed."""

blocked_users = sa.Table(
    "blocked_users",
    metadata,
    sa.Column("user_id", sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("blocked_by", sa.String(128), nullable=False),
    sa.Column("reason", sa.String(256)),
    sa.Column("created_at", Timestamp, nullable=False),
)
"""Users an operator blocked: no feed, no nudges, no Mini App."""

admin_sessions = sa.Table(
    "admin_sessions",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("token_hash", sa.String(64), nullable=False),  # sha256 of the cookie's token
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("operator", sa.String(128), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("expires_at", Timestamp, nullable=False),
    sa.Index("ix_admin_sessions_token", "token_hash", unique=True),
)
"""Console sessions (the API key exchanged for a cookie), shared by every Api replica."""

admin_actions = sa.Table(
    "admin_actions",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("target", sa.String(128)),
    sa.Column("details", sa.JSON),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Index("ix_admin_actions_created", "created_at"),
)
"""Every admin action with who did it; kept after the target user is erased."""

