"""Channels: add a bonus channel (`@name` or a t.me link) through the scraper, followed by a
short training on it, within a limit; list and remove your channels, and turn each one's
dial (normal → more → less → never, a tap each)."""

from __future__ import annotations

import re

from aiogram import F, Router, html
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from ppb.bot.handlers.start import register
from ppb.bot.handlers.training import begin_training
from ppb.bot.keyboards import menus
from ppb.bot.keyboards.callbacks import ChannelAction, ChannelDialAction, Menu
from ppb.bot.languages import Languages
from ppb.bot.messages import MessageManager
from ppb.bot.views import menu_view
from ppb.config import DEMO_USERNAMES, Settings
from ppb.core.policy import parse_defaults
from ppb.core.ppb import Ppb
from ppb.domain.channels import ChannelName
from ppb.domain.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, Unavailable
from ppb.domain.status import UserStatus

router = Router(name="channels")

CHANNEL_TEXT = r"^\s*(@[A-Za-z][A-Za-z0-9_]{3,31}|(https?://)?(t\.me|telegram\.me)/\S+)\s*$"
INVITE_LINK = re.compile(r"^\s*(https?://)?(t\.me|telegram\.me)/(\+|joinchat/)\S+\s*$")
"""A private channel's invite link: PPB follows public channels only."""
NOTICE_S = 30.0


class AddChannel(StatesGroup):
    waiting = State()


@router.callback_query(Menu.filter(F.action == "add"))
async def ask_for_channel(query: CallbackQuery, api: Ppb, messages: MessageManager, state: FSMContext,
                          settings: Settings) -> None:
    await query.answer()
    user = await api.get_user(query.from_user.id)
    if user["bonus_channels_count"] >= settings.max_bonus_channels:
        await messages.send_ephemeral(query.from_user.id, limit_text(settings), auto_delete_after=NOTICE_S)
        return
    await state.set_state(AddChannel.waiting)
    await messages.clear_ephemeral(query.from_user.id)
    await messages.send_ephemeral(
        query.from_user.id, _("Send me the channel's @username or its t.me link."), menus.cancel()
    )


def limit_text(settings: Settings) -> str:
    limit = settings.max_bonus_channels
    return ngettext("You already have {limit} bonus channel, the most I can follow for you.",
                    "You already have {limit} bonus channels, the most I can follow for you.", limit).format(limit=limit)


@router.message(F.text.regexp(CHANNEL_TEXT))
@router.message(AddChannel.waiting, F.text)
async def add_channel(message: Message, api: Ppb, messages: MessageManager, state: FSMContext,
                      settings: Settings, languages: Languages, webapp_url: str | None) -> None:
    """`@name` or a t.me link, at any point (as /help promises): confirmed with what follows."""
    chat_id = message.chat.id
    await messages.delete_incoming(chat_id, message.message_id)
    await messages.clear_ephemeral(chat_id)
    if INVITE_LINK.match(message.text or ""):
        await messages.send_ephemeral(chat_id, _(
            "That's an invite link to a private channel. I can only follow public channels: "
            "send one's @username or t.me/username link."), menus.cancel())
        return
    try:
        name = ChannelName.parse(message.text or "").username
    except DomainError:
        name = None
    if name is None:
        await messages.send_ephemeral(
            chat_id, _("That doesn't look like a channel. Send @username or a t.me/username link."), menus.cancel()
        )
        return
    user = await register(api, languages, message)  # a channel may be the first thing sent
    mine = {channel["username"] for channel in await api.channels(chat_id) if channel.get("username")}
    if name in mine:
        await state.set_state(None)
        await messages.send_ephemeral(chat_id, _(
            "You already follow @{name}, so no bonus slot was used. Its posts are in your feed.").format(
            name=html.quote(name)), auto_delete_after=NOTICE_S)
        return
    if name in defaults(settings):  # not linked yet, or removed by the person: linked again
        await state.set_state(None)
        await relink(api, chat_id, name)
        await messages.send_ephemeral(chat_id, _(
            "✅ @{name} is one of the channels everyone gets: it's in your feed, and no bonus slot was used.").format(
            name=html.quote(name)), auto_delete_after=NOTICE_S)
        return
    if user["bonus_channels_count"] >= settings.max_bonus_channels:  # before the scraper joins anything
        await messages.send_ephemeral(chat_id, limit_text(settings), menus.cancel())
        return
    problem, scraper = await join(api, name)
    if problem is None:
        problem = await link(api, chat_id, name, settings, mine, scraper=scraper)
    if problem is not None:
        await messages.send_ephemeral(chat_id, problem, menus.cancel())
        return
    await state.set_state(None)
    slot = _("bonus channel {count} of {limit}").format(
        count=user["bonus_channels_count"] + 1, limit=settings.max_bonus_channels)
    quoted = html.quote(name)
    if user["status"] == UserStatus.TRAINING:
        text = _("✅ @{name} added ({slot}). Its posts join your training now.").format(name=quoted, slot=slot)
    elif user["status"] in {UserStatus.NEW, UserStatus.ONBOARDING}:
        text = _("✅ @{name} added ({slot}). Its posts join your training when you start it.").format(
            name=quoted, slot=slot)
    else:
        text = _("✅ @{name} added ({slot}). Next: a short training on its posts; "
                 "your feed stays readable meanwhile.").format(name=quoted, slot=slot)
    if user["status"] in {UserStatus.NEW, UserStatus.ONBOARDING}:
        await messages.send_system(chat_id, *menu_view(user, webapp_url), at_bottom=True)
    else:
        await begin_training(chat_id, api, messages, webapp_url, channels=[name],
                             append=user["status"] == UserStatus.TRAINING)
    await messages.send_ephemeral(chat_id, text, auto_delete_after=NOTICE_S)


