"""Callback data of every button (each packs into Telegram's 64 bytes)."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class Menu(CallbackData, prefix="m"):
    """Navigation: train, how, feed, more, add, channels, retrain, lang, help, status, home."""

    action: str


class Lang(CallbackData, prefix="l"):
    code: str


class TrainRate(CallbackData, prefix="t"):
    post_id: int
    kind: str  # like | dislike | skip


class TrainAction(CallbackData, prefix="ta"):
    action: str  # finish | resume


class FeedRate(CallbackData, prefix="f"):
    post_id: int
    kind: str  # like | dislike


class ChannelAction(CallbackData, prefix="c"):
    action: str  # remove
    channel: str


class ChannelDialAction(CallbackData, prefix="cd"):
    channel: str  # its username
    dial: str  # the dial to set: more | normal | less | never


class SettingAction(CallbackData, prefix="s"):
    key: str  # delivery | digest | digest_time | timezone | quiet | mute | must | ads | export | delete | delete_yes


class DigestRate(CallbackData, prefix="dg"):
    post_id: int
    kind: str  # like | dislike


class Why(CallbackData, prefix="w"):
    """"Why this post?" on a feed post, a push, a nudge or a digest entry."""

    post_id: int
