"""Where Serve's HTTP proxies bind, asked of Serve's controller (`ppb up`, `ppb status`,
`serve deploy`'s builder)."""

from __future__ import annotations


def serve_http_bind() -> tuple[str, int | None]:
    """The host and port Serve's HTTP proxies really bind, asked of Serve's controller;
    every interface when that cannot be known (the safe assumption)."""
    import ray

    if not ray.is_initialized():
        return "0.0.0.0", None
    try:
        from ray.serve._private.constants import SERVE_CONTROLLER_NAME, SERVE_NAMESPACE

        controller = ray.get_actor(SERVE_CONTROLLER_NAME, namespace=SERVE_NAMESPACE)
        options = ray.get(controller.get_http_config.remote(), timeout=30)
    except Exception:  # no controller yet, or it does not answer: assume the widest bind
        return "0.0.0.0", None
    return str(options.host or "0.0.0.0"), int(options.port)
