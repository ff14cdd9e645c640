"""The feed: the best posts for the person as messages that stay, rated in place, with more
on request. Opening it moves a trained person to `active`; during a retraining the feed
stays readable. A post already in the chat is never sent again, and when the good posts
run out the chat says so, once, before the posts of channels the person turned down."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from ppb.bot.keyboards import menus
from ppb.bot.keyboards.callbacks import FeedRate, Menu
from ppb.bot.messages import MessageManager
from ppb.bot.posts import post_message
from ppb.core.ppb import Ppb
from ppb.core.ratings import UNRATED
from ppb.domain.errors import Conflict, DomainError
from ppb.domain.interactions import InteractionType
from ppb.domain.messages import MessageType
from ppb.domain.status import UserEvent, UserStatus

router = Router(name="feed")

PAGE = 5
OTHERS_NOTE = "feed:others"
"""The note before the first post of a channel the person turned down: said once in a chat."""


async def may_read(chat_id: int, api: Ppb, messages: MessageManager, webapp_url: str | None) -> bool:
    """Whether the person has a feed to read now; otherwise says what to do first."""
    user = await api.get_user(chat_id)
    if user["status"] == UserStatus.TRAINING and user["is_trained"]:
        return True  # retraining: the old feed stays readable until the new training finishes
    if user["status"] in {UserStatus.TRAINING, UserStatus.NEW, UserStatus.ONBOARDING}:
        training = await api.training_state(chat_id) if user["status"] == UserStatus.TRAINING else {}
        await messages.transition_to_system(
            chat_id, _("📚 Finish your training first, then your feed is ready."),
            menus.resume_training(webapp_url, bool(training.get("can_finish"))), at_bottom=True)
        return False
    try:
        await api.event(chat_id, UserEvent.VIEW_FEED)
    except DomainError as error:
        if not isinstance(error, Conflict):  # already reading the feed
            raise
    return True


async def show_feed(chat_id: int, api: Ppb, messages: MessageManager, webapp_url: str | None = None) -> None:
    if not await may_read(chat_id, api, messages, webapp_url):
        return
    await messages.clear_ephemeral(chat_id)
    page = await api.feed_page(chat_id, PAGE)
    posts, others = page["posts"], page["others"]
    told = bool(others) and await messages.registry.get_latest(chat_id, MessageType.ONETIME, OTHERS_NOTE) is not None
    telling = False  # the note before the first post of a turned-down channel, once in the chat
    for post in posts:
        if post["from_disliked_channel"] and not told:
            await messages.send_onetime(chat_id, _(
                "That's all for now from the channels you like: here are a few from other channels."), tag=OTHERS_NOTE)
            told = telling = True
        await messages.send_onetime(chat_id, post_message(post), menus.feed_post(post["id"]), post_id=post["id"])
    if posts and others == len(posts) and telling:
        await messages.send_system(chat_id, _(
            "Those were from channels you rated down. Rate them, add a channel, or come back later."),
            menus.feed_more(), at_bottom=True)
    elif posts:
        text = ngettext("That's {count} post for you. Your ratings make your feed better.",
                        "That's {count} posts for you. Your ratings make your feed better.", len(posts))
        await messages.send_system(chat_id, text.format(count=len(posts)), menus.feed_more(), at_bottom=True)
    else:
        await messages.send_system(chat_id, _("🎉 You've seen everything for now. Add a channel or come back later."),
                                   menus.main_menu(webapp_url), at_bottom=True)


@router.callback_query(Menu.filter(F.action.in_({"feed", "more"})))
async def feed(query: CallbackQuery, api: Ppb, messages: MessageManager, webapp_url: str | None) -> None:
    await query.answer()
    await show_feed(query.from_user.id, api, messages, webapp_url)


@router.message(Command("feed"))
async def feed_command(message: Message, api: Ppb, messages: MessageManager, webapp_url: str | None) -> None:
    await messages.delete_incoming(message.chat.id, message.message_id)
    await show_feed(message.chat.id, api, messages, webapp_url)


MARKS = {InteractionType.LIKE: "👍", InteractionType.DISLIKE: "👎"}


def shown_rating(markup: object) -> str | None:
    """The rating a feed post's buttons show the person (the one ticked), if any."""
    for row in getattr(markup, "inline_keyboard", None) or []:
        for button in row:
            if button.callback_data and button.text.endswith("✓"):
                return FeedRate.unpack(button.callback_data).kind
    return None


def kept_text(kind: str) -> str:
    return _("You rated this post {rating} already, maybe in the Mini App; nothing changed. "
             "Tap again to change it.").format(rating=MARKS.get(kind, kind))


@router.callback_query(FeedRate.filter())
async def rate(query: CallbackQuery, callback_data: FeedRate, api: Ppb) -> None:
    """Rate in place; a rating made elsewhere meanwhile (the buttons did not show it) is kept,
    the person is told so and the buttons show it: a second tap changes it knowingly."""
    shown = shown_rating(getattr(query.message, "reply_markup", None))
    rated = await api.rate(query.from_user.id, callback_data.post_id, callback_data.kind, if_rated=shown or UNRATED)
    stored = rated["interaction_type"]
    if rated.get("kept"):
        await query.answer(kept_text(stored))
    else:
        await query.answer(_("👍 Noted") if callback_data.kind == InteractionType.LIKE else _("👎 Noted"))
    if query.message is not None:
        try:
            await query.message.edit_reply_markup(reply_markup=menus.feed_post(callback_data.post_id, stored))
        except TelegramBadRequest as error:
            if "not modified" not in error.message:
                raise
