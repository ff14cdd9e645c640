"""Settings: the person's own rules (delivery, digest, time zone, quiet hours, muted words,
must-see words, hide ads), and their data rights (/export, /delete with a confirmation).

A choice is cycled by tapping its button; a value (a time, a place, words) is asked for and
read as a person writes it (`9:30`, `Moscow`, `23-8`); what cannot be read gets a sentence
in the person's language saying what to type, with an example."""

from __future__ import annotations

import re

import orjson
from aiogram import F, Router, html
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from ppb.bot.keyboards import menus
from ppb.bot.keyboards.callbacks import Menu, SettingAction
from ppb.bot.languages import Languages
from ppb.bot.messages import MessageManager
from ppb.core.ppb import Ppb
from ppb.core.rules import as_hhmm
from ppb.domain.errors import Invalid, NotFound
from ppb.domain.rules import MAX_MUTE_WORD_LENGTH, MAX_MUTE_WORDS, check_mute_words, read_clock
from ppb.domain.timezones import examples, find_timezone

router = Router(name="settings")

NOTICE_S = 30.0
DELIVERY_CYCLE = ["both", "live", "digest", "off"]
DIGEST_CYCLE = ["daily", "twice", "off"]


class EditSetting(StatesGroup):
    waiting = State()  # data: {"key": digest_time | timezone | quiet | mute | must}


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
    must = ", ".join(html.quote(word) for word in rules.get("must_words", ())) or _("none")
    return _(
        "⚙️ Settings\n\n"
        "📬 Delivery: {delivery}\n"
        "🗞 Digest: {digest}\n"
        "🌍 Time zone: {timezone}\n"
        "🌙 Quiet hours: {quiet}\n"
        "🔇 Muted words: {muted}\n"
        "⭐ Must-see words: {must}\n"
        "🚫 Ads: {ads}"
    ).format(delivery=delivery_word(rules["delivery"]), digest=digest_word(rules),
             timezone=html.quote(rules["timezone"]), quiet=quiet, muted=muted, must=must,
             ads=_("hidden") if rules["hide_ads"] else _("shown"))


async def show_settings(chat_id: int, api: Ppb, messages: MessageManager, rules: dict | None = None) -> None:
    rules = rules if rules is not None else await api.rules(chat_id)
    await messages.transition_to_system(chat_id, settings_text(rules), menus.settings_menu(rules))


def _next(values: list[str], current: str) -> str:
    return values[(values.index(current) + 1) % len(values)] if current in values else values[0]


@router.message(Command("settings"))
async def settings_command(message: Message, api: Ppb, messages: MessageManager, state: FSMContext) -> None:
    await messages.delete_incoming(message.chat.id, message.message_id)
    await state.set_state(None)
    await show_settings(message.chat.id, api, messages)


@router.callback_query(Menu.filter(F.action == "settings"))
async def settings_button(query: CallbackQuery, api: Ppb, messages: MessageManager, state: FSMContext) -> None:
    await query.answer()
    await state.set_state(None)
    await messages.clear_ephemeral(query.from_user.id)
    await show_settings(query.from_user.id, api, messages)


@router.callback_query(SettingAction.filter(F.key.in_({"delivery", "digest", "ads"})))
async def cycle(query: CallbackQuery, callback_data: SettingAction, api: Ppb, messages: MessageManager) -> None:
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
    "digest_time": lambda: _("Send the time for your digest, for example 09:00 or 21:30."),
    "timezone": lambda: _("Send your city or country, for example Moscow, Almaty or Germany "
                          "(or a time zone such as Europe/Moscow or UTC+3)."),
    "quiet": lambda: _("Send your quiet hours as two times with a dash, for example 23:00-08:00, or \"off\"."),
    "mute": lambda: _("Send the words to mute, separated by commas (a post with one is never shown), or \"-\" for none."),
    "must": lambda: _("Send your must-see words, separated by commas (a post with one always reaches you, "
                      "within your quiet hours and limits), or \"-\" for none."),
}
OFF = {"off", "no", "none", "-", "—", "нет", "выкл", "выключить", "отключить"}


class Unreadable(Exception):
    """What the person typed is not a value of the setting; `sentence` says what to type."""

    def __init__(self, sentence: str) -> None:
        super().__init__(sentence)
        self.sentence = sentence


@router.callback_query(SettingAction.filter(F.key.in_(set(PROMPTS))))
async def ask_value(query: CallbackQuery, callback_data: SettingAction, messages: MessageManager,
                    state: FSMContext) -> None:
    await query.answer()
    await state.set_state(EditSetting.waiting)
    await state.update_data(key=callback_data.key)
    await messages.clear_ephemeral(query.from_user.id)
    await messages.send_ephemeral(query.from_user.id, PROMPTS[callback_data.key](), menus.cancel())


