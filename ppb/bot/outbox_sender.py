"""Outbox messages as the chat shows them: a live push (one post, its media shown through a
link preview of the public post) or a digest (the top posts since the last one, each
linked and rateable), tagged `out:<id>` in the chat's registry the moment Telegram answers;
and a `mark`: a rating made in the Mini App shown on the chat's copies of that post."""

from __future__ import annotations

import time
from typing import Any, Protocol

from aiogram import Bot, html
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError, TelegramRetryAfter
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import ngettext

from ppb.bot.keyboards import menus
from ppb.bot.keyboards.callbacks import DigestRate
from ppb.bot.messages import MessageManager, Registry
from ppb.bot.posts import nudge_message, post_message, post_url, snippet
from ppb.core.ports import RetryLater, Undeliverable
from ppb.domain.languages import ui_language
from ppb.domain.messages import ManagedMessage, MessageType

DIGEST_SNIPPET = 180


def outbox_tag(outbox_id: int) -> str:
    return f"out:{outbox_id}"


def push_text(post: dict[str, Any]) -> str:
    return post_message(post, "🔔")


def preview(post: dict[str, Any]) -> LinkPreviewOptions:
    """The public post itself as the preview (Telegram shows its photo, video or album);
    no preview for a private channel, whose post nobody else can open."""
    url = post_url(post)
    if url is None:
        return LinkPreviewOptions(is_disabled=True)
    return LinkPreviewOptions(url=url, prefer_large_media=True)


def digest_text(posts: list[dict[str, Any]]) -> str:
    count = len(posts)
    lines = [ngettext("🗞 Your digest: {count} new post for you", "🗞 Your digest: {count} new posts for you",
                      count).format(count=count)]
    for number, post in enumerate(posts, start=1):
        title = html.quote(post.get("channel_title") or "")
        url = post_url(post)
        link = f' <a href="{html.quote(url)}">↗</a>' if url else ""
        lines.append(f"{number}. <b>{title}</b>{link}\n{snippet(post, DIGEST_SNIPPET)}")
    return "\n\n".join(lines)


def digest_keyboard(post_ids: list[int], chosen: dict[int, str] | None = None) -> InlineKeyboardMarkup:
    chosen = chosen or {}
    rows = []
    for number, post_id in enumerate(post_ids, start=1):
        def label(emoji: str, kind: str) -> str:
            return f"{number} {emoji}" + (" ✓" if chosen.get(post_id) == kind else "")

        rows.append([
            InlineKeyboardButton(text=label("👍", "like"), callback_data=DigestRate(post_id=post_id, kind="like").pack()),
            InlineKeyboardButton(text=label("👎", "dislike"), callback_data=DigestRate(post_id=post_id, kind="dislike").pack()),
            menus.why_button(post_id, number),
        ])
    return InlineKeyboardMarkup(inline_keyboard=rows)


class Ratings(Protocol):
    async def rating_of(self, telegram_id: int, post_id: int) -> dict[str, Any] | None: ...


class BotOutboxSender:
    """`Sender` over the bot (Telegram or the sandbox) and the chat registries; a mark shows
    the rating stored when it is sent (read from `ratings`, the store), so one that waited
    in the queue never shows a rating changed since."""

    def __init__(self, bot: Bot, registry: Registry, i18n: I18n, ratings: Ratings | None = None) -> None:
        self._bot = bot
        self._registry = registry
        self._i18n = i18n
        self._ratings = ratings

    async def send(self, message: dict[str, Any]) -> int:
        chat_id, payload = int(message["chat_id"]), message["payload"]
        if message["kind"] == "mark":
            kind = str(payload["kind"])
            if self._ratings is not None:
                stored = await self._ratings.rating_of(chat_id, int(payload["post_id"]))
                kind = str(stored["interaction_type"]) if stored is not None else ""
            return await self._mark(chat_id, int(payload["post_id"]), kind)
        with self._i18n.context(), self._i18n.use_locale(ui_language(message.get("language"))):
            if message["kind"] == "digest":
                posts = payload["posts"]
                text, markup = digest_text(posts), digest_keyboard([int(p["id"]) for p in posts])
                options = LinkPreviewOptions(is_disabled=True)
            else:
                post = payload["post"]
                text = nudge_message(post) if message["kind"] == "nudge" else push_text(post)
                markup, options = menus.feed_post(int(post["id"])), preview(post)
        try:
            sent = await self._bot.send_message(chat_id, text, reply_markup=markup, link_preview_options=options)
        except TelegramRetryAfter as error:
            raise RetryLater(float(error.retry_after)) from error
        except TelegramForbiddenError as error:
            raise Undeliverable(error.message) from error
        except TelegramBadRequest as error:
            if "chat not found" in error.message.lower():
                raise Undeliverable(error.message) from error
            raise
        post_id = None if message["kind"] == "digest" else int(payload["post"]["id"])
        await self._registry.register(ManagedMessage(chat_id, sent.message_id, MessageType.ONETIME,
                                                     outbox_tag(int(message["id"])), time.time(), post_id=post_id))
        return sent.message_id

    async def _mark(self, chat_id: int, post_id: int, kind: str) -> int:
        """Tick `kind` (none for "" or a skip) on the buttons of every message of the chat
        showing the post; the last one's id (0 when the chat holds none any more). Doing it
        again changes nothing."""
        messages = MessageManager(self._bot, self._registry)
        edited = 0
        for shown in await messages.showing(chat_id, post_id):
            try:
                if await messages.edit_markup(shown, menus.feed_post(post_id, kind or None)):
                    edited = shown.message_id
            except TelegramRetryAfter as error:
                raise RetryLater(float(error.retry_after)) from error
            except TelegramForbiddenError as error:
                raise Undeliverable(error.message) from error
        return edited

    async def find(self, chat_id: int, outbox_id: int) -> int | None:
        found = await self._registry.get_latest(chat_id, MessageType.ONETIME, outbox_tag(outbox_id))
        return found.message_id if found is not None else None
