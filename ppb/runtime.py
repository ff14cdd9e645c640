"""`ppb up`: start (or join) Ray, run the Serve application, stop it all on a signal."""

from __future__ import annotations

import gc
import logging
import os
import signal
import threading
import time
from dataclasses import dataclass

import httpx

from ppb.config import Settings, rebind
from ppb.ingress import Ingress, check_http_port, haproxy_ingress
from ppb.reaper import mark_instance, reap

log = logging.getLogger("ppb.runtime")
READY_TIMEOUT_S = 180.0
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
ORDERLY_STOP_S = 10.0
# How long the orderly part may still take once ORDERLY_STOP_S has passed: each of its calls
# is bounded, and shutting Ray down under a call still in flight ends this process with exit
# code 1 (Ray's core worker exits the process when it is called after its shutdown).
ORDERLY_GRACE_S = 20.0
HELD_IN_RAY = {signal.SIGTERM, signal.SIGHUP}


def serve_proxy_env(settings: Settings) -> dict[str, str]:
    """Environment for Ray's processes: the fast ingress unless told otherwise (docs/serve.md)."""
    if settings.serve_proxy == "haproxy":
        return {"RAY_SERVE_ENABLE_HA_PROXY": "1", "RAY_SERVE_THROUGHPUT_OPTIMIZED": "1"}
    return {}


@dataclass
class Started:
    """What `start_ray` started, so `stop_all` ends exactly that."""

    ray: bool
    mark: str | None = None
    ingress: Ingress | None = None
    dashboard_url: str | None = None
    gcs_address: str | None = None
    """The address of the Ray this process started, for `RAY_ADDRESS=... ppb status`."""


def use_ray_token(starting: bool) -> None:
    """Ray's token authentication, said explicitly unless RAY_AUTH_MODE is set: a Ray this
    process starts has it (Ray's own default, which it announces with a warning each time),
    and a cluster this process joins gets the token Ray finds (RAY_AUTH_TOKEN, or the file
    `ray.init()` writes, ~/.ray/auth_token), also when it is named by address, where Ray
    would send none; a cluster without token authentication ignores it."""
    if os.environ.get("RAY_AUTH_MODE") is not None:
        return
    from ray._raylet import AuthenticationTokenLoader, Config

    if starting or AuthenticationTokenLoader.instance().has_token(ignore_auth_mode=True):
        os.environ["RAY_AUTH_MODE"] = "token"
        Config.initialize("")  # Ray read its config at import: make this process see the mode too


def start_ray(settings: Settings, started: Started) -> None:
    """Check the port, migrate, then start or join Ray (recording in `started` what was
    started). A Ray this process starts gets an instance mark and an HAProxy ingress of its
    own (ports, files)."""
    import ray

    from ppb.store.migrate import upgrade

    if started.ray:
        check_http_port(settings.http_host, settings.http_port)
        if settings.serve_proxy == "haproxy":
            started.ingress = haproxy_ingress(settings.http_port, access_log=settings.serve_access_log)
            started.ingress.apply()
        started.mark = mark_instance()
    upgrade(settings.async_database_url)
    for key, value in serve_proxy_env(settings).items():
        os.environ.setdefault(key, value)
    # Ray's own processes ignore SIGINT already (Ray blocks it in them); blocking SIGTERM
    # and SIGHUP too, while they are started, lets a signal to the whole process group
    # (systemd, `kill -TERM -- -PGID`, a closed terminal) reach only this process, which
    # then stops them in order: Ray gone first would leave its HAProxy running.
    held = signal.pthread_sigmask(signal.SIG_BLOCK, HELD_IN_RAY) if started.ray else None
    # A Ray of our own gets its dashboard (loopback only) unless PPB_RAY_DASHBOARD=0; a
    # joined cluster keeps whatever its operator chose.
    dashboard = {"include_dashboard": settings.ray_dashboard, "dashboard_host": "127.0.0.1"} if started.ray else {}
    use_ray_token(starting=started.ray)
    try:
        context = ray.init(
            address=settings.ray_address or "local",  # never join some other Ray found on this host
            namespace=settings.ray_namespace,
            logging_level=logging.WARNING,
            log_to_driver=False,
            **dashboard,
        )
        started.dashboard_url = getattr(context, "dashboard_url", None) or None
        if started.ray:
            started.gcs_address = context.address_info.get("gcs_address")
    finally:
        if held is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)


def ray_core_alive() -> bool:
    """Whether the Ray processes this process started still run (one killed by SIGKILL, or
    crashed, would make every orderly call wait for it)."""
    from ray._private import worker

    node = worker._global_node
    if node is None:
        return True
    for infos in node.all_processes.values():
        for info in infos:
            if info.process is not None and info.process.poll() is not None:
                return False
    return True


def deploy(settings: Settings) -> Settings:
    """Start Serve's HTTP ingress and run the application on it; returns the settings
    checked against the host Serve really binds (a joined cluster's Serve may bind another)."""
    from ray import serve

    from ppb.compose.names import APP_NAME
    from ppb.compose.serve import build_application
    from ppb.compose.serve_http import serve_http_bind

    serve.start(http_options={"host": settings.http_host, "port": settings.http_port})
    host, port = serve_http_bind()
    if (host, port) != (settings.http_host, settings.http_port):
        settings = rebind(settings, host, port)
    # The Api replicas make sure the shards, the bot, the nudger and the scraper exist
    # (ppb/actors/parts.py, running ppb/compose/parts.py's), as they do under `serve deploy`.
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


