"""Inline keyboards, one builder per screen; labels go through `_()`."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, WebAppInfo
from aiogram.utils.i18n import gettext as _

from ppb.bot.keyboards.callbacks import (
    ChannelAction,
    ChannelDialAction,
    FeedRate,
    Lang,
    Menu,
    SettingAction,
    TrainAction,
    TrainRate,
    Why,
)
from ppb.domain.interactions import InteractionType

ROW_WIDTH = 8
"""Buttons in a row at most (a longer row is split, as aiogram's builder splits it)."""


class KeyboardRows:
    """Rows of inline buttons, made into aiogram's markup as they are (aiogram's
    `InlineKeyboardBuilder` deep-copies every button when it makes the markup: 0.4 ms for a
    training card, more than the rest of building and sending it)."""

    __slots__ = ("_rows",)

    def __init__(self) -> None:
        self._rows: list[list[InlineKeyboardButton]] = []

    def row(self, *buttons: InlineKeyboardButton) -> KeyboardRows:
        self._rows.extend(list(buttons[start:start + ROW_WIDTH]) for start in range(0, len(buttons), ROW_WIDTH))
        return self

    def as_markup(self) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup(inline_keyboard=self._rows)


def _languages(builder: KeyboardRows) -> None:
    builder.row(
        InlineKeyboardButton(text="🇬🇧 English", callback_data=Lang(code="en").pack()),
        InlineKeyboardButton(text="🇷🇺 Русский", callback_data=Lang(code="ru").pack()),
    )


def _home(builder: KeyboardRows) -> None:
    builder.row(InlineKeyboardButton(text=_("🏠 Menu"), callback_data=Menu(action="home").pack()))


def welcome() -> InlineKeyboardMarkup:
    builder = KeyboardRows()
    builder.row(InlineKeyboardButton(text=_("🚀 Start training"), callback_data=Menu(action="train").pack()))
    builder.row(InlineKeyboardButton(text=_("ℹ️ How it works"), callback_data=Menu(action="how").pack()))
    _languages(builder)
    return builder.as_markup()


def how_it_works() -> InlineKeyboardMarkup:
    builder = KeyboardRows()
    builder.row(InlineKeyboardButton(text=_("🚀 Start training"), callback_data=Menu(action="train").pack()))
    _home(builder)
    return builder.as_markup()


def feed_app_url(webapp_url: str) -> str:
    """The Mini App opened on its feed (`?mode=feed`), whatever else its address holds."""
    parts = urlsplit(webapp_url)
    query = [(key, value) for key, value in parse_qsl(parts.query) if key != "mode"] + [("mode", "feed")]
    return urlunsplit(parts._replace(query=urlencode(query)))


def main_menu(webapp_url: str | None = None) -> InlineKeyboardMarkup:
    builder = KeyboardRows()
    builder.row(InlineKeyboardButton(text=_("📰 View my feed"), callback_data=Menu(action="feed").pack()))
    if webapp_url:
        builder.row(InlineKeyboardButton(text=_("📱 Open the Mini App"), web_app=WebAppInfo(url=feed_app_url(webapp_url))))
    builder.row(
        InlineKeyboardButton(text=_("➕ Add a channel"), callback_data=Menu(action="add").pack()),
        InlineKeyboardButton(text=_("📋 My channels"), callback_data=Menu(action="channels").pack()),
    )
    builder.row(
        InlineKeyboardButton(text=_("🔁 Retrain"), callback_data=Menu(action="retrain").pack()),
        InlineKeyboardButton(text=_("🌐 Language"), callback_data=Menu(action="lang").pack()),
    )
    builder.row(
        InlineKeyboardButton(text=_("⚙️ Settings"), callback_data=Menu(action="settings").pack()),
        InlineKeyboardButton(text=_("❓ Help"), callback_data=Menu(action="help").pack()),
    )
    return builder.as_markup()


def settings_menu(rules: dict[str, Any]) -> InlineKeyboardMarkup:
    """The person's rules, one button each: a tap cycles a choice or asks for a value."""
    builder = KeyboardRows()

    def button(text: str, key: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(text=text, callback_data=SettingAction(key=key).pack())

    builder.row(button(_("📬 Delivery"), "delivery"), button(_("🗞 Digest"), "digest"))
    builder.row(button(_("🕘 Digest time"), "digest_time"), button(_("🌍 Time zone"), "timezone"))
    builder.row(button(_("🌙 Quiet hours"), "quiet"), button(_("🔇 Muted words"), "mute"))
    builder.row(button(_("⭐ Must-see words"), "must"),
                button(_("🚫 Show ads") if rules.get("hide_ads") else _("🚫 Hide ads"), "ads"))
    builder.row(button(_("📤 Export my data"), "export"), button(_("🗑 Delete my data"), "delete"))
    _home(builder)
    return builder.as_markup()


def confirm_delete() -> InlineKeyboardMarkup:
    builder = KeyboardRows()
    builder.row(InlineKeyboardButton(text=_("🗑 Yes, delete everything"),
                                     callback_data=SettingAction(key="delete_yes").pack()))
    builder.row(InlineKeyboardButton(text=_("✖️ Cancel"), callback_data=Menu(action="settings").pack()))
    return builder.as_markup()


def resume_training(webapp_url: str | None, can_finish: bool = False) -> InlineKeyboardMarkup:
    builder = KeyboardRows()
    builder.row(InlineKeyboardButton(text=_("▶️ Continue training"), callback_data=TrainAction(action="resume").pack()))
    if can_finish:
        builder.row(InlineKeyboardButton(text=_("✅ Finish training"), callback_data=TrainAction(action="finish").pack()))
    if webapp_url:
        builder.row(InlineKeyboardButton(text=_("📱 Train in the Mini App"), web_app=WebAppInfo(url=webapp_url)))
    _home(builder)
    return builder.as_markup()


def training_card(post_id: int, can_finish: bool, webapp_url: str | None) -> InlineKeyboardMarkup:
    builder = KeyboardRows()
    builder.row(*(
        InlineKeyboardButton(text=label, callback_data=TrainRate(post_id=post_id, kind=kind).pack())
        for label, kind in (("👍", InteractionType.LIKE), ("👎", InteractionType.DISLIKE), ("⏩", InteractionType.SKIP))
    ))
    if can_finish:
        builder.row(InlineKeyboardButton(text=_("✅ Finish training"), callback_data=TrainAction(action="finish").pack()))
    if webapp_url:
        builder.row(InlineKeyboardButton(text=_("📱 Train in the Mini App"), web_app=WebAppInfo(url=webapp_url)))
    _home(builder)
    return builder.as_markup()


def training_menu(can_finish: bool, is_trained: bool, webapp_url: str | None) -> InlineKeyboardMarkup:
    """The menu while a training goes on: continue, finish, the feed (when trained before) and the rest."""
    builder = KeyboardRows()
    builder.row(InlineKeyboardButton(text=_("▶️ Continue training"), callback_data=TrainAction(action="resume").pack()))
    if can_finish:
        builder.row(InlineKeyboardButton(text=_("✅ Finish training"), callback_data=TrainAction(action="finish").pack()))
    if webapp_url:
        builder.row(InlineKeyboardButton(text=_("📱 Train in the Mini App"), web_app=WebAppInfo(url=webapp_url)))
    if is_trained:
        builder.row(InlineKeyboardButton(text=_("📰 View my feed"), callback_data=Menu(action="feed").pack()))
    builder.row(
        InlineKeyboardButton(text=_("➕ Add a channel"), callback_data=Menu(action="add").pack()),
        InlineKeyboardButton(text=_("📋 My channels"), callback_data=Menu(action="channels").pack()),
    )
    builder.row(
        InlineKeyboardButton(text=_("🔄 Start training over"), callback_data=Menu(action="restart").pack()),
        InlineKeyboardButton(text=_("🌐 Language"), callback_data=Menu(action="lang").pack()),
    )
    builder.row(InlineKeyboardButton(text=_("❓ Help"), callback_data=Menu(action="help").pack()))
    return builder.as_markup()


def confirm_retrain() -> InlineKeyboardMarkup:
    builder = KeyboardRows()
    builder.row(InlineKeyboardButton(text=_("✅ Yes, retrain"), callback_data=Menu(action="retrain_yes").pack()))
    builder.row(InlineKeyboardButton(text=_("✖️ Cancel"), callback_data=Menu(action="home").pack()))
    return builder.as_markup()


def trained() -> InlineKeyboardMarkup:
    builder = KeyboardRows()
    builder.row(InlineKeyboardButton(text=_("📰 View my feed"), callback_data=Menu(action="feed").pack()))
    _home(builder)
    return builder.as_markup()


def feed_post(post_id: int, chosen: str | None = None) -> InlineKeyboardMarkup:
    def label(emoji: str, kind: str) -> str:
        return f"{emoji} ✓" if chosen == kind else emoji

    return InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text=label("👍", InteractionType.LIKE), callback_data=FeedRate(post_id=post_id, kind=InteractionType.LIKE).pack()),
        InlineKeyboardButton(text=label("👎", InteractionType.DISLIKE), callback_data=FeedRate(post_id=post_id, kind=InteractionType.DISLIKE).pack()),
        why_button(post_id),
    ]])


