"""Formatted text flattened to plain text that keeps its meaning: hidden links spelled out."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

LINK_ENTITIES = {"MessageEntityTextUrl"}
"""Telethon entities whose target is not visible in the text itself."""


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
    if isinstance(part, str):
        return part
    if not isinstance(part, dict):
        raise ValueError(f"{where}: expected a string or an object, got {type(part).__name__}")
    text = part.get("text", "")
    if not isinstance(text, str):
        raise ValueError(f"{where}.text: expected a string, got {type(text).__name__}")
    if part.get("type") == "text_link":
        href = part.get("href")
        return _with_link(text, href if isinstance(href, str) else None)
    return text


def join_texts(texts: Iterable[str]) -> str:
    """Captions of an album's parts, joined (usually only one has any)."""
    return "\n\n".join(text for text in texts if text.strip())
