"""Building the bot: the Bot (its HTTP session), the Dispatcher with every router, and the
things handlers receive by name (`api`: the `Ppb` the bot calls, `messages`, `settings`,
`webapp_url`). Which `Ppb` and which chat registry is the caller's choice (`ppb.compose`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.types import BotCommand, MenuButtonDefault, MenuButtonWebApp, WebAppInfo

from ppb import logsafe
from ppb.bot.activity import ActivityMiddleware
from ppb.bot.api import api_base_url
from ppb.bot.chat_order import ChatOrder
from ppb.bot.handlers import get_routers
from ppb.bot.i18n import LocaleMiddleware, build_i18n
from ppb.bot.languages import Languages
from ppb.bot.measure import UpdateMetrics
from ppb.bot.messages import MessageManager, Registry
from ppb.bot.retry import RetryMiddleware
from ppb.bot.session import BotSession
from ppb.bot.throttle import Throttle, ThrottleMiddleware
from ppb.bot.typed import TypedAnswers
from ppb.config import Settings, sandbox_bot_token
from ppb.core.ppb import Ppb

log = logging.getLogger("ppb.bot")

SANDBOX_PATH = "/sandbox/botapi"
COMMANDS = {
    "en": [("start", "Main menu"), ("feed", "My feed"), ("status", "My progress"), ("settings", "Settings"),
           ("export", "My data as a file"), ("delete", "Delete my data"), ("help", "Help"),
           ("reset", "Start the menu afresh")],
    "ru": [("start", "Главное меню"), ("feed", "Моя лента"), ("status", "Мой прогресс"), ("settings", "Настройки"),
           ("export", "Мои данные файлом"), ("delete", "Удалить мои данные"), ("help", "Помощь"),
           ("reset", "Начать меню заново")],
}


def bot_token(settings: Settings) -> str:
    if settings.use_sandbox:
        return sandbox_bot_token(settings)
    assert settings.bot_token is not None, "BOT_TOKEN is required outside the sandbox"
    return settings.bot_token.get_secret_value()


def bot_api_base(settings: Settings, public_base: str | None = None) -> str:
    """Telegram's (or BOT_API_BASE's) server, or the sandbox's emulator beside the API."""
    if settings.use_sandbox:
        return f"{(public_base or api_base_url(settings)).rstrip('/')}{SANDBOX_PATH}"
    return settings.bot_api_base


def webapp_url(settings: Settings, public_base: str | None = None) -> str | None:
    """The Mini App button's address: MINIAPP_URL; in the sandbox, the app's own /miniapp/."""
    if settings.miniapp_url:
        return settings.miniapp_url
    if settings.use_sandbox:
        return f"{(public_base or api_base_url(settings)).rstrip('/')}/miniapp/"
    return None  # Telegram accepts only https Mini Apps; without MINIAPP_URL there is none


def build_bot(settings: Settings, public_base: str | None = None, *, retry_outage_s: float = 60.0,
              wait_out_floods: bool = True) -> Bot:
    """With `wait_out_floods` off, a 429 goes to the caller, who waits it out (the outbox
    pauses its whole queue instead of one send)."""
    session = BotSession(api=TelegramAPIServer.from_base(bot_api_base(settings, public_base)))
    session.middleware(RetryMiddleware(outage_s=retry_outage_s, wait_out_floods=wait_out_floods))
    return Bot(bot_token(settings), session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))


async def set_commands(bot: Bot) -> bool:
    """The bot's command menu in both languages, for polling and webhook mode alike; best
    effort (the bot still runs without it), so False and a warning when it fails."""
    try:
        for language, commands in COMMANDS.items():
            await bot.set_my_commands(
                [BotCommand(command=c, description=d) for c, d in commands],
                language_code=None if language == "en" else language,
            )
    except Exception as error:
        log.warning("could not set the bot's commands: %s", error)
        return False
    return True


MENU_BUTTON_TEXT = "📱 PPB"
"""The chat's menu button, beside the message field (one text for every language: the name)."""


async def set_menu_button(bot: Bot, url: str | None) -> bool:
    """The chat's menu button opens the Mini App (every chat's default button); without a
    Mini App, Telegram's default (the command list). Best effort, as the commands are."""
    button = MenuButtonWebApp(text=MENU_BUTTON_TEXT, web_app=WebAppInfo(url=url)) if url else MenuButtonDefault()
    try:
        await bot.set_chat_menu_button(menu_button=button)
    except Exception as error:
        log.warning("could not set the bot's menu button: %s", error)
        return False
    return True


async def prepare_bot(bot: Bot, url: str | None) -> None:
    """What the bot shows besides its messages: its commands and its menu button."""
    await set_commands(bot)
    await set_menu_button(bot, url)


def build_storage(settings: Settings) -> BaseStorage:
    """FSM in Redis when REDIS_URL is set (training survives a restart), else in memory."""
    if settings.redis_url:
        from aiogram.fsm.storage.base import DefaultKeyBuilder
        from aiogram.fsm.storage.redis import RedisStorage

        return RedisStorage.from_url(settings.redis_url_value, key_builder=DefaultKeyBuilder(prefix="ppb:fsm", with_destiny=True))
    return MemoryStorage()


@dataclass
class BotApp:
    """One bot: what polling (the `bot` actor) and the webhook route both run."""

    bot: Bot
    dispatcher: Dispatcher
    api: Ppb
    messages: MessageManager

    async def prepare(self) -> None:
        """Commands in both languages and the Mini App's menu button (best effort: the bot
        still runs without them)."""
        await prepare_bot(self.bot, self.dispatcher["webapp_url"])

    async def close(self) -> None:
        await self.messages.close()
        await self.api.close()
        await self.dispatcher.storage.close()
        await self.bot.session.close()


def build_bot_app(
    settings: Settings,
    *,
    api: Ppb,
    registry: Registry,
    public_base: str | None = None,
    storage: BaseStorage | None = None,
    retry_outage_s: float = 60.0,
) -> BotApp:
    """The bot calling PPB through `api` (in process or over HTTP), its chats' message ids
    in `registry` (in this process or the `chats-<k>` shards)."""
    logsafe.install()  # aiohttp's errors carry the /bot<token>/ URL
    bot = build_bot(settings, public_base, retry_outage_s=retry_outage_s)
    messages = MessageManager(bot, registry)
    dispatcher = Dispatcher(storage=build_storage(settings) if storage is None else storage)
    i18n = build_i18n()
    throttle = Throttle(settings.bot_updates_per_s, settings.bot_burst, settings.bot_cooldown)
    every = settings.activity_every
    languages = Languages(api, fresh_s=every)  # refreshed by the activity report, as often
    dispatcher.update.outer_middleware(UpdateMetrics())  # every update counted, the dropped ones too
    dispatcher.update.outer_middleware(ThrottleMiddleware(throttle, i18n, languages))  # first: a flood costs nothing
    dispatcher.update.outer_middleware(ChatOrder())  # then each chat's updates one at a time, in order
    LocaleMiddleware(i18n, languages).setup(dispatcher)  # after the update's activity report (below)
    dispatcher.update.outer_middleware(ActivityMiddleware(api, every, languages))
    dispatcher.message.outer_middleware(TypedAnswers())  # a typed command is answered at the bottom
    dispatcher.include_routers(*get_routers())
    dispatcher["api"] = api
    dispatcher["languages"] = languages
    dispatcher["messages"] = messages
    dispatcher["settings"] = settings
    dispatcher["webapp_url"] = webapp_url(settings, public_base)
    return BotApp(bot, dispatcher, api, messages)
