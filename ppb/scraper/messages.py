"""Telethon messages -> PPB posts: service messages dropped, an album (`grouped_id`) one post."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ppb.domain.formatting import Formatted, join
from ppb.domain.interactions import MediaType
from ppb.domain.telegram_html import render_or_none
from ppb.scraper.media import poll_text, telethon_media_type
from ppb.scraper.text import flatten_entities, join_texts, telethon_formatted
from ppb.store.queries import NewPost, as_utc


def is_content(message: Any) -> bool:
    """Service messages (joins, pins, title changes) and empty slots carry no post."""
    return getattr(message, "action", None) is None and getattr(message, "date", None) is not None


def message_text(message: Any) -> str:
    media = getattr(message, "media", None)
    if type(media).__name__ == "MessageMediaPoll":
        poll = media.poll
        question = _plain(poll.question)
        answers = [_plain(answer.text) for answer in poll.answers]
        caption = flatten_entities(getattr(message, "message", None), getattr(message, "entities", None))
        return join_texts([poll_text(question, answers), caption])
    return flatten_entities(getattr(message, "message", None), getattr(message, "entities", None))


def message_formatted(message: Any) -> Formatted:
    """The message's text with its entities, as the chat shows it (a poll's question and
    answers as plain lines, its caption formatted)."""
    caption = telethon_formatted(getattr(message, "message", None), getattr(message, "entities", None))
    media = getattr(message, "media", None)
    if type(media).__name__ == "MessageMediaPoll":
        poll = media.poll
        lines = poll_text(_plain(poll.question), [_plain(answer.text) for answer in poll.answers])
        return join([Formatted(lines), caption])
    return caption


def _plain(value: Any) -> str:
    """A poll's question or answer: a string in old layers, `TextWithEntities` in newer ones."""
    if isinstance(value, str):
        return value
    return flatten_entities(getattr(value, "text", ""), getattr(value, "entities", None))


def to_post(parts: Sequence[Any]) -> NewPost | None:
    """One post from a message or an album's messages; None when nothing is in it."""
    ordered = sorted(parts, key=lambda message: message.id)
    first = ordered[0]
    kinds = [telethon_media_type(getattr(message, "media", None)) for message in ordered]
    media_type = next((kind for kind in kinds if kind != MediaType.TEXT), MediaType.TEXT)
    text = join_texts(message_text(message) for message in ordered)
    if not text and media_type == MediaType.TEXT:
        return None
    html = render_or_none(join(message_formatted(message) for message in ordered))
    return NewPost(first.id, text, media_type.value, as_utc(first.date), html)


def edited_at(parts: Sequence[Any]) -> datetime | None:
    """When the post (any of an album's messages) was last edited; None if never."""
    dates = [as_utc(message.edit_date) for message in parts if getattr(message, "edit_date", None)]
    return max(dates) if dates else None


@dataclass(frozen=True, slots=True)
class ReadPost:
    """A post as read from Telegram, with the time of its newest edit (None: never edited)."""

    post: NewPost
    edited_at: datetime | None = None


def read_post(parts: Sequence[Any]) -> ReadPost | None:
    post = to_post(parts)
    return None if post is None else ReadPost(post, edited_at(parts))


def group_key(message: Any) -> tuple[str, int]:
    grouped = getattr(message, "grouped_id", None)
    return ("album", grouped) if grouped else ("message", message.id)


class PostAssembler:
    """Collects messages in the order read and hands back finished posts.

    An album's messages are adjacent in any listing, so a group is finished as soon as a
    message of another group arrives; `finished` counts them so a reader can stop.
    """

    def __init__(self) -> None:
        self._groups: list[list[Any]] = []
        self._current: tuple[str, int] | None = None

    def add(self, message: Any) -> None:
        if not is_content(message):
            return
        key = group_key(message)
        if key != self._current or not self._groups:
            self._groups.append([])
            self._current = key
        self._groups[-1].append(message)

    @property
    def started(self) -> int:
        return len(self._groups)

    def posts(self, complete_only: bool = False, limit: int | None = None) -> list[ReadPost]:
        groups = self._groups[:-1] if complete_only else self._groups
        if limit is not None:
            groups = groups[:limit]
        built = (read_post(group) for group in groups)
        return [post for post in built if post is not None]
