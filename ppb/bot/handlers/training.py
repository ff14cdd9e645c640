"""Training: rate posts from the default channels and your own (👍 / 👎 / ⏩), see progress,
finish early after a few ratings or in the Mini App; then the model and the feed.

The training set and its progress live in the store (`/users/{id}/training`), the Mini App
reads the same: each card shown is the next unrated post there, so a card pressed after
rating elsewhere never rates twice, and finishing in either place finishes it here too.
"""

from __future__ import annotations

import logging
from typing import Any

from aiogram import F, Router, html
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from ppb.bot.keyboards import menus
from ppb.bot.keyboards.callbacks import Menu, TrainAction, TrainRate
from ppb.bot.messages import MessageManager
from ppb.bot.posts import post_body
from ppb.core.ppb import Ppb
from ppb.domain.status import UserStatus

log = logging.getLogger("ppb.bot.training")
router = Router(name="training")

TEXT_LIMIT = 3000
"""Characters of a post's text on a card (Telegram allows 4096 in a message)."""


async def begin_training(chat_id: int, api: Ppb, messages: MessageManager,
                         webapp_url: str | None, channels: list[str] | None = None, *,
                         append: bool = False) -> None:
    """Start (or restart) training on `channels` (default: the default ones and the person's);
    with `append`, a training going on gets these channels' posts too."""
    await messages.transition_to_system(chat_id, _("⏳ Collecting posts for your training…"))
    state = await api.start_training(chat_id, None if channels is None else [f"@{n}" for n in channels],
                                     append=append, refresh=True)
    if not state["posts"]:  # every recent post of these channels is rated already
        await finish(chat_id, api, messages, note=_(
            "There are no new posts to rate in your channels right now, so I learned again from the "
            "ratings you made. Add a channel for fresh ones."))
        return
    await show_card(chat_id, api, messages, webapp_url, state=state)


async def show_card(chat_id: int, api: Ppb, messages: MessageManager, webapp_url: str | None, *,
                    state: dict[str, Any] | None = None, at_bottom: bool = False, note: str | None = None) -> None:
    """The next post to rate, from the one training state; the completion when none is left."""
    state = state if state is not None else await api.training_state(chat_id)
    if state["status"] != UserStatus.TRAINING:
        await show_done(chat_id, messages, state, at_bottom=at_bottom, note=note)
        return
    if not state["posts"]:
        await finish(chat_id, api, messages)
        return
    post = state["posts"][0]
    channel = post.get("channel_title") or post.get("channel_username") or ""
    head = _("📊 Post {number} of {total} · {channel}").format(
        number=state["done"] + 1, total=state["total"], channel=html.quote(channel))
    if state.get("skipped"):  # why the total is smaller than the set was
        head += "\n" + skipped_text(state["skipped"], state.get("settled") or [])
    text = f"{head}\n\n{post_body(post, TEXT_LIMIT)}"
    if note:
        text = f"<i>{note}</i>\n\n{text}"
    markup = menus.training_card(post["id"], state["can_finish"], webapp_url)
    await messages.send_system(chat_id, text, markup, at_bottom=at_bottom)


def skipped_text(count: int, channels: list[str]) -> str:
    return ngettext("⏭ {count} post of {channels} left out: your verdict there is clear.",
                    "⏭ {count} posts of {channels} left out: your verdict there is clear.", count).format(
        count=count, channels=html.quote(", ".join(channels)))


async def show_done(chat_id: int, messages: MessageManager, state: dict[str, Any], *,
                    at_bottom: bool = False, note: str | None = None) -> None:
    count = state.get("ratings_count") or 0
    text = ngettext("✅ Training complete! I learned from {count} rating.",
                    "✅ Training complete! I learned from {count} ratings.", count).format(count=count)
    if note:
        text = f"<i>{note}</i>\n\n{text}"
    await messages.transition_to_system(chat_id, text, menus.trained(), at_bottom=at_bottom)


async def finish(chat_id: int, api: Ppb, messages: MessageManager, note: str | None = None) -> None:
    """Train the model on every rating so far and offer the feed (`note` above the news)."""
    await messages.transition_to_system(chat_id, _("⏳ Training your model…"))
    result = await api.finish_training(chat_id)
    if not result.get("success"):
        await messages.send_system(
            chat_id, _("🤷 There are no posts to rate right now, and I need at least one rating. "
                       "Try again later or add a channel."), menus.home())
        return
    await show_done(chat_id, messages, result, note=note)


@router.callback_query(Menu.filter(F.action == "train"))
async def start_training(query: CallbackQuery, api: Ppb, messages: MessageManager,
                         webapp_url: str | None) -> None:
    await query.answer()
    state = await api.training_state(query.from_user.id)
    if state["status"] == UserStatus.TRAINING and state["posts"]:
        await show_card(query.from_user.id, api, messages, webapp_url, state=state)
        return
    await begin_training(query.from_user.id, api, messages, webapp_url)


@router.callback_query(Menu.filter(F.action == "retrain"))
async def confirm_retrain(query: CallbackQuery, messages: MessageManager) -> None:
    """Retraining starts only once confirmed; the feed stays readable meanwhile."""
    await query.answer()
    await messages.transition_to_system(query.from_user.id, _(
        "🔁 Retrain?\n\nYou'll rate a fresh set of posts, and I'll learn again from all your ratings. "
        "Your feed stays readable until you finish."), menus.confirm_retrain())


@router.callback_query(Menu.filter(F.action.in_({"retrain_yes", "restart"})))
async def retrain(query: CallbackQuery, api: Ppb, messages: MessageManager,
                  webapp_url: str | None) -> None:
    await query.answer()
    await begin_training(query.from_user.id, api, messages, webapp_url)


@router.callback_query(TrainAction.filter(F.action == "resume"))
async def resume(query: CallbackQuery, api: Ppb, messages: MessageManager,
                 webapp_url: str | None) -> None:
    await query.answer()
    state = await api.training_state(query.from_user.id)
    if state["status"] in {UserStatus.NEW, UserStatus.ONBOARDING} or (state["status"] == UserStatus.TRAINING and not state["total"]):
        await begin_training(query.from_user.id, api, messages, webapp_url)
        return
    await show_card(query.from_user.id, api, messages, webapp_url, state=state)


@router.callback_query(TrainRate.filter())
async def rate(query: CallbackQuery, callback_data: TrainRate, api: Ppb, messages: MessageManager,
               webapp_url: str | None) -> None:
    """Rate the card's post, unless it was rated meanwhile (in the Mini App, or a double tap):
    then nothing changes, the person is told so and gets the card that is next now."""
    chat_id = query.from_user.id
    state = await api.training_state(chat_id, limit=100)
    if state["status"] != UserStatus.TRAINING:
        await query.answer(_("Your training is already complete; nothing changed."))
        await show_done(chat_id, messages, state)
        return
    if callback_data.post_id not in {post["id"] for post in state["posts"]}:
        await query.answer(_("You rated this post already; nothing changed."))
        await show_card(chat_id, api, messages, webapp_url,
                        note=_("That post was rated already (maybe in the Mini App). Here is the next one."))
        return
    rated = await api.rate(chat_id, callback_data.post_id, callback_data.kind)
    await query.answer()
    await show_card(chat_id, api, messages, webapp_url, state=rated.get("training"))  # read with the rating


@router.callback_query(TrainAction.filter(F.action == "finish"))
async def finish_early(query: CallbackQuery, api: Ppb, messages: MessageManager) -> None:
    await query.answer()
    await finish(query.from_user.id, api, messages)
