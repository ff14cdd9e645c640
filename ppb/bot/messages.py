"""The MessageManager of DESIGN section 6: one menu edited in place, prompts that vanish,
content that stays. Message ids live in a registry with the ChatShard API (in process, or
the `chats-<k>` actors through `ChatShards`).
"""

from __future__ import annotations

import asyncio
import copy
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Protocol

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import InlineKeyboardMarkup

from ppb.domain.messages import ManagedMessage, MessageType

log = logging.getLogger("ppb.bot.messages")

DELETE_WINDOW_S = 48 * 3600 - 60
"""Telegram deletes only messages younger than 48 hours (a minute kept for clock skew)."""
MENU = "menu"
GONE = "⋯"
"""What an old prompt that can no longer be deleted is edited down to."""


class Registry(Protocol):
    async def register(self, message: ManagedMessage) -> None: ...
    async def register_many(self, messages: Sequence[ManagedMessage]) -> list[bool]: ...
    async def get_messages(self, chat_id: int, type: MessageType | None = None,
                           tag: str | None = None) -> list[ManagedMessage]: ...
    async def get_latest(self, chat_id: int, type: MessageType | None = None,
                         tag: str | None = None) -> ManagedMessage | None: ...
    async def remove(self, chat_id: int, message_id: int) -> bool: ...
    async def clear_type(self, chat_id: int, type: MessageType, request_id: str | None = None) -> list[int]: ...
    async def forget(self, chat_id: int) -> None: ...


def _quiet(error: TelegramBadRequest, *fragments: str) -> bool:
    text = error.message.lower()
    return any(fragment in text for fragment in fragments)


