"""PPB's named actors (`bot`, `nudger`, the shards): one of each per namespace, detached so
it outlives whoever created it, found again by name."""

from __future__ import annotations

from typing import Any

import ray

from ppb.config import Settings


def named_actor(actor_class: Any, name: str, settings: Settings, *args: Any, **options: Any) -> Any:
    """The actor of that name, created with `args` if it does not exist yet."""
    return actor_class.options(
        name=name, namespace=settings.ray_namespace, get_if_exists=True, lifetime="detached", **options
    ).remote(settings, *args)


def kill_named(name: str, settings: Settings) -> bool:
    """Stop the actor of that name for good; False when there was none."""
    try:
        ray.kill(ray.get_actor(name, namespace=settings.ray_namespace), no_restart=True)
    except ValueError:
        return False
    return True
