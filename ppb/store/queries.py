"""The `Store` facade: one object over every resource's queries, on SQLite and PostgreSQL alike.

Each resource's queries live in a module of their own (users, channels, posts, interactions,
ranking inputs, training, nudges); callers see one `Store`.
"""

from __future__ import annotations

from ppb.store.base import INSERT_CHUNK, POST_BATCH, NewPost, Row, StoreBase, as_utc, utcnow, writes
from ppb.store.channels import ChannelQueries
from ppb.store.delivery import DeliveryQueries
from ppb.store.explanations import ExplanationQueries
from ppb.store.interactions import InteractionQueries
from ppb.store.nudge_batches import NudgeBatches
from ppb.store.nudges import NudgeQueries
from ppb.store.outbox import OutboxQueries
from ppb.store.posts import PostQueries
from ppb.store.ranking_batches import RankingBatches
from ppb.store.ranking_inputs import RankingInputs
from ppb.store.rules import RuleQueries
from ppb.store.training import TrainingQueries
from ppb.store.user_batches import UserBatches
from ppb.store.users import UserQueries
from ppb.store.vectors import VectorQueries

__all__ = ["INSERT_CHUNK", "POST_BATCH", "NewPost", "Row", "Store", "as_utc", "utcnow", "writes"]


class Store(
    InteractionQueries,
    UserBatches,
    UserQueries,
    ChannelQueries,
    PostQueries,
    RankingInputs,
    RankingBatches,
    TrainingQueries,
    NudgeQueries,
    RuleQueries,
    DeliveryQueries,
    OutboxQueries,
    NudgeBatches,
    VectorQueries,
    ExplanationQueries,
    StoreBase,
):
    """Queries grouped by resource; one instance per process, connected once."""
