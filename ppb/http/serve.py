"""The Serve application: deployment `Api` wrapping the Starlette app, built per replica."""

from __future__ import annotations

from typing import Any

from ray import serve
from starlette.types import ASGIApp

from ppb.config import Settings, load_settings

APP_NAME = "ppb"


@serve.deployment(name="Api", max_ongoing_requests=256, health_check_period_s=5)
@serve.ingress()
class Api:
    """REST API, Mini App and webhook ingress; stateless, so replicas scale freely."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def __serve_build_asgi_app__(self) -> ASGIApp:
        from ppb.http.app import build_app
        from ppb.http.services import Services

        return build_app(self._settings, Services.from_settings(self._settings, actors=True))


def build_application(settings: Settings) -> serve.Application:
    """The bound graph `ppb up` runs."""
    return Api.options(num_replicas=settings.api_replicas).bind(settings)


def app_builder(args: dict[str, Any]) -> serve.Application:
    """Entry for `serve run` / `serve build` configs: settings from the environment."""
    return build_application(load_settings(**args))

