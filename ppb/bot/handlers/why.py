""""Why this post?": the ❓ under a feed post, a push, a nudge or a digest entry answers with
the model's own reasons (`POST /posts/explain`), in an alert over the chat: nothing is left
in the chat to tidy away."""

from __future__ import annotations

from typing import Any

from aiogram import Router
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _

from ppb.bot.keyboards.callbacks import Why
from ppb.core.ppb import Ppb
from ppb.domain.errors import NotFound

router = Router(name="why")

ALERT_CHARS = 200
"""Telegram's limit on a callback answer's text."""
QUOTE_CHARS = 48


def _quote(text: str) -> str:
    return text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 1].rstrip() + "…"


def _line(reason: dict[str, Any], quoted: set[int]) -> str | None:
    """One reason in the person's language; a liked post is quoted once."""
    kind, detail = reason["kind"], reason.get("detail") or ""
    fresh = [post for post in reason.get("posts", []) if post["id"] not in quoted]
    quote = _quote(fresh[0]["quote"]) if fresh else None
    if quote is not None:
        quoted.add(fresh[0]["id"])
    if kind == "must":
        return _("📌 It has your must-see word “{word}”.").format(word=detail)
    if kind == "explore":
        return _("🧭 A topic you haven't rated yet: one post in ten is there to find what else you like.")
    if kind == "liked":
        return _("👍 Like a post you liked: “{quote}”").format(quote=quote) if quote else _("👍 Like posts you liked.")
    if kind == "text":
        return (_("✍️ Written like posts you liked: “{quote}”").format(quote=quote) if quote
                else _("✍️ Written like posts you liked."))
    if kind == "peers":
        return _("👥 People who like what you like liked it.")
    if kind == "channel":
        return _("📺 {channel} has a good record with you and other readers.").format(channel=detail)
    if kind == "dial":
        return _("🔼 You turned {channel} up.").format(channel=detail)
    return None


def why_text(found: dict[str, Any]) -> str:
    """The reasons, strongest first, as many as fit in an alert."""
    text = _("Why this post:")
    quoted: set[int] = set()
    told = 0
    for reason in found.get("reasons", []):
        line = _line(reason, quoted)
        if line is None or len(text) + 1 + len(line) > ALERT_CHARS:
            continue
        text, told = f"{text}\n{line}", told + 1
    if not told:
        return _("Nothing stood out: it is simply among the best posts left in your channels.")
    return text


@router.callback_query(Why.filter())
async def why(query: CallbackQuery, callback_data: Why, api: Ppb) -> None:
    try:
        found = await api.explain(query.from_user.id, callback_data.post_id)
    except NotFound:
        await query.answer(_("This post is no longer available."), show_alert=True)
        return
    await query.answer(why_text(found), show_alert=True)