def defaults(settings: Settings) -> set[str]:
    """The configured default channels' usernames (those an operator marks are the core's to know:
    they take no bonus slot there either)."""
    return {name.username for name in parse_defaults(settings.effective_default_channels) if name.username}


async def relink(api: Ppb, telegram_id: int, name: str) -> None:
    """A default channel the person removed, asked for again: linked again (no bonus slot)."""
    try:
        await api.add_channel(telegram_id, f"@{name}", bonus=False)
    except DomainError as error:
        if not isinstance(error, NotFound):  # not stored yet: linked when training starts, as for everyone
            raise


async def join(api: Ppb, name: str) -> tuple[str | None, bool]:
    """Have the scraper join the channel: a sentence for the person when that fails, and
    whether a scraper answered at all."""
    try:
        answer = await api.join(f"@{name}")
    except Unavailable:
        return None, False  # no scraper (or it is down): channels already stored still work
    except DomainError as error:
        if isinstance(error, Forbidden):  # the scraper's ChannelPrivate
            return _("@{name} is a private channel, so I can't read it. I can only follow public channels.").format(
                name=html.quote(name)), True
        if isinstance(error, NotFound | Invalid):
            return unknown(name), True
        if isinstance(error, Conflict):  # the scraper watches as many channels as it may
            return _("I can't follow any more new channels right now. Please try again later."), True
        raise
    if answer.get("status") == "requested":
        return _("@{name} is private: I asked to join, and can use it once the request is approved.").format(
            name=html.quote(name)), True
    if answer.get("status") == "flood_wait":
        return _("Telegram asks me to slow down. Please send @{name} again in a few minutes.").format(
            name=html.quote(name)), True
    return None, True


async def link(api: Ppb, telegram_id: int, name: str, settings: Settings, mine: set[str], *,
               scraper: bool) -> str | None:
    try:
        await api.add_channel(telegram_id, f"@{name}", bonus=True)
    except DomainError as error:
        if isinstance(error, Conflict):
            return limit_text(settings)
        if isinstance(error, NotFound | Invalid):
            return unknown(name) if scraper else unreachable(name, settings, mine)
        raise
    return None


def unknown(name: str) -> str:
    return _("I couldn't find @{name}. Check the name: it must be a public channel.").format(name=html.quote(name))


