"""A person's data rights: everything PPB keeps about them as one document, and erasure.

The export holds their profile, delivery rules, channels, ratings (with each rated post's
channel and text, so the file makes sense on its own) and the explanations they asked for
(which post, the reason named first, where). Erasure removes the person
from every table (`ppb.store.admin.erase_user`); the adapters also clear what they keep
in Redis (the chat's registry, the bot's FSM).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ppb.core import rules as core_rules
from ppb.store.admin import Admin, erase_user
from ppb.store.queries import Store

EXPORT_FORMAT = "ppb-export/1"


def _when(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


async def export(store: Store, telegram_id: int, now: datetime) -> dict[str, Any]:
    user = await store.get_user(telegram_id)
    user_id = int(user["id"])
    channels = await store.list_user_channels(user_id)
    ratings = await Admin(store).ratings(user_id, limit=1_000_000)
    return {
        "format": EXPORT_FORMAT,
        "exported_at": now.isoformat(),
        "user": {key: _when(user.get(key)) for key in (
            "telegram_id", "username", "first_name", "last_name", "language", "status", "is_trained",
            "created_at", "last_activity_at")},
        "settings": await _settings(store, user_id),
        "channels": [{"username": row.get("username"), "title": row.get("title"),
                      "telegram_id": row.get("telegram_id"), "is_for_training": bool(row.get("is_for_training")),
                      "is_bonus": bool(row.get("is_bonus"))} for row in channels],
        "ratings": [{"post_id": row["post_id"], "interaction_type": row["interaction_type"],
                     "created_at": _when(row["created_at"]), "channel_title": row.get("channel_title"),
                     "text": row.get("text")} for row in reversed(ratings)],
        "explanations": [{"post_id": row["post_id"], "lead": row["lead"], "surface": row["surface"],
                          "created_at": _when(row["created_at"])} for row in await store.explanations_of(user_id)],
    }


async def _settings(store: Store, user_id: int) -> dict[str, Any]:
    """The person's rules, their channel dials by channel (the store's ids mean nothing outside it)."""
    rules = await core_rules.read(store, user_id)
    dialled = await store.channels_by_ids(sorted(rules.channel_dials)) if rules.channel_dials else []
    return {**core_rules.to_row(rules), "channel_dials": [
        {"username": row.get("username"), "title": row.get("title"), "telegram_id": row.get("telegram_id"),
         "dial": rules.channel_dials[int(row["id"])].value} for row in dialled]}


async def erase(store: Store, telegram_id: int) -> dict[str, int]:
    """Erase the person from every table; returns the rows removed per table."""
    user = await store.get_user(telegram_id)
    return await erase_user(store, int(user["id"]))
