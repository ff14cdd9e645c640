"""Rating a post, from the API, the chat or the Mini App alike: the rating replaces an
earlier one, is activity (a churned person is back), and the last one of a training
completes it.

The chat and the Mini App are two views of one person's ratings. A client says which rating
it shows the person (`if_rated`: a kind, or `none`), and a rating made meanwhile in the
other one is then kept, not silently replaced: the answer carries it (`kept`), and the
client says so. A skip is no opinion: any rating replaces it. A rating made in the Mini App of a post that is in the chat marks the
chat's copy too: an outbox message of kind `mark` edits its buttons in place.
"""

from __future__ import annotations

from ppb.core import training
from ppb.core.ports import Ranker, Row, UserMachine
from ppb.core.users import returned
from ppb.domain.interactions import InteractionType
from ppb.domain.status import UserStatus
from ppb.store.queries import Store

UNRATED = "none"
"""`if_rated` of a client showing the post without a rating."""
MARK = "mark"
"""The outbox kind that shows a rating on the chat's copy of a post."""


async def rate(store: Store, users: UserMachine, ranker: Ranker, telegram_id: int, post_id: int,
               kind: InteractionType, *, if_rated: str | None = None) -> Row:
    """The stored rating, with `kept` (an earlier one stayed) and, when `if_rated` is given,
    `previous` (the rating before this call, None for none); during a training, with
    `training`: where it stands now."""
    previous = await store.rating_of(telegram_id, post_id) if if_rated is not None else None
    before = previous["interaction_type"] if previous is not None else None
    if previous is not None and before not in {if_rated, kind.value, InteractionType.SKIP.value}:
        return {**previous, "previous": before, "kept": True}
    row = await store.rate(telegram_id, post_id, kind)
    status = row.get("user_status")
    if status == UserStatus.TRAINING:  # where the training stands now, for the client to show
        state = await training.after_rating(store, users, ranker, telegram_id)
        return {**row, "previous": before, "kept": False, "training": state}
    if status == UserStatus.CHURNED:  # back (asked here: most raters are not, and this is every rating)
        await returned(users, telegram_id, status, "rating")
    return {**row, "previous": before, "kept": False}


async def mark_in_chat(store: Store, rated: Row, telegram_id: int) -> bool:
    """Queue the edit that shows a rating on the chat's copy of its post, when the post is in
    the chat; whether it was queued."""
    if rated["kept"] or rated["interaction_type"] == InteractionType.SKIP.value:
        return False  # the chat's buttons are 👍 and 👎: a skip shows nothing there
    if not await store.in_chat(int(rated["user_id"]), int(rated["post_id"])):
        return False
    await store.enqueue([{"user_id": int(rated["user_id"]), "chat_id": telegram_id, "kind": MARK,
                          "payload": {"post_id": int(rated["post_id"]), "kind": str(rated["interaction_type"])}}])
    return True