def unreachable(name: str, settings: Settings, mine: set[str]) -> str:
    """No scraper to look the channel up: in the sandbox, the channels it knows; elsewhere,
    that Telegram cannot be reached now. Never "check the name" for a name that may be right."""
    quoted = html.quote(name)
    if not settings.use_sandbox:
        return _("I can't reach Telegram to look up @{name} right now, so I can only add channels PPB "
                 "already reads. Please try again later.").format(name=quoted)
    known = [name.username for name in parse_defaults(list(DEMO_USERNAMES) if settings.use_demo_data
                                                      else settings.effective_default_channels) if name.username]
    addable = [channel for channel in known if channel not in mine and channel not in defaults(settings)]
    if addable:
        return _("🧪 This is the sandbox: it can't reach Telegram, so it can't add @{name}. It knows only its "
                 "demo channels, and you can add these: {channels}.").format(
            name=quoted, channels=", ".join(f"@{channel}" for channel in addable))
    return _("🧪 This is the sandbox: it can't reach Telegram, so it can't add @{name}. It knows only its "
             "demo channels, and your training and feed have them all already: {channels}.").format(
        name=quoted, channels=", ".join(f"@{channel}" for channel in known))


def dial_word(dial: str) -> str:
    return {"more": _("more"), "less": _("less"), "never": _("never"), "normal": _("normal")}.get(dial, dial)


async def channels_view(telegram_id: int, api: Ppb, settings: Settings) -> tuple[str, object]:
    channels = await api.channels(telegram_id)
    dials = {dial["channel"]: dial["dial"] for dial in (await api.rules(telegram_id))["channel_dials"]}
    bonus = sum(1 for channel in channels if channel.get("is_bonus"))
    lines = [_("📋 Your channels ({bonus} of {limit} bonus):").format(bonus=bonus, limit=settings.max_bonus_channels)]
    for channel in channels:
        name = f" (@{channel['username']})" if channel.get("username") else ""
        mark = " ⭐" if channel.get("is_bonus") else ""
        dial = dials.get(channel.get("username") or str(channel["telegram_id"]), "normal")
        turned = f" · {menus.DIAL_ICONS[dial]} {dial_word(dial)}" if dial != "normal" else ""
        lines.append(f"• {html.quote(channel['title'])}{html.quote(name)}{mark}{turned}")
    lines.append("")
    lines.append(_("⭐ a bonus channel: removing one frees its slot. Any channel can leave your feed with ❌; "
                   "send @name or a t.me link to add one."))
    lines.append(_("Tap a channel's dial to turn it: normal → more → less → never (none of its posts, "
                   "anywhere) → normal."))
    return "\n".join(lines), menus.my_channels(channels, dials)


@router.callback_query(Menu.filter(F.action == "channels"))
async def list_channels(query: CallbackQuery, api: Ppb, messages: MessageManager, settings: Settings) -> None:
    await query.answer()
    text, markup = await channels_view(query.from_user.id, api, settings)
    await messages.transition_to_system(query.from_user.id, text, markup)  # type: ignore[arg-type]


@router.callback_query(ChannelDialAction.filter())
async def turn_dial(query: CallbackQuery, callback_data: ChannelDialAction, api: Ppb,
                    messages: MessageManager, settings: Settings) -> None:
    """One tap turns a channel's dial to the next; the ranking follows at once."""
    try:
        await api.change_rules(query.from_user.id, channel_dials={callback_data.channel: callback_data.dial})
    except DomainError as error:
        if not isinstance(error, Invalid):  # the channel is gone meanwhile: the list shows what is left
            raise
    await query.answer(_("@{name}: {dial}").format(name=callback_data.channel, dial=dial_word(callback_data.dial)))
    text, markup = await channels_view(query.from_user.id, api, settings)
    await messages.transition_to_system(query.from_user.id, text, markup)  # type: ignore[arg-type]


@router.callback_query(ChannelAction.filter(F.action == "remove"))
async def remove_channel(query: CallbackQuery, callback_data: ChannelAction, api: Ppb,
                         messages: MessageManager, settings: Settings) -> None:
    try:
        await api.remove_channel(query.from_user.id, callback_data.channel)
    except DomainError as error:
        if not isinstance(error, NotFound):
            raise
    await query.answer(_("Removed @{name}").format(name=callback_data.channel))
    text, markup = await channels_view(query.from_user.id, api, settings)
    await messages.transition_to_system(query.from_user.id, text, markup)  # type: ignore[arg-type]
