"""Settings: the person's own rules (delivery, digest, time zone, quiet hours, muted words,
hide ads), and their data rights (/export, /delete with a confirmation).

A choice is cycled by tapping its button; a value (a time, a zone, words) is asked for and
checked by the API, whose 422 says what is wrong."""

from __future__ import annotations

import orjson
from aiogram import F, Router, html
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from ppb.bot.api import ApiClient
from ppb.bot.keyboards import menus
from ppb.bot.keyboards.callbacks import Menu, SettingAction
from ppb.bot.languages import Languages
from ppb.bot.messages import MessageManager
from ppb.domain.errors import Invalid

router = Router(name="settings")

NOTICE_S = 30.0
DELIVERY_CYCLE = ["both", "live", "digest", "off"]
DIGEST_CYCLE = ["daily", "twice", "off"]


class EditSetting(StatesGroup):
    waiting = State()  # data: {"key": digest_time | timezone | quiet | mute}


def delivery_word(mode: str) -> str:
    return {"both": _("live posts and a digest"), "live": _("live posts only"),
            "digest": _("the digest only"), "off": _("nothing unasked")}.get(mode, mode)


def digest_word(rules: dict) -> str:
    if rules["digest"] == "off":
        return _("off")
    if rules["digest"] == "twice":
        return _("twice a day, at {time} and 12 hours later").format(time=rules["digest_time"])
    return _("daily at {time}").format(time=rules["digest_time"])


def settings_text(rules: dict) -> str:
    quiet = (_("{start}–{end}").format(start=rules["quiet_start"], end=rules["quiet_end"])
             if rules["quiet_start"] else _("none"))
    muted = ", ".join(html.quote(word) for word in rules["mute_words"]) or _("none")
    return _(
        "⚙️ Settings\n\n"
        "📬 Delivery: {delivery}\n"
        "🗞 Digest: {digest}\n"
        "🌍 Time zone: {timezone}\n"
        "🌙 Quiet hours: {quiet}\n"
        "🔇 Muted words: {muted}\n"
        "🚫 Ads: {ads}"
    ).format(delivery=delivery_word(rules["delivery"]), digest=digest_word(rules),
             timezone=html.quote(rules["timezone"]), quiet=quiet, muted=muted,
             ads=_("hidden") if rules["hide_ads"] else _("shown"))


async def show_settings(chat_id: int, api: ApiClient, messages: MessageManager, rules: dict | None = None) -> None:
    rules = rules if rules is not None else await api.rules(chat_id)
    await messages.transition_to_system(chat_id, settings_text(rules), menus.settings_menu(rules))


def _next(values: list[str], current: str) -> str:
    return values[(values.index(current) + 1) % len(values)] if current in values else values[0]


@router.message(Command("settings"))
async def settings_command(message: Message, api: ApiClient, messages: MessageManager, state: FSMContext) -> None:
    await messages.delete_incoming(message.chat.id, message.message_id)
    await state.set_state(None)
    await show_settings(message.chat.id, api, messages)


@router.callback_query(Menu.filter(F.action == "settings"))
async def settings_button(query: CallbackQuery, api: ApiClient, messages: MessageManager, state: FSMContext) -> None:
    await query.answer()
    await state.set_state(None)
    await messages.clear_ephemeral(query.from_user.id)
    await show_settings(query.from_user.id, api, messages)


@router.callback_query(SettingAction.filter(F.key.in_({"delivery", "digest", "ads"})))
async def cycle(query: CallbackQuery, callback_data: SettingAction, api: ApiClient, messages: MessageManager) -> None:
    chat_id = query.from_user.id
    rules = await api.rules(chat_id)
    if callback_data.key == "delivery":
        rules = await api.change_rules(chat_id, delivery=_next(DELIVERY_CYCLE, rules["delivery"]))
    elif callback_data.key == "digest":
        rules = await api.change_rules(chat_id, digest=_next(DIGEST_CYCLE, rules["digest"]))
    else:
        rules = await api.change_rules(chat_id, hide_ads=not rules["hide_ads"])
    await query.answer(_("Saved"))
    await show_settings(chat_id, api, messages, rules)


PROMPTS = {
    "digest_time": lambda: _("Send the time for your digest as HH:MM, for example 09:00."),
    "timezone": lambda: _("Send your time zone, for example Europe/Moscow, Asia/Almaty or UTC."),
    "quiet": lambda: _("Send your quiet hours as HH:MM-HH:MM, for example 23:00-08:00, or \"off\"."),
    "mute": lambda: _("Send the words to mute, separated by commas (a post with one is never shown), or \"-\" for none."),
}


