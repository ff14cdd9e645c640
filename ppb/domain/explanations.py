"""Where a person asked why a post is in their feed (the explanations PPB records)."""

from __future__ import annotations

from enum import StrEnum


class Surface(StrEnum):
    CHAT = "chat"  # the bot's ❓ under a feed post, push, nudge or digest
    MINIAPP = "miniapp"  # the Mini App's "why" on a feed card
    API = "api"  # POST /api/v1/posts/explain from anyone else


NO_REASON = "none"
"""The lead recorded when nothing stood out (an explanation without reasons)."""
