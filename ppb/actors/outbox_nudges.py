"""Nudges through the outbox: the nudger chooses whom to nudge with which post, the outbox
sends it at Telegram's pace with every other message.

A nudge is "sent" once it is queued (`nudges.message_id` then holds its outbox row); the
outbox's own claim-before-send keeps it from being lost or repeated from there. Queuing is
keyed by `nudge:<post id>`, so a nudger that stopped between queuing and marking the nudge
finds it queued on its next pass instead of queuing it again.
"""

from __future__ import annotations

from typing import Any

from ppb import metrics
from ppb.core.delivery import snapshot


def nudge_ref(post_id: int) -> str:
    return f"nudge:{post_id}"


class OutboxNudgeSender:
    """`NudgeSender` that queues the nudge in the outbox."""

    def __init__(self, store: Any) -> None:
        self._store = store

    async def send_nudge(self, telegram_id: int, language: str | None, post: dict) -> int:
        user_id = await self._store.user_id(telegram_id)
        outbox_id, queued = await self._store.enqueue_once({
            "user_id": user_id, "chat_id": telegram_id, "kind": "nudge", "ref": nudge_ref(int(post["id"])),
            "payload": {"post": snapshot(post)}})
        if queued:
            metrics.record("ppb_outbox_messages_total", kind="nudge", outcome="queued")
        return outbox_id

    async def find_nudge(self, telegram_id: int, post_id: int) -> int | None:
        user = await self._store.find_user(telegram_id)
        return None if user is None else await self._store.find_queued(int(user["id"]), nudge_ref(post_id))
