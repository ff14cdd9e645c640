"""Rating a post, from the API, the chat or the Mini App alike: the rating replaces an
earlier one, is activity (a churned person is back), and the last one of a training
completes it."""

from __future__ import annotations

from ppb.core import training
from ppb.core.ports import Ranker, Row, UserMachine
from ppb.core.users import returned
from ppb.domain.interactions import InteractionType
from ppb.domain.status import UserStatus
from ppb.store.queries import Store


async def rate(store: Store, users: UserMachine, ranker: Ranker, telegram_id: int, post_id: int,
               kind: InteractionType) -> Row:
    """The stored rating; during a training, with `training`: where it stands now."""
    row = await store.rate(telegram_id, post_id, kind)
    status = row.get("user_status")
    if status == UserStatus.TRAINING:
        return {**row, "training": await training.after_rating(store, users, ranker, telegram_id)}
    await returned(users, telegram_id, status, "rating")
    return row
