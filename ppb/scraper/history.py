"""A read of a channel's history through Telethon's `iter_messages`, in its pages of 100,
that carries on from the page it was refused after a FloodWait."""

from __future__ import annotations

from typing import Any

from ppb.scraper.messages import PostAssembler, ReadPost


class HistoryRead:
    """Up to `limit` whole posts (albums never cut in two), newest first unless `reverse`.

    Telethon's message iterator keeps its offset until a page has been read, so a page that
    failed (a FloodWait) is asked for again by the next `posts()` call, and the pages already
    read are neither asked for nor assembled again. `chat` is the channel as the last page
    showed it (its username and title now), or None before any message was read.
    """

    def __init__(
        self, client: Any, entity: Any, limit: int, *, min_id: int = 0, max_id: int = 0, reverse: bool = False
    ) -> None:
        # wait_time=0: Telethon would otherwise pause a second between pages of an unbounded
        # read; FloodWaits are the scraper queue's to wait out.
        iterator = client.iter_messages(entity, None, min_id=min_id, max_id=max_id, reverse=reverse, wait_time=0)
        self._messages = iterator.__aiter__()  # once: a second __aiter__ would start over
        self._limit = limit
        self._assembler = PostAssembler()
        self._posts: list[ReadPost] | None = None
        self.chat: Any = None

    async def posts(self) -> list[ReadPost]:
        while self._posts is None:
            try:
                message = await self._messages.__anext__()
            except StopAsyncIteration:
                self._posts = self._assembler.posts(limit=self._limit)
                break
            self.chat = getattr(message, "chat", None) or self.chat
            self._assembler.add(message)
            if self._assembler.started > self._limit:
                self._posts = self._assembler.posts(complete_only=True, limit=self._limit)
        return self._posts