class MessageManager:
    def __init__(self, bot: Bot, registry: Registry, clock: Callable[[], float] = time.time) -> None:
        self.bot = bot
        self.registry = registry
        self.clock = clock
        self._timers: set[asyncio.Task[None]] = set()
        self._renewed: set[str] | None = None
        """Answering what the person typed: the tags already sent anew at the bottom (else None)."""

    def answering_typed(self) -> MessageManager:
        """This manager for one thing the person typed: the person looks at the bottom of the
        chat, so the first system message of each tag shown goes there as a new message (the
        old one deleted) instead of being edited far above; later ones edit that new message.
        Button presses keep editing in place (the message is where the person tapped)."""
        typed = copy.copy(self)  # the same bot, registry and timers
        typed._renewed = set()
        return typed

    async def send_system(self, chat_id: int, text: str, reply_markup: InlineKeyboardMarkup | None = None,
                          tag: str = MENU, *, at_bottom: bool = False) -> int:
        """Show the chat's one message of this tag: edited in place when possible, sent anew
        (and the old one removed) when it is gone, too old, or `at_bottom` and not the last."""
        return await self._show(chat_id, text, reply_markup, tag, at_bottom, await self.registry.get_messages(chat_id))

    async def _show(self, chat_id: int, text: str, reply_markup: InlineKeyboardMarkup | None, tag: str,
                    at_bottom: bool, known: Sequence[ManagedMessage]) -> int:
        """`send_system` over the chat's registry as read once (`known`, oldest first): its
        system message to edit, and whether anything came after it."""
        current = next((m for m in reversed(known) if m.matches(MessageType.SYSTEM, tag)), None)
        buried = current is not None and bool(known) and known[-1].message_id > current.message_id
        renew = self._renewed is not None and tag not in self._renewed
        if self._renewed is not None:
            self._renewed.add(tag)
        if current is not None and not renew and not (at_bottom and buried):
            try:
                await self.bot.edit_message_text(text=text, chat_id=chat_id, message_id=current.message_id,
                                                 reply_markup=reply_markup)
                return current.message_id
            except TelegramBadRequest as error:
                if _quiet(error, "message is not modified"):
                    return current.message_id
                if not _quiet(error, "message to edit not found", "message can't be edited"):
                    raise
        sent = await self.bot.send_message(chat_id, text, reply_markup=reply_markup)
        await self.registry.register(ManagedMessage(chat_id, sent.message_id, MessageType.SYSTEM, tag, self.clock()))
        for old in await self.registry.get_messages(chat_id, MessageType.SYSTEM, tag):
            if old.message_id != sent.message_id:
                await self._forget(old)
        return sent.message_id

    async def send_ephemeral(self, chat_id: int, text: str, reply_markup: InlineKeyboardMarkup | None = None,
                             auto_delete_after: float | None = None) -> int:
        """A prompt or confirmation, gone at the next interaction or after `auto_delete_after` s."""
        now = self.clock()
        sent = await self.bot.send_message(chat_id, text, reply_markup=reply_markup)
        until = now + auto_delete_after if auto_delete_after else None
        message = ManagedMessage(chat_id, sent.message_id, MessageType.EPHEMERAL, None, now, until)
        await self.registry.register(message)
        if auto_delete_after:
            timer = asyncio.ensure_future(self._delete_later(message, auto_delete_after))
            self._timers.add(timer)
            timer.add_done_callback(self._timers.discard)
        return sent.message_id

    async def send_onetime(self, chat_id: int, text: str, reply_markup: InlineKeyboardMarkup | None = None,
                           *, post_id: int | None = None, tag: str | None = None) -> int:
        """Content that stays (feed posts, with the `post_id` they show): tracked (under `tag`,
        to find it again), never deleted by the bot."""
        sent = await self.bot.send_message(chat_id, text, reply_markup=reply_markup)
        await self.registry.register(ManagedMessage(chat_id, sent.message_id, MessageType.ONETIME, tag, self.clock(),
                                                    post_id=post_id))
        return sent.message_id

    async def edit_markup(self, message: ManagedMessage, reply_markup: InlineKeyboardMarkup) -> bool:
        """New buttons on a message the chat keeps (a feed post showing a rating made elsewhere);
        False when it is gone (then it is forgotten). An edit that changes nothing is no error."""
        try:
            await self.bot.edit_message_reply_markup(chat_id=message.chat_id, message_id=message.message_id,
                                                     reply_markup=reply_markup)
        except TelegramBadRequest as error:
            if _quiet(error, "message is not modified"):
                return True
            if not _quiet(error, "message to edit not found", "message can't be edited"):
                raise
            await self.registry.remove(message.chat_id, message.message_id)
            return False
        return True

    async def showing(self, chat_id: int, post_id: int) -> list[ManagedMessage]:
        """The chat's messages that show this post (a feed post, a push, a nudge)."""
        return [m for m in await self.registry.get_messages(chat_id, MessageType.ONETIME) if m.post_id == post_id]

    async def transition_to_system(self, chat_id: int, text: str, reply_markup: InlineKeyboardMarkup | None = None,
                                   tag: str = MENU, *, at_bottom: bool = False) -> int:
        """Clear the prompts, then update (or send) the system message: the chat's registry
        read once for both (a call to its `chats-<k>` shard under Ray)."""
        known = await self.registry.get_messages(chat_id)
        await self._clear(chat_id, [m for m in known if m.type == MessageType.EPHEMERAL])  # all of them go
        return await self._show(chat_id, text, reply_markup, tag, at_bottom,
                                [m for m in known if m.type != MessageType.EPHEMERAL])

    async def clear_ephemeral(self, chat_id: int) -> None:
        await self._clear(chat_id, await self.registry.get_messages(chat_id, MessageType.EPHEMERAL))

    async def _clear(self, chat_id: int, ephemeral: Sequence[ManagedMessage]) -> None:
        """Forget and delete the chat's prompts (as read in `ephemeral`)."""
        if not ephemeral:
            return
        cleared = set(await self.registry.clear_type(chat_id, MessageType.EPHEMERAL, uuid.uuid4().hex))
        await self._delete([m for m in ephemeral if m.message_id in cleared])

    async def drop_system(self, chat_id: int, tag: str = MENU) -> None:
        for message in await self.registry.get_messages(chat_id, MessageType.SYSTEM, tag):
            await self._forget(message)

    async def delete_incoming(self, chat_id: int, *message_ids: int) -> None:
        """Remove what the person typed once it is handled, so the chat stays a menu and content."""
        now = self.clock()
        await self._delete([ManagedMessage(chat_id, message_id, MessageType.EPHEMERAL, None, now)
                            for message_id in message_ids])

    def delete_later(self, chat_id: int, message_ids: list[int], delay: float) -> None:
        """Remove these messages (what a flood left: the messages ignored, the notice) in
        `delay` seconds, in one call; `message_ids` is read then, so the caller may still add
        to it meanwhile."""
        async def sweep() -> None:
            await asyncio.sleep(delay)
            try:
                for start in range(0, len(message_ids), 100):  # deleteMessages takes up to 100
                    await self.delete_incoming(chat_id, *message_ids[start:start + 100])
            except Exception as error:  # tidying is a courtesy: Telegram away, the messages stay
                log.info("could not remove ignored messages in %s: %s", chat_id, type(error).__name__)

        timer = asyncio.ensure_future(sweep())
        self._timers.add(timer)
        timer.add_done_callback(self._timers.discard)

    async def close(self) -> None:
        for timer in list(self._timers):
            timer.cancel()
        closing = getattr(self.registry, "close", None)  # a cache's watchers (`CachedChatShards`)
        if closing is not None:
            await closing()

    async def _delete_later(self, message: ManagedMessage, delay: float) -> None:
        await asyncio.sleep(delay)
        if await self.registry.remove(message.chat_id, message.message_id):
            await self._delete([message])

    async def _forget(self, message: ManagedMessage) -> None:
        await self.registry.remove(message.chat_id, message.message_id)
        await self._delete([message])

    async def _delete(self, messages: Sequence[ManagedMessage]) -> None:
        """Delete quietly: what is too old for Telegram to delete is blanked instead."""
        if not messages:
            return
        chat_id = messages[0].chat_id
        cutoff = self.clock() - DELETE_WINDOW_S
        young = [m.message_id for m in messages if not m.sent_at or m.sent_at > cutoff]
        old = [m.message_id for m in messages if m.sent_at and m.sent_at <= cutoff]
        try:
            if len(young) == 1:
                await self.bot.delete_message(chat_id, young[0])
            elif young:
                await self.bot.delete_messages(chat_id, young)
        except TelegramBadRequest as error:
            if not _quiet(error, "message to delete not found", "can't be deleted"):
                raise
            old += young if _quiet(error, "can't be deleted") else []
        for message_id in old:
            await self._blank(chat_id, message_id)

    async def _blank(self, chat_id: int, message_id: int) -> None:
        try:
            await self.bot.edit_message_text(text=GONE, chat_id=chat_id, message_id=message_id, reply_markup=None)
        except TelegramBadRequest as error:
            log.debug("could not blank message %s in %s: %s", message_id, chat_id, error.message)
