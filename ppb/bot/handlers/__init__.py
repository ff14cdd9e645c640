"""The bot's routers, one per flow, in the order they are tried (catch-alls last).

aiogram attaches a router to one dispatcher only, so each dispatcher (the polling actor,
each webhook replica, each test) gets fresh routers carrying the modules' handlers.
"""

from __future__ import annotations

from aiogram import Router

from ppb.bot.handlers import channels, commands, digest, errors, feed, language, settings, start, training, why

FLOWS = (errors, start, language, training, feed, why, digest, settings, channels, commands)


def _fresh(router: Router) -> Router:
    copy = Router(name=router.name)
    for name, observer in router.observers.items():
        copy.observers[name].handlers.extend(observer.handlers)
    return copy


def get_routers() -> list[Router]:
    return [_fresh(flow.router) for flow in FLOWS]
