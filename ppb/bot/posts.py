"""A post as the chat shows it: a sign of its media, its text (cut with "…" and a link to
the whole post when long), and never an empty message."""

from __future__ import annotations

from typing import Any

from aiogram import html
from aiogram.utils.i18n import gettext as _


def media_badge(media_type: str | None) -> str | None:
    badges = {
        "photo": _("📷 Photo"), "video": _("🎬 Video"), "voice": _("🎤 Voice message"),
        "audio": _("🎵 Audio"), "document": _("📎 File"), "poll": _("📊 Poll"),
    }
    return badges.get(media_type or "text")


def post_url(post: dict[str, Any]) -> str | None:
    if post.get("url"):
        return str(post["url"])
    username, message_id = post.get("channel_username"), post.get("telegram_message_id")
    return f"https://t.me/{username}/{message_id}" if username and message_id else None


def shorten(text: str, limit: int) -> tuple[str, bool]:
    """`text` within `limit` characters, cut at a word and ended with "…"; (text, was cut)."""
    if len(text) <= limit:
        return text, False
    cut = text[:limit]
    space = cut.rfind(" ")
    if space > limit * 0.8:
        cut = cut[:space]
    return cut.rstrip() + "…", True


def post_body(post: dict[str, Any], limit: int) -> str:
    """HTML for the chat: badge, quoted text, and a link to the rest when it was cut."""
    lines: list[str] = []
    badge = media_badge(post.get("media_type"))
    if badge:
        lines.append(f"<i>{badge}</i>")
    text, cut = shorten((post.get("text") or "").strip(), limit)
    if text:
        lines.append(html.quote(text))
    elif not badge:
        lines.append(_("(a post without text)"))
    url = post_url(post)
    if cut:
        lines.append(_("Read the whole post: {url}").format(url=url) if url else _("(shortened)"))
    elif badge and url:
        lines.append(_("Open the post: {url}").format(url=url))
    return "\n\n".join(lines)