def parse_value(key: str, text: str, language: str) -> dict:
    """The change a typed value asks for, read as a person writes it (`9:30`, `Moscow`,
    `23-8`); `Unreadable` with a sentence in their language when it is not one."""
    text = text.strip()
    shown = html.quote(text[:64])
    if key == "digest_time":
        clock = read_clock(text)
        if clock is None:
            raise Unreadable(_("I couldn't read “{text}” as a time. Send hours and minutes, "
                               "for example 09:00 or 21:30.").format(text=shown))
        return {"digest_time": as_hhmm(clock)}
    if key == "timezone":
        return {"timezone": zone_of(text, shown, language)}
    if key == "quiet":
        if text.casefold() in OFF:
            return {"quiet_start": None, "quiet_end": None}
        start, _dash, end = re.sub(r"\s*(?:[-–—]|\bto\b|\bдо\b)\s*", "-", text.casefold(), count=1).partition("-")
        start_at, end_at = read_clock(start.removeprefix("с ").removeprefix("from ")), read_clock(end)
        if start_at is None or end_at is None:
            raise Unreadable(_("I couldn't read “{text}” as quiet hours. Send two times with a dash, "
                               "for example 23:00-08:00, or \"off\" for none.").format(text=shown))
        return {"quiet_start": as_hhmm(start_at), "quiet_end": as_hhmm(end_at)}
    words = [] if text in {"-", "—"} else [word.strip() for word in text.split(",") if word.strip()]
    try:
        return {"must_words" if key == "must" else "mute_words": list(check_mute_words(words))}
    except ValueError:
        if key == "must":
            raise Unreadable(_("Each must-see word needs a letter or a digit and at most {length} characters, "
                               "and there can be {most} at most. Separate them with commas, for example: "
                               "release, eclipse.").format(length=MAX_MUTE_WORD_LENGTH, most=MAX_MUTE_WORDS)) from None
        raise Unreadable(_("Each muted word needs a letter or a digit and at most {length} characters, "
                           "and there can be {most} at most. Separate them with commas, for example: "
                           "crypto, football.").format(length=MAX_MUTE_WORD_LENGTH, most=MAX_MUTE_WORDS)) from None


def zone_of(text: str, shown: str, language: str) -> str:
    """The time zone a city, country, IANA name or offset names."""
    match = find_timezone(text)
    if match.zone is not None:
        return match.zone
    if match.choices:
        raise Unreadable(_("“{text}” has several time zones. Send your city, for example {cities}.").format(
            text=shown, cities=", ".join(examples(match.choices, language))))
    raise Unreadable(_("I don't know the place “{text}”. Send a big city near you with the same time, or your "
                       "country, for example Moscow, Almaty or Germany.").format(text=shown))


@router.message(EditSetting.waiting, F.text)
async def take_value(message: Message, api: Ppb, messages: MessageManager, state: FSMContext,
                     i18n: I18n) -> None:
    chat_id = message.chat.id
    await messages.delete_incoming(chat_id, message.message_id)
    await messages.clear_ephemeral(chat_id)
    key = (await state.get_data()).get("key", "mute")
    try:
        rules = await api.change_rules(chat_id, **parse_value(key, message.text or "", i18n.current_locale))
    except Unreadable as problem:
        await messages.send_ephemeral(chat_id, problem.sentence, menus.cancel())
        return
    except Invalid:  # read, yet refused: the API's reason is for programs; the person gets the prompt
        await messages.send_ephemeral(chat_id, _("That didn't work.") + " " + PROMPTS[key](), menus.cancel())
        return
    await state.set_state(None)
    await show_settings(chat_id, api, messages, rules)  # clears the prompts: the confirmation follows
    await messages.send_ephemeral(chat_id, _("✅ Saved."), auto_delete_after=NOTICE_S)


# data rights -----------------------------------------------------------------------------


async def send_export(chat_id: int, api: Ppb, messages: MessageManager) -> None:
    document = await api.export(chat_id)
    data = orjson.dumps(document, option=orjson.OPT_INDENT_2)
    await messages.bot.send_document(
        chat_id, BufferedInputFile(data, filename="ppb-my-data.json"),
        caption=_("📤 Your data: profile, settings, channels and ratings."))


@router.message(Command("export"))
async def export_command(message: Message, api: Ppb, messages: MessageManager) -> None:
    await messages.delete_incoming(message.chat.id, message.message_id)
    await send_export(message.chat.id, api, messages)


@router.callback_query(SettingAction.filter(F.key == "export"))
async def export_button(query: CallbackQuery, api: Ppb, messages: MessageManager) -> None:
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
async def delete_confirmed(query: CallbackQuery, api: Ppb, messages: MessageManager, state: FSMContext,
                           languages: Languages) -> None:
    chat_id = query.from_user.id
    await messages.clear_ephemeral(chat_id)
    await messages.drop_system(chat_id)
    await messages.registry.forget(chat_id)  # the chat's registry, in its shard and in Redis
    await state.clear()
    languages.forget(chat_id)
    try:
        await api.erase(chat_id)  # every table, and what is left in Redis
    except NotFound:  # a second press (or erased elsewhere meanwhile): nothing is left to delete
        await query.answer(_("Everything about you is deleted already."))
        return
    await query.answer()
    await messages.bot.send_message(chat_id, _("✅ Done: everything about you is deleted. Send /start to begin again."))
