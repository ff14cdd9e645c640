"""Telegram Desktop's JSON export (`result.json`) -> channels and their posts.

Two shapes: one chat (`{"name", "type", "id", "messages"}`) or a full export whose
`chats.list` holds many (only channels are taken). Albums carry no id in an export, so
consecutive media messages posted in the same second are one post, as Telegram shows them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from ppb.domain.formatting import Formatted, clip, join, units
from ppb.domain.interactions import MediaType
from ppb.domain.telegram_html import render_or_none
from ppb.scraper.media import export_media_type, poll_text
from ppb.scraper.sync import marked_channel_id
from ppb.scraper.text import export_formatted, flatten_export_text, join_texts
from ppb.store.queries import NewPost

CHANNEL_TYPES = {"public_channel", "private_channel"}
MAX_TEXT = 65536


class ExportError(ValueError):
    """The file is not a usable export; the message says what is wrong and where."""


@dataclass
class ChannelExport:
    telegram_id: int
    title: str
    posts: list[NewPost] = field(default_factory=list)
    skipped: int = 0
    """Service messages and empty messages left out."""


@dataclass
class Export:
    channels: list[ChannelExport]
    other_chats: int = 0
    """Chats of a full export that are not channels (people, groups, bots), left out."""


def read_export(path: Path) -> Export:
    """Read and check the whole file before anything is written."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ExportError(f"{path}: cannot read it ({error.strerror or error})") from None
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise ExportError(f"{path.name}: not valid JSON ({error})") from None
    return parse_export(data, path.name)


def parse_export(data: Any, source: str) -> Export:
    if not isinstance(data, dict):
        raise ExportError(f"{source}: expected a JSON object, got {_kind(data)}")
    if "messages" in data:
        return Export([parse_chat(data, source, single=True)])
    chats = data.get("chats")
    if isinstance(chats, dict) and "list" in chats:
        listed = chats["list"]
        if not isinstance(listed, list):
            raise ExportError(f"{source}: chats.list: expected a list, got {_kind(listed)}")
        export = Export([])
        for index, chat in enumerate(listed):
            where = f"{source}: chats.list[{index}]"
            if not isinstance(chat, dict):
                raise ExportError(f"{where}: expected an object, got {_kind(chat)}")
            if chat.get("type") in CHANNEL_TYPES:
                export.channels.append(parse_chat(chat, where, single=False))
            else:
                export.other_chats += 1
        return export
    raise ExportError(
        f"{source}: neither a chat export (no 'messages') nor a full export (no 'chats.list'); "
        "export a channel from Telegram Desktop as JSON"
    )


def parse_chat(chat: dict[str, Any], where: str, *, single: bool) -> ChannelExport:
    kind = chat.get("type")
    if single and kind is not None and kind not in CHANNEL_TYPES:
        raise ExportError(f"{where}: this is a {kind} export, not a channel's")
    bare = chat.get("id")
    if not isinstance(bare, int) or isinstance(bare, bool):
        raise ExportError(f"{where}: 'id' must be the channel's number, got {bare!r}")
    name = chat.get("name")
    title = name.strip() if isinstance(name, str) and name.strip() else f"Channel {bare}"
    messages = chat.get("messages")
    if not isinstance(messages, list):
        raise ExportError(f"{where}: 'messages' must be a list, got {_kind(messages)}")
    channel = ChannelExport(marked_channel_id(bare), title[:256])
    _collect(messages, f"{where}: messages", channel)
    return channel


def _collect(messages: list[Any], where: str, channel: ChannelExport) -> None:
    album: list[tuple[dict[str, Any], str]] = []
    album_key: object = None
    for index, message in enumerate(messages):
        spot = f"{where}[{index}]"
        if not isinstance(message, dict):
            raise ExportError(f"{spot}: expected an object, got {_kind(message)}")
        if message.get("type", "message") != "message":
            channel.skipped += 1  # service messages: joins, pins, title changes
            continue
        spot = f"{spot} (id {message.get('id')})"
        _check_id(message, spot)
        has_media = any(key in message for key in ("photo", "file", "media_type"))
        key = _date_key(message, spot) if has_media and "poll" not in message else None
        if album and key is not None and key == album_key:
            album.append((message, spot))
            continue
        _flush(album, channel)
        album, album_key = [(message, spot)], key
    _flush(album, channel)


def _flush(parts: list[tuple[dict[str, Any], str]], channel: ChannelExport) -> None:
    if not parts:
        return
    first, spot = parts[0]
    kinds = [export_media_type(message) for message, _ in parts]
    media = next((kind for kind in kinds if kind != MediaType.TEXT), MediaType.TEXT)
    text = join_texts(_text(message, where) for message, where in parts)
    if not text and media == MediaType.TEXT:
        channel.skipped += len(parts)
        return
    formatted = join(_formatted(message, where) for message, where in parts)
    html = None
    if formatted.entities:
        if len(formatted.text) > MAX_TEXT:
            kept = formatted.text[:MAX_TEXT]
            formatted = Formatted(kept, clip(formatted, 0, units(kept)))
        html = render_or_none(formatted)
    channel.posts.append(NewPost(first["id"], text[:MAX_TEXT], media.value, _posted_at(first, spot), html))


def _text(message: dict[str, Any], spot: str) -> str:
    try:
        text = flatten_export_text(message.get("text"), spot)
    except ValueError as error:
        raise ExportError(str(error)) from None
    poll = message.get("poll")
    if poll is None:
        return text
    if not isinstance(poll, dict):
        raise ExportError(f"{spot}.poll: expected an object, got {_kind(poll)}")
    answers = poll.get("answers") or []
    if not isinstance(answers, list):
        raise ExportError(f"{spot}.poll.answers: expected a list, got {_kind(answers)}")
    options = [str(answer.get("text", "")) if isinstance(answer, dict) else str(answer) for answer in answers]
    return join_texts([poll_text(str(poll.get("question") or ""), options), text])


def _formatted(message: dict[str, Any], spot: str) -> Formatted:
    """The message's text with its formatting (a poll's question and answers as plain lines)."""
    try:
        caption = export_formatted(message, spot)
    except ValueError as error:
        raise ExportError(str(error)) from None
    poll = message.get("poll")
    if not isinstance(poll, dict):
        return caption
    answers = poll.get("answers") or []
    options = [str(answer.get("text", "")) if isinstance(answer, dict) else str(answer) for answer in answers]
    return join([Formatted(poll_text(str(poll.get("question") or ""), options)), caption])


def _check_id(message: dict[str, Any], spot: str) -> None:
    value = message.get("id")
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 2**53:
        raise ExportError(f"{spot}: 'id' must be a positive message number, got {value!r}")


def _date_key(message: dict[str, Any], spot: str) -> object:
    return message.get("date_unixtime") or _posted_at(message, spot)


def _posted_at(message: dict[str, Any], spot: str) -> datetime:
    """`date_unixtime` when present (exact); else `date`, local time of the export, read as UTC."""
    unix = message.get("date_unixtime")
    if unix is not None:
        try:
            return datetime.fromtimestamp(int(unix), UTC)
        except (TypeError, ValueError, OverflowError, OSError):
            raise ExportError(f"{spot}: 'date_unixtime' is not a Unix time ({unix!r})") from None
    value = message.get("date")
    if not isinstance(value, str):
        raise ExportError(f"{spot}: 'date' is required (an ISO date such as 2024-01-15T10:30:00)")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ExportError(f"{spot}: 'date' is not a date ({value!r})") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _kind(value: object) -> str:
    return {dict: "an object", list: "a list", str: "a string", type(None): "null"}.get(type(value), type(value).__name__)
