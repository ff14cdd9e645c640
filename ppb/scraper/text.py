"""A post's text two ways: plain text that keeps its meaning (hidden links spelled out), which
ranking and the filters read, and the formatted text (entities), which the chat shows."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ppb.domain.formatting import Entity, Formatted, units

LINK_ENTITIES = {"MessageEntityTextUrl"}
"""Telethon entities whose target is not visible in the text itself."""

TELETHON_TYPES = {
    "MessageEntityBold": "bold", "MessageEntityItalic": "italic", "MessageEntityUnderline": "underline",
    "MessageEntityStrike": "strikethrough", "MessageEntitySpoiler": "spoiler", "MessageEntityCode": "code",
    "MessageEntityPre": "pre", "MessageEntityBlockquote": "blockquote", "MessageEntityTextUrl": "text_link",
    "MessageEntityUrl": "url", "MessageEntityEmail": "email", "MessageEntityMention": "mention",
    "MessageEntityMentionName": "text_mention", "MessageEntityHashtag": "hashtag",
    "MessageEntityCashtag": "cashtag", "MessageEntityBotCommand": "bot_command",
    "MessageEntityPhone": "phone_number", "MessageEntityCustomEmoji": "custom_emoji",
}
"""Telethon's entity classes as the Bot API names them (others, such as bank cards, are text)."""

EXPORT_TYPES = {
    "bold": "bold", "italic": "italic", "underline": "underline", "strikethrough": "strikethrough",
    "spoiler": "spoiler", "code": "code", "pre": "pre", "blockquote": "blockquote",
    "text_link": "text_link", "link": "url", "email": "email", "mention": "mention",
    "mention_name": "text_mention", "hashtag": "hashtag", "cashtag": "cashtag",
    "bot_command": "bot_command", "phone": "phone_number", "custom_emoji": "custom_emoji",
}
"""A Desktop export's part types as the Bot API names them (`plain`, `bank_card`... are text)."""


def _with_link(text: str, url: str | None) -> str:
    if not url or url == text or text.strip() == url:
        return text
    return f"{text} ({url})"


def flatten_entities(text: str | None, entities: Sequence[Any] | None) -> str:
    """Telethon `message` + `entities` -> plain text; a text link becomes `text (url)`.

    Entity offsets count UTF-16 code units, so the text is cut in that encoding.
    """
    if not text:
        return ""
    links = sorted(
        (entity for entity in entities or () if type(entity).__name__ in LINK_ENTITIES),
        key=lambda entity: entity.offset,
    )
    if not links:
        return text
    raw = text.encode("utf-16-le")
    pieces: list[str] = []
    position = 0
    for entity in links:
        start, end = entity.offset * 2, (entity.offset + entity.length) * 2
        if start < position or end > len(raw):
            continue  # overlapping or out of range: keep the text as it is
        pieces.append(raw[position:start].decode("utf-16-le", errors="replace"))
        label = raw[start:end].decode("utf-16-le", errors="replace")
        pieces.append(_with_link(label, getattr(entity, "url", None)))
        position = end
    pieces.append(raw[position:].decode("utf-16-le", errors="replace"))
    return "".join(pieces)


def telethon_formatted(text: str | None, entities: Sequence[Any] | None) -> Formatted:
    """Telethon `message` + `entities` as text and Bot API entities (UTF-16 offsets, as sent)."""
    found = []
    for entity in entities or ():
        kind = TELETHON_TYPES.get(type(entity).__name__)
        if kind is None:
            continue
        if kind == "blockquote" and getattr(entity, "collapsed", False):
            kind = "expandable_blockquote"
        found.append(Entity(kind, int(entity.offset), int(entity.length), url=getattr(entity, "url", None),
                            language=getattr(entity, "language", None) or None))
    return Formatted(text or "", tuple(found))


def flatten_export_text(value: object, where: str) -> str:
    """A Desktop export `text`: a string, or a list of strings and `{type, text, href}` parts."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if not isinstance(value, list):
        raise ValueError(f"{where}.text: expected a string or a list, got {type(value).__name__}")
    return "".join(_export_part(part, f"{where}.text[{index}]") for index, part in enumerate(value))


def _export_part(part: object, where: str) -> str:
    text = _part_text(part, where)
    if isinstance(part, dict) and part.get("type") == "text_link":
        href = part.get("href")
        return _with_link(text, href if isinstance(href, str) else None)
    return text


def _part_text(part: object, where: str) -> str:
    if isinstance(part, str):
        return part
    if not isinstance(part, dict):
        raise ValueError(f"{where}: expected a string or an object, got {type(part).__name__}")
    text = part.get("text", "")
    if not isinstance(text, str):
        raise ValueError(f"{where}.text: expected a string, got {type(text).__name__}")
    return text


def export_formatted(message: dict[str, Any], where: str) -> Formatted:
    """A Desktop export message's text with its formatting: the parts of `text` when it is a
    list, else those of `text_entities` when they spell the same text. The export writes each
    character in one part (nested entities are not kept), so a part is one entity at most."""
    parts, field = message.get("text"), "text"
    if not isinstance(parts, list):
        plain = parts if isinstance(parts, str) else ""
        parts, field = message.get("text_entities"), "text_entities"
        if not isinstance(parts, list):
            return Formatted(plain)
        texts = [_part_text(part, f"{where}.{field}[{index}]") for index, part in enumerate(parts)]
        if "".join(texts) != plain:
            return Formatted(plain)  # they disagree: the text is what the export shows
    pieces: list[str] = []
    entities: list[Entity] = []
    at = 0
    for index, part in enumerate(parts):
        text = _part_text(part, f"{where}.{field}[{index}]")
        pieces.append(text)
        kind = EXPORT_TYPES.get(str(part.get("type"))) if isinstance(part, dict) else None
        if kind is not None and text:
            assert isinstance(part, dict)
            if kind == "blockquote" and part.get("collapsed") is True:
                kind = "expandable_blockquote"
            href, language = part.get("href"), part.get("language")
            entities.append(Entity(kind, at, units(text), url=href if isinstance(href, str) else None,
                                   language=language if isinstance(language, str) and language else None))
        at += units(text)
    return Formatted("".join(pieces), tuple(entities))


def join_texts(texts: Iterable[str]) -> str:
    """Captions of an album's parts, joined (usually only one has any)."""
    return "\n\n".join(text for text in texts if text.strip())
