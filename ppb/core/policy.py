"""The product's policy: the numbers the use cases apply, read from `Settings` by the composition root
(the core reads no configuration itself)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ppb.domain.channels import ChannelName
from ppb.domain.errors import DomainError


@dataclass(frozen=True, slots=True)
class Policy:
    max_bonus_channels: int = 5
    posts_per_channel: int = 7
    default_channels: tuple[ChannelName, ...] = field(default_factory=tuple)
    """The channels every person trains on (malformed defaults are left out)."""
    vector_model: str | None = None
    """The stored sentence vectors training sets span a channel's meaning by (None: newest posts)."""


def parse_defaults(names: list[str]) -> tuple[ChannelName, ...]:
    """The default channels that parse; a malformed default is the operator's to fix."""
    parsed: list[ChannelName] = []
    for name in names:
        try:
            parsed.append(ChannelName.parse(name))
        except DomainError:
            continue
    return tuple(parsed)