@router.callback_query(SettingAction.filter(F.key.in_(set(PROMPTS))))
async def ask_value(query: CallbackQuery, callback_data: SettingAction, messages: MessageManager,
                    state: FSMContext) -> None:
    await query.answer()
    await state.set_state(EditSetting.waiting)
    await state.update_data(key=callback_data.key)
    await messages.clear_ephemeral(query.from_user.id)
    await messages.send_ephemeral(query.from_user.id, PROMPTS[callback_data.key](), menus.cancel())


def parse_value(key: str, text: str) -> dict:
    """The API change a typed value asks for (the API checks it)."""
    text = text.strip()
    if key == "digest_time":
        return {"digest_time": text}
    if key == "timezone":
        return {"timezone": text}
    if key == "quiet":
        if text.lower() in {"off", "no", "none", "-", "нет", "выкл"}:
            return {"quiet_start": None, "quiet_end": None}
        start, _dash, end = text.replace("–", "-").replace(" ", "").partition("-")
        return {"quiet_start": start, "quiet_end": end}
    words = [] if text in {"-", "—"} else [word.strip() for word in text.split(",") if word.strip()]
    return {"mute_words": words}


@router.message(EditSetting.waiting, F.text)
async def take_value(message: Message, api: ApiClient, messages: MessageManager, state: FSMContext) -> None:
    chat_id = message.chat.id
    await messages.delete_incoming(chat_id, message.message_id)
    await messages.clear_ephemeral(chat_id)
    key = (await state.get_data()).get("key", "mute")
    try:
        rules = await api.change_rules(chat_id, **parse_value(key, message.text or ""))
    except Invalid as error:  # a value the person typed that the rules refuse
        await messages.send_ephemeral(chat_id, _("That didn't work: {reason}. Try again.").format(
            reason=html.quote(error.detail)), menus.cancel())
        return
    await state.set_state(None)
    await messages.send_ephemeral(chat_id, _("✅ Saved."), auto_delete_after=NOTICE_S)
    await show_settings(chat_id, api, messages, rules)


# data rights -----------------------------------------------------------------------------


async def send_export(chat_id: int, api: ApiClient, messages: MessageManager) -> None:
    document = await api.export(chat_id)
    data = orjson.dumps(document, option=orjson.OPT_INDENT_2)
    await messages.bot.send_document(
        chat_id, BufferedInputFile(data, filename="ppb-my-data.json"),
        caption=_("📤 Your data: profile, settings, channels and ratings."))


@router.message(Command("export"))
async def export_command(message: Message, api: ApiClient, messages: MessageManager) -> None:
    await messages.delete_incoming(message.chat.id, message.message_id)
    await send_export(message.chat.id, api, messages)


@router.callback_query(SettingAction.filter(F.key == "export"))
async def export_button(query: CallbackQuery, api: ApiClient, messages: MessageManager) -> None:
    await query.answer()
    await send_export(query.from_user.id, api, messages)


async def ask_delete(chat_id: int, messages: MessageManager) -> None:
    await messages.clear_ephemeral(chat_id)
    await messages.send_ephemeral(chat_id, _(
        "🗑 Delete everything I keep about you: ratings, channels, settings and your model? "
        "This cannot be undone."), menus.confirm_delete())


@router.message(Command("delete"))
async def delete_command(message: Message, messages: MessageManager) -> None:
    await messages.delete_incoming(message.chat.id, message.message_id)
    await ask_delete(message.chat.id, messages)


@router.callback_query(SettingAction.filter(F.key == "delete"))
async def delete_button(query: CallbackQuery, messages: MessageManager) -> None:
    await query.answer()
    await ask_delete(query.from_user.id, messages)


@router.callback_query(SettingAction.filter(F.key == "delete_yes"))
async def delete_confirmed(query: CallbackQuery, api: ApiClient, messages: MessageManager, state: FSMContext,
                           languages: Languages) -> None:
    chat_id = query.from_user.id
    await query.answer()
    await messages.clear_ephemeral(chat_id)
    await messages.drop_system(chat_id)
    await messages.registry.forget(chat_id)  # the chat's registry, in its shard and in Redis
    await state.clear()
    await api.erase(chat_id)  # every table, and what is left in Redis
    languages.forget(chat_id)
    await messages.bot.send_message(chat_id, _("✅ Done: everything about you is deleted. Send /start to begin again."))
