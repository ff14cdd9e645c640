"""`ppb status`: what runs on the cluster, asked of Serve and of each part (nothing is created)."""

from __future__ import annotations

import logging
import time
from typing import Any

from ppb.config import Settings

ASK_TIMEOUT_S = 10.0
PROBE_TIMEOUT_S = 3.0


def _actor(name: str, settings: Settings) -> Any:
    import ray

    try:
        return ray.get_actor(name, namespace=settings.ray_namespace)
    except ValueError:
        return None


def _ask(handle: Any, method: str) -> Any:
    """A part's answer, or a dict saying why there is none."""
    import ray

    if handle is None:
        return None
    try:
        return ray.get(getattr(handle, method).remote(), timeout=ASK_TIMEOUT_S)
    except Exception as error:  # a part restarting, or gone while asked
        return {"error": f"{type(error).__name__}: {error}"[:200]}


def applications() -> dict[str, Any]:
    from ray import serve

    try:
        status = serve.status()
    except Exception as error:  # no Serve on this cluster
        return {"error": f"{type(error).__name__}: {error}"[:200]}
    return {
        name: {
            "status": str(getattr(app.status, "value", app.status)),
            "deployments": {
                deployment: {
                    "status": str(getattr(info.status, "value", info.status)),
                    "replicas": {str(getattr(k, "value", k)): v for k, v in info.replica_states.items()},
                }
                for deployment, info in app.deployments.items()
            },
        }
        for name, app in status.applications.items()
    }


def gather(settings: Settings) -> dict[str, Any]:
    """Everything `ppb status` prints, as data (Ray must be connected)."""
    from ppb.actors import bot, embedder_actor, nudger_actor, parts
    from ppb.actors.routing import shard_name
    from ppb.actors.scraper import actor_name
    from ppb.metrics import metrics_targets

    keeper = _ask(_actor(parts.NAME, settings), "status")
    counts = keeper if isinstance(keeper, dict) and "user_shards" in keeper else {}
    shards: dict[str, list[Any]] = {}
    for kind, count in (("users", counts.get("user_shards", settings.user_shards)),
                        ("chats", counts.get("chat_shards", settings.chat_shards))):
        shards[kind] = [
            _ask(_actor(shard_name(kind, index), settings), "stats") or {"index": index, "missing": True}
            for index in range(count)
        ]
    bot_handle = _actor(bot.NAME, settings)
    scraper = _actor(actor_name(settings), settings) if settings.telethon_session is not None else None
    targets = metrics_targets()
    return {
        "applications": applications(),
        "parts": keeper,
        "bot": {"mode": (keeper or {}).get("bot_mode") if isinstance(keeper, dict) else None,
                "polling": _ask(bot_handle, "running") if bot_handle is not None else False},
        "nudger": _ask(_actor(nudger_actor.NAME, settings), "status"),
        "scraper": _ask(scraper, "status"),
        "shards": shards,
        "embedders": [_ask(_actor(f"{embedder_actor.PREFIX}{part}", settings), "stats")
                      for part in range(settings.embedders if settings.embeddings != "off" else 0)],
        "metrics": metrics_addresses(targets),
        "metrics_targets": targets,
    }


def app_metrics_url() -> str | None:
    """The application's `/metrics` (every process summed) where Serve's HTTP ingress listens;
    on every interface, this host's loopback reaches it."""
    from ppb.compose.serve_http import serve_http_bind

    host, port = serve_http_bind()
    if port is None:
        return None
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    return f"http://{f'[{host}]' if ':' in host else host}:{port}/metrics"


def answers(url: str) -> bool:
    import httpx

    try:
        return httpx.get(url, timeout=PROBE_TIMEOUT_S).status_code == 200
    except httpx.HTTPError:
        return False


