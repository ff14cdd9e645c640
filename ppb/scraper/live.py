"""Updates of joined channels as Telethon's event builders hand them over: a new post stored at
once, an edit or a deletion applied to the stored post, a changed channel checked."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ppb import metrics
from ppb.domain.channels import ChannelName
from ppb.scraper.messages import read_post
from ppb.scraper.sync import marked_channel_id, save_channel
from ppb.store.queries import Store, utcnow

log = logging.getLogger("ppb.scraper")


class LiveUpdates:
    """The scraper's event handlers; what needs a request is queued as a job of the scraper's."""

    def __init__(
        self,
        store: Store,
        name: str,
        watched: Callable[[int], Any | None],
        queue_refresh: Callable[[int, Any], None],
        queue_channel_check: Callable[[int], None],
        queue_album_check: Callable[[int, int], None],
    ) -> None:
        self._store = store
        self._name = name
        self._watched = watched
        self._queue_refresh = queue_refresh
        self._queue_channel_check = queue_channel_check
        self._queue_album_check = queue_album_check

    async def on_new_message(self, event: Any) -> None:
        """A post in a watched channel: stored at once, or (an album's part) by a refresh."""
        entity = self._watched(event.chat_id)
        if entity is None:
            return
        message = event.message
        if getattr(message, "grouped_id", None):
            self._queue_refresh(event.chat_id, entity)  # the album's other parts follow
            return
        read = read_post([message])
        if read is None:
            return
        try:
            row = await save_channel(self._store, event.chat_id, entity.username, entity.title)
            await self._store.add_posts(row["id"], [read.post])
        except Exception as error:  # the periodic refresh picks the post up later
            log.warning("scraper %s: could not store a new post (%s)", self._name, type(error).__name__)

    async def on_edited(self, event: Any) -> None:
        """An edited post: its text, formatting and media follow (the post is not new, so
        nobody is sent it again)."""
        entity = self._watched(event.chat_id)
        if entity is None:
            return
        message = event.message
        if getattr(message, "grouped_id", None):
            self._queue_album_check(event.chat_id, message.id)
            return
        read = read_post([message])
        if read is None:
            return
        try:
            row = await self._store.get_channel(ChannelName(telegram_id=event.chat_id))
            changed = await self._store.edit_posts(row["id"], [(read.post, read.edited_at or utcnow())])
        except Exception as error:  # a later read of the post applies the edit
            log.warning("scraper %s: could not store an edit (%s)", self._name, type(error).__name__)
            return
        if changed:
            metrics.record("ppb_scraper_post_changes_total", float(len(changed)), kind="edited")

    async def on_deleted(self, event: Any) -> None:
        """Posts deleted in a channel: marked deleted (they leave feeds, training and digests;
        ratings of them stay)."""
        if event.chat_id is None:
            return  # deleted in a private chat or a small group: not a channel's post
        try:
            found = await self._store.find_channels([ChannelName(telegram_id=event.chat_id)])
            if not found:
                return
            gone = await self._store.delete_posts(found[0]["id"], list(event.deleted_ids))
        except Exception as error:
            log.warning("scraper %s: could not mark deleted posts (%s)", self._name, type(error).__name__)
            return
        if gone:
            metrics.record("ppb_scraper_post_changes_total", float(len(gone)), kind="deleted")

    async def on_channel_changed(self, update: Any) -> None:
        """Telegram says a channel changed (username, title, made private, deleted)."""
        self._queue_channel_check(marked_channel_id(update.channel_id))
