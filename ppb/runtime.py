"""`ppb up`: start (or join) Ray, run the Serve application, stop it all on a signal."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time

import httpx

from ppb.config import Settings, rebind

log = logging.getLogger("ppb.runtime")
READY_TIMEOUT_S = 180.0


def serve_proxy_env(settings: Settings) -> dict[str, str]:
    """Environment for Ray's processes: the fast ingress unless told otherwise (docs/serve.md)."""
    if settings.serve_proxy == "haproxy":
        return {"RAY_SERVE_ENABLE_HA_PROXY": "1", "RAY_SERVE_THROUGHPUT_OPTIMIZED": "1"}
    return {}


def start_ray(settings: Settings) -> bool:
    """Migrate, then start or join Ray; returns whether this process started Ray."""
    import ray

    from ppb.store.migrate import upgrade

    upgrade(settings.async_database_url)
    for key, value in serve_proxy_env(settings).items():
        os.environ.setdefault(key, value)
    started_ray = not settings.ray_address
    ray.init(
        address=settings.ray_address or "local",  # never join some other Ray found on this host
        namespace=settings.ray_namespace,
        include_dashboard=False,
        logging_level=logging.WARNING,
        log_to_driver=False,
    )
    return started_ray


def deploy(settings: Settings) -> Settings:
    """Start Serve's HTTP ingress and run the application on it; returns the settings
    checked against the host Serve really binds (a joined cluster's Serve may bind another)."""
    from ray import serve

    from ppb.actors.remote import ChatShards, UserShards
    from ppb.http.serve import APP_NAME, build_application, serve_http_bind

    serve.start(http_options={"host": settings.http_host, "port": settings.http_port})
    host, port = serve_http_bind()
    if (host, port) != (settings.http_host, settings.http_port):
        settings = rebind(settings, host, port)
    UserShards(settings).shards.start_all()
    ChatShards(settings).shards.start_all()
    serve.run(build_application(settings), name=APP_NAME, route_prefix="/", blocking=False)
    return settings


def wait_ready(settings: Settings, stop: threading.Event, timeout: float = READY_TIMEOUT_S) -> bool:
    """Poll /readyz until it answers 200 (or `stop` is set, or the deadline passes)."""
    url = f"http://{settings.http_host}:{settings.http_port}/readyz"
    deadline = time.monotonic() + timeout
    while not stop.is_set() and time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2.0).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        stop.wait(0.25)
    return False


def stop_all(settings: Settings, started_ray: bool) -> None:
    import ray
    from ray import serve

    from ppb.actors.remote import ChatShards, UserShards
    from ppb.http.serve import APP_NAME

    try:
        from ppb.actors.bot import stop_bot
        from ppb.actors.nudger_actor import stop_nudger

        stop_bot(settings)
        stop_nudger(settings)
        if not started_ray:  # a cluster we joined keeps running: take only our part off it
            serve.delete(APP_NAME)
            UserShards(settings).shards.kill_all()
            ChatShards(settings).shards.kill_all()
            if settings.telethon_session is not None:
                from ppb.actors.scraper import RayScraperClient

                RayScraperClient(settings).kill()
    finally:
        ray.shutdown()  # a local Ray we started goes with everything in it


def run_until_signalled(settings: Settings) -> int:
    stop = threading.Event()

    def on_signal(*_: object) -> None:
        stop.set()

    def install_handlers() -> None:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, on_signal)

    install_handlers()
    started_ray = start_ray(settings)
    install_handlers()  # ray.init replaces them with its own, which exit at once
    try:
        settings = deploy(settings)
        if not wait_ready(settings, stop):
            if stop.is_set():
                return 0
            log.error("PPB did not become ready within %.0f s", READY_TIMEOUT_S)
            return 1
        from ppb.actors.bot import start_for, wants_bot
        from ppb.actors.nudger_actor import start_nudger

        start_for(settings)  # the bot: polling in the `bot` actor, or the webhook registered
        if wants_bot(settings):
            start_nudger(settings)  # retention: a pass every NUDGE_CHECK_INTERVAL seconds
        print(f"PPB is up: http://{settings.http_host}:{settings.http_port}/ (Ctrl+C stops it)", flush=True)
        stop.wait()
        print("PPB is stopping", flush=True)
        return 0
    finally:
        stop_all(settings, started_ray)