def wait_parts(settings: Settings, timeout: float = READY_TIMEOUT_S) -> None:
    """Wait until the application's parts exist (the Api replicas asked for them already;
    asking again is harmless), so the bot answers once `ppb up` says it is up."""
    import ray

    from ppb.actors.named import named_actor
    from ppb.actors.parts import NAME, PartsKeeper
    from ppb.compose.names import APP_NAME
    from ppb.compose.parts import PARTS

    keeper = named_actor(PartsKeeper, NAME, settings, APP_NAME, PARTS)
    ray.get(keeper.ensure.remote(settings), timeout=timeout)


def stop_part(settings: Settings, started: Started) -> None:
    """The orderly part of a stop: the bot ends its polling; on a joined cluster, the
    application's parts and deployments come off it (a local Ray goes whole with
    `ray.shutdown`)."""
    from ray import serve

    from ppb.actors.bot import stop_bot
    from ppb.compose.names import APP_NAME
    from ppb.compose.parts import stop_application_parts

    if started.ray:
        stop_bot(settings, timeout=ORDERLY_STOP_S / 2)  # a bot still starting may never answer
        return
    stop_application_parts(settings)  # a cluster we joined keeps running: take only our part off it
    serve.delete(APP_NAME)


def stop_all(settings: Settings, started: Started) -> None:
    """Stop what `start_ray` started. A signal to the whole process group may have ended
    Ray's own processes already: then the orderly part is skipped (or cut short, since
    nothing would answer) and what is left is ended by its instance mark."""
    import ray

    try:
        if ray.is_initialized() and ray_core_alive():
            worker = threading.Thread(target=stop_part, args=(settings, started), daemon=True)
            worker.start()
            worker.join(ORDERLY_STOP_S)
            if worker.is_alive():
                log.warning("Ray did not answer within %.0f s; waiting up to %.0f s more", ORDERLY_STOP_S,
                            ORDERLY_GRACE_S)
                worker.join(ORDERLY_GRACE_S)
            if worker.is_alive():
                log.warning("Ray did not answer; stopping what is left")
    finally:
        # Garbage still holding Ray references (the frames of a start-up cut short by the
        # signal) is freed now, while Ray can take the release, not during its shutdown.
        gc.collect()
        ray.shutdown()  # a local Ray we started goes with everything in it
        if started.mark is not None:
            left = reap(started.mark)  # what outlived it (an HAProxy whose actor was killed)
            if left:
                log.info("ended %d process(es) left by Ray: %s", len(left), left)
        if started.ingress is not None:
            started.ingress.remove()


def up_banner(settings: Settings, gcs_address: str | None = None) -> str:
    """"PPB is up" with the address, then each thing the server answers at, one a line, and
    the address of the Ray it started (several may run on one host: `auto` finds the newest)."""
    from ppb.http.home import places

    host = f"[{settings.http_host}]" if ":" in settings.http_host else settings.http_host
    base = f"http://{host}:{settings.http_port}"
    lines = [f"PPB is up: {base}/ (Ctrl+C stops it)"]
    found = places(settings)
    width = max(len(place.name) for place in found) + 1
    lines += [f"  {place.name + ':':<{width}} {base}{place.path}" + (f" ({place.hint})" if place.hint else "")
              for place in found]
    if gcs_address:
        lines.append(f"  {'Ray:':<{width}} {gcs_address} (RAY_ADDRESS={gcs_address} ppb status)")
    return "\n".join(lines)


class Stopping(Exception):
    """A stop signal arrived while PPB was still starting."""


def run_until_signalled(settings: Settings) -> int:
    stop = threading.Event()
    starting = [True]

    def on_signal(*_: object) -> None:
        stop.set()
        if starting[0]:  # break out of whatever start-up waits on (Ray may be gone already)
            starting[0] = False
            raise Stopping()

    def install_handlers() -> None:
        for signum in STOP_SIGNALS:
            signal.signal(signum, on_signal)

    started = Started(ray=not settings.ray_address)
    install_handlers()
    try:
        start_ray(settings, started)
        install_handlers()  # ray.init replaces them with its own, which exit at once
        settings = deploy(settings)
        if not wait_ready(settings, stop):
            if stop.is_set():
                return 0
            log.error("PPB did not become ready within %.0f s", READY_TIMEOUT_S)
            return 1
        wait_parts(settings)
        starting[0] = False
        if started.dashboard_url:
            print(f"Ray dashboard: http://{started.dashboard_url}/", flush=True)
        print(up_banner(settings, started.gcs_address), flush=True)
        stop.wait()
        print("PPB is stopping", flush=True)
        return 0
    except Exception as error:
        # A stop signal during start-up: Ray may hand our Stopping back wrapped (a SystemError
        # from the call it interrupted), so the event decides, not the exception's type.
        if not (stop.is_set() or isinstance(error, Stopping)):
            raise
        print("PPB is stopping (it was still starting)", flush=True)
        return 0
    finally:
        starting[0] = False
        stop_all(settings, started)
