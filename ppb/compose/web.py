"""The HTTP app of one process: the API over its services, the sandbox when configured, and
in webhook mode the webhook route feeding a bot that calls this process's core."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ppb.compose.bot import build_bot_app
from ppb.compose.core import build_services
from ppb.config import Settings

if TYPE_CHECKING:
    from ppb.http.services import Services


def wants_webhook(settings: Settings) -> bool:
    return settings.bot_mode == "webhook" and (settings.use_sandbox or settings.bot_token is not None)


def http_app(settings: Settings, services: Services | None = None, *, actors: bool = False,
             settle: bool = False) -> Any:
    """The Starlette app for one process over `services` (built here when not given); `settle`
    for a server process's own app (`build_app`)."""
    from ppb.http.app import build_app
    from ppb.http.webhook import mount_webhook

    services = build_services(settings, actors=actors) if services is None else services
    app = build_app(settings, services, settle=settle)
    if settings.use_sandbox:  # the Bot API emulator and web chat at /sandbox (DESIGN section 8)
        from ppb.sandbox.routes import mount_sandbox

        mount_sandbox(app, settings)
    if wants_webhook(settings):
        core = services.core
        mount_webhook(app, settings, lambda: build_bot_app(settings, core=core, actors=actors))
    return app