def why_button(post_id: int, number: int | None = None) -> InlineKeyboardButton:
    """"Why this post?": the answer comes as an alert over the chat (nothing left in it)."""
    return InlineKeyboardButton(text="❓" if number is None else f"{number} ❓", callback_data=Why(post_id=post_id).pack())


def feed_more() -> InlineKeyboardMarkup:
    builder = KeyboardRows()
    builder.row(InlineKeyboardButton(text=_("📰 More posts"), callback_data=Menu(action="more").pack()))
    _home(builder)
    return builder.as_markup()


DIAL_ICONS = {"normal": "⏺", "more": "🔼", "less": "🔽", "never": "🚫"}
DIAL_CYCLE = ["normal", "more", "less", "never"]


def my_channels(channels: list[dict[str, Any]], dials: dict[str, str] | None = None) -> InlineKeyboardMarkup:
    """Per channel with a username: its dial (a tap turns it to the next) and ❌ to remove it."""
    dials = {} if dials is None else dials
    builder = KeyboardRows()
    for channel in channels:
        if channel.get("username"):  # any channel, a default one too, may leave the person's feed
            name = channel["username"]
            dial = dials.get(name, "normal")
            turned = DIAL_CYCLE[(DIAL_CYCLE.index(dial) + 1) % len(DIAL_CYCLE)] if dial in DIAL_CYCLE else "normal"
            builder.row(InlineKeyboardButton(
                text=f"{DIAL_ICONS.get(dial, '⏺')} @{name}",
                callback_data=ChannelDialAction(channel=name, dial=turned).pack(),
            ), InlineKeyboardButton(
                text=_("❌ Remove @{name}").format(name=name),
                callback_data=ChannelAction(action="remove", channel=name).pack(),
            ))
    builder.row(InlineKeyboardButton(text=_("➕ Add a channel"), callback_data=Menu(action="add").pack()))
    _home(builder)
    return builder.as_markup()


def languages() -> InlineKeyboardMarkup:
    builder = KeyboardRows()
    _languages(builder)
    _home(builder)
    return builder.as_markup()


def cancel() -> InlineKeyboardMarkup:
    builder = KeyboardRows()
    builder.row(InlineKeyboardButton(text=_("✖️ Cancel"), callback_data=Menu(action="home").pack()))
    return builder.as_markup()


def home() -> InlineKeyboardMarkup:
    builder = KeyboardRows()
    _home(builder)
    return builder.as_markup()