def metrics_addresses(targets: list[str]) -> list[dict[str, Any]]:
    """Where metrics can be read, each tried from here: the application's summed view first,
    then every node's Ray agent (`ray_ppb_*`, one series per process: what Prometheus scrapes)."""
    found = []
    url = app_metrics_url()
    if url is not None:
        found.append({"url": url, "what": "the application, summed", "answers": answers(url)})
    for target in targets:
        url = f"http://{target}/metrics"
        found.append({"url": url, "what": "Ray's agent, per process", "answers": answers(url)})
    return found


def render(status: dict[str, Any], now: float | None = None) -> str:
    """The lines `ppb status` prints."""
    now = time.time() if now is None else now
    lines: list[str] = []
    apps = status["applications"]
    if "error" in apps:
        lines.append(f"serve: not running ({apps['error']})")
    elif not apps:
        lines.append("serve: no applications")
    for name, app in apps.items() if "error" not in apps else ():
        lines.append(f"application {name}: {app['status']}")
        for deployment, info in app["deployments"].items():
            total = sum(info["replicas"].values())
            states = ", ".join(f"{state} {n}" for state, n in sorted(info["replicas"].items()))
            lines.append(f"  {deployment}: {info['status']}, {total} replica{'s' if total != 1 else ''} ({states})")
    keeper = status["parts"]
    if keeper is None:
        lines.append("parts: not started (no Api replica has started yet)")
    bot = status["bot"]
    polling = " (polling now)" if bot["polling"] is True else " (not polling)" if bot["mode"] == "polling" else ""
    lines.append(f"bot: {bot['mode'] or 'unknown'}{polling}")
    nudger = status["nudger"]
    if nudger is None:
        lines.append("nudger: not running")
    elif "error" in nudger:
        lines.append(f"nudger: not answering ({nudger['error']})")
    else:
        last = nudger["last_pass"]
        when = "no pass yet" if last is None else (
            f"last pass {now - last['at']:.0f} s ago: "
            + ", ".join(f"{key} {value}" for key, value in last["report"].items())
        )
        lines.append(f"nudger: every {nudger['interval_s']:g} s; {when}")
    scraper = status["scraper"]
    if scraper is None:
        lines.append("scraper: none (no TELETHON_SESSION)")
    elif "error" in scraper:
        lines.append(f"scraper: not answering ({scraper['error']})")
    elif scraper.get("problem"):
        lines.append(f"scraper {scraper['name']}: NOT WORKING: {scraper['problem']}")
    else:
        lines.append(f"scraper {scraper['name']}: {'started' if scraper['started'] else 'not started'}, "
                     f"{scraper['watched']} watched, {scraper['queued']} queued, flood wait {scraper['flood_wait']} s")
    for kind, shards in status["shards"].items():
        parts = []
        for index, shard in enumerate(shards):
            if shard.get("missing"):
                parts.append(f"{kind}-{index}: missing")
            elif "error" in shard:
                parts.append(f"{kind}-{index}: not answering")
            else:
                parts.append(f"{kind}-{index}: {shard['active']} keys on node {shard['node'][:8]}")
        lines.append(f"{kind} shards ({len(shards)}): " + "; ".join(parts))
    embedders = []
    for part, embedder in enumerate(status.get("embedders", [])):
        if embedder is None:
            embedders.append(f"embedder-{part}: not running")
        elif "error" in embedder or not embedder.get("ready"):
            embedders.append(f"embedder-{part}: not ready")
        else:
            embedders.append(f"embedder-{part}: {embedder['embedded']} embedded, {embedder['waiting']} waiting"
                             f" ({embedder['model']})")
    if embedders:
        lines.append(f"embedders ({len(embedders)}): " + "; ".join(embedders))
    shown = [f"{place['url']} ({place['what']}{'' if place['answers'] else '; not answering from here'})"
             for place in status["metrics"]]
    lines.append("metrics: " + ("; ".join(shown) or "none"))
    return "\n".join(lines)


def connect(settings: Settings) -> None:
    import ray

    from ppb.runtime import use_ray_token

    use_ray_token(starting=False)  # no warning, and a cluster named by address gets the token too
    ray.init(address=settings.ray_address or "auto", namespace=settings.ray_namespace,
             logging_level=logging.WARNING, log_to_driver=False)
