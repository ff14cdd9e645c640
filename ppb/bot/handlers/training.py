"""Training: rate posts from the default channels and your own (👍 / 👎 / ⏩), see progress,
finish early after a minimum or in the Mini App; then `ml/train` and the feed."""

from __future__ import annotations

import logging
from typing import Any

from aiogram import F, Router, html
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _

from ppb.bot.api import ApiClient, ApiError
from ppb.bot.keyboards import menus
from ppb.bot.keyboards.callbacks import Menu, TrainAction, TrainRate
from ppb.bot.messages import MessageManager
from ppb.config import Settings

log = logging.getLogger("ppb.bot.training")
router = Router(name="training")

MIN_RATINGS = 5
"""Ratings after which a person may finish early (or all the posts, when there are fewer)."""
TEXT_LIMIT = 3000


class Training(StatesGroup):
    rating = State()


async def training_channels(api: ApiClient, settings: Settings, telegram_id: int) -> list[str]:
    """The default channels plus the person's own, each once."""
    names = [name.lstrip("@").lower() for name in settings.effective_default_channels]
    for channel in await api.channels(telegram_id):
        if channel.get("username") and channel.get("is_for_training"):
            names.append(channel["username"].lower())
    return list(dict.fromkeys(names))


async def fetch_posts(api: ApiClient, telegram_id: int, channels: list[str], per_channel: int) -> list[dict[str, Any]]:
    """Training posts; a channel the store does not know is left out instead of failing all."""
    try:
        return await api.training_posts(telegram_id, channels, per_channel)
    except ApiError as error:
        if error.status != 404 or len(channels) == 1:
            if error.status == 404:
                return []
            raise
    posts: list[dict[str, Any]] = []
    for channel in channels:
        posts += await fetch_posts(api, telegram_id, [channel], per_channel)
    return posts


async def enter_training(api: ApiClient, telegram_id: int) -> None:
    """Move the person to `training`, first out of `new` or `churned` when they are there."""
    try:
        await api.event(telegram_id, "start_training")
    except ApiError as error:
        if error.status != 409:
            raise
        user = await api.get_user(telegram_id)
        await api.event(telegram_id, "start" if user["status"] == "new" else "activity")
        await api.event(telegram_id, "start_training")


async def begin_training(chat_id: int, api: ApiClient, messages: MessageManager, state: FSMContext,
                         settings: Settings, webapp_url: str | None, channels: list[str] | None = None) -> None:
    """Start (or restart) training on `channels` (default: the default ones and the person's)."""
    await messages.transition_to_system(chat_id, _("⏳ Collecting posts for your training…"))
    await enter_training(api, chat_id)
    names = channels if channels is not None else await training_channels(api, settings, chat_id)
    await api.refresh([f"@{name}" for name in names], settings.posts_per_channel)
    posts = await fetch_posts(api, chat_id, [f"@{name}" for name in names], settings.posts_per_channel)
    if not posts:
        await finish(chat_id, api, messages, state)
        return
    cards = [
        {"id": post["id"], "channel": post.get("channel_title") or post.get("channel_username") or "",
         "text": (post.get("text") or "")[:TEXT_LIMIT]}
        for post in posts
    ]
    await state.set_state(Training.rating)
    await state.set_data({"posts": cards, "index": 0})
    await show_card(chat_id, state, messages, webapp_url)


async def show_card(chat_id: int, state: FSMContext, messages: MessageManager, webapp_url: str | None,
                    *, at_bottom: bool = False) -> None:
    data = await state.get_data()
    posts, index = data["posts"], data["index"]
    post = posts[index]
    text = _("📊 Post {number} of {total} · {channel}").format(
        number=index + 1, total=len(posts), channel=html.quote(post["channel"])
    )
    body = html.quote(post["text"]) if post["text"].strip() else _("(a post without text)")
    can_finish = index >= min(MIN_RATINGS, len(posts))
    await messages.send_system(chat_id, f"{text}\n\n{body}",
                               menus.training_card(post["id"], can_finish, webapp_url), at_bottom=at_bottom)


async def finish(chat_id: int, api: ApiClient, messages: MessageManager, state: FSMContext) -> None:
    """Train the model on every rating so far and offer the feed."""
    await messages.transition_to_system(chat_id, _("⏳ Training your model…"))
    result = await api.train(chat_id)
    if not result.get("success"):
        await state.clear()
        await messages.send_system(
            chat_id, _("🤷 There are no posts to rate right now, and I need at least one rating. "
                       "Try again later or add a channel."), menus.home())
        return
    await state.clear()
    count = result.get("ratings_count") or 0
    await messages.send_system(
        chat_id, _("✅ Training complete! I learned from {count} ratings.").format(count=count), menus.trained())


@router.callback_query(Menu.filter(F.action.in_({"train", "retrain"})))
async def start_training(query: CallbackQuery, api: ApiClient, messages: MessageManager, state: FSMContext,
                         settings: Settings, webapp_url: str | None) -> None:
    await query.answer()
    await begin_training(query.from_user.id, api, messages, state, settings, webapp_url)


@router.callback_query(TrainAction.filter(F.action == "resume"))
async def resume(query: CallbackQuery, api: ApiClient, messages: MessageManager, state: FSMContext,
                 settings: Settings, webapp_url: str | None) -> None:
    await query.answer()
    if await state.get_state() == Training.rating.state:
        await show_card(query.from_user.id, state, messages, webapp_url)
        return
    await begin_training(query.from_user.id, api, messages, state, settings, webapp_url)


@router.callback_query(Training.rating, TrainRate.filter())
async def rate(query: CallbackQuery, callback_data: TrainRate, api: ApiClient, messages: MessageManager,
               state: FSMContext, webapp_url: str | None) -> None:
    data = await state.get_data()
    posts, index = data["posts"], data["index"]
    if index >= len(posts) or posts[index]["id"] != callback_data.post_id:
        await query.answer(_("Already rated"))
        return
    await api.rate(query.from_user.id, callback_data.post_id, callback_data.kind)
    await query.answer()
    index += 1
    await state.update_data(index=index)
    if index >= len(posts):
        await finish(query.from_user.id, api, messages, state)
        return
    await show_card(query.from_user.id, state, messages, webapp_url)


@router.callback_query(TrainAction.filter(F.action == "finish"))
async def finish_early(query: CallbackQuery, api: ApiClient, messages: MessageManager, state: FSMContext) -> None:
    await query.answer()
    await finish(query.from_user.id, api, messages, state)


@router.callback_query(TrainRate.filter())
async def stale_rating(query: CallbackQuery) -> None:
    """A rating button of a training that is over."""
    await query.answer(_("This training is over"))
