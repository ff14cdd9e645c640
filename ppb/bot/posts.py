"""A post as the chat shows it: a sign of its media, its text with the formatting it had in its
channel (cut with "…" and a link to the whole post when long), and never an empty message.

Every message that carries a post (a feed post, a live push, a nudge) is built by
`post_message`, with the other channels its story appeared in; the digest's one-line
snippets by `snippet`. A post is cut as text and entities and rendered after, so a cut never
falls inside a tag, an entity or an escape."""

from __future__ import annotations

from typing import Any

from aiogram import html
from aiogram.utils.i18n import gettext as _

from ppb.domain.formatting import Formatted, shorten, squash, strip
from ppb.domain.telegram_html import MarkupError, parse, render

TEXT_LIMIT = 3500
"""Characters of a post's text in a message (Telegram allows 4096 after the markup is read)."""


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


def formatted(post: dict[str, Any]) -> Formatted:
    """The post's text with its formatting, read back from its `html`; a post without (an older
    row, or markup PPB did not write) is its plain text."""
    markup = post.get("html")
    if markup:
        try:
            return parse(markup)
        except MarkupError:
            pass
    return Formatted(post.get("text") or "")


def post_body(post: dict[str, Any], limit: int = TEXT_LIMIT) -> str:
    """HTML for the chat: badge, the formatted text, and a link to the rest when it was cut."""
    lines: list[str] = []
    badge = media_badge(post.get("media_type"))
    if badge:
        lines.append(f"<i>{badge}</i>")
    text, cut = shorten(strip(formatted(post)), limit)
    if text.text:
        lines.append(render(text))
    elif not badge:
        lines.append(_("(a post without text)"))
    url = post_url(post)
    if cut:
        lines.append(_("Read the whole post: {url}").format(url=html.quote(url)) if url else _("(shortened)"))
    elif badge and url:
        lines.append(_("Open the post: {url}").format(url=html.quote(url)))
    return "\n\n".join(lines)


def post_message(post: dict[str, Any], icon: str = "📰", *, header: str | None = None,
                 limit: int = TEXT_LIMIT) -> str:
    """A post as one message: a header line if any, the channel's title after `icon`, the body."""
    title = f"{icon} <b>{html.quote(post.get('channel_title') or '')}</b>"
    return "\n\n".join(part for part in (header, title, post_body(post, limit), also_in(post)) if part)


def also_in(post: dict[str, Any]) -> str | None:
    """"Also in @a, @b": the other channels its story appeared in (copies collapsed into it),
    each linked to its copy when it can be."""
    links = []
    for other in post.get("also_in") or []:
        username = other.get("channel_username")
        name = html.quote(f"@{username}" if username else other.get("channel_title") or "")
        links.append(f'<a href="{html.quote(other["url"])}">{name}</a>' if other.get("url") else name)
    return _("🔁 Also in {channels}").format(channels=", ".join(links)) if links else None


def nudge_message(post: dict[str, Any]) -> str:
    """A nudge, however it is sent (through the outbox, or by the nudger's own sender)."""
    return post_message(post, header=_("🔔 While you were away, this one is for you:"))


def snippet(post: dict[str, Any], limit: int) -> str:
    """The post on one line within `limit` characters, inline formatting kept (no blocks)."""
    short, _cut = shorten(squash(formatted(post)), limit)
    return render(short)
