"""The feed: the best posts for the person as messages that stay, rated in place, with more
on request. Opening it moves a trained person to `active`."""

from __future__ import annotations

from aiogram import F, Router, html
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from ppb.bot.api import ApiClient, ApiError
from ppb.bot.keyboards import menus
from ppb.bot.keyboards.callbacks import FeedRate, Menu
from ppb.bot.messages import MessageManager

router = Router(name="feed")

PAGE = 5
SEEN_LIMIT = 200
TEXT_LIMIT = 3500


async def show_feed(chat_id: int, api: ApiClient, messages: MessageManager, state: FSMContext) -> None:
    try:
        await api.event(chat_id, "view_feed")
    except ApiError as error:
        if error.status != 409:
            raise
        await messages.transition_to_system(chat_id, _("📚 Finish your training first, then your feed is ready."),
                                            menus.resume_training(None), at_bottom=True)
        return
    await messages.clear_ephemeral(chat_id)
    seen: list[int] = (await state.get_data()).get("feed_seen", [])
    posts = [p for p in await api.best(chat_id, min(100, PAGE + len(seen))) if p["id"] not in set(seen)][:PAGE]
    for post in posts:
        title = html.quote(post.get("channel_title") or "")
        body = html.quote((post.get("text") or "")[:TEXT_LIMIT]) or _("(a post without text)")
        await messages.send_onetime(chat_id, f"📰 <b>{title}</b>\n\n{body}", menus.feed_post(post["id"]))
    await state.update_data(feed_seen=(seen + [p["id"] for p in posts])[-SEEN_LIMIT:])
    if posts:
        text = _("That's {count} posts for you. Rate them to make your feed better.").format(count=len(posts))
        await messages.send_system(chat_id, text, menus.feed_more(), at_bottom=True)
    else:
        await messages.send_system(chat_id, _("🎉 You've seen everything for now. Add a channel or come back later."),
                                   menus.main_menu(), at_bottom=True)


@router.callback_query(Menu.filter(F.action.in_({"feed", "more"})))
async def feed(query: CallbackQuery, api: ApiClient, messages: MessageManager, state: FSMContext) -> None:
    await query.answer()
    await show_feed(query.from_user.id, api, messages, state)


@router.message(Command("feed"))
async def feed_command(message: Message, api: ApiClient, messages: MessageManager, state: FSMContext) -> None:
    await messages.delete_incoming(message.chat.id, message.message_id)
    await show_feed(message.chat.id, api, messages, state)


@router.callback_query(FeedRate.filter())
async def rate(query: CallbackQuery, callback_data: FeedRate, api: ApiClient) -> None:
    await api.rate(query.from_user.id, callback_data.post_id, callback_data.kind)
    await query.answer(_("👍 Noted") if callback_data.kind == "like" else _("👎 Noted"))
    if query.message is not None:
        try:
            await query.message.edit_reply_markup(reply_markup=menus.feed_post(callback_data.post_id, callback_data.kind))
        except TelegramBadRequest as error:
            if "not modified" not in error.message:
                raise
