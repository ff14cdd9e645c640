"""Formatted text as Telegram keeps it: plain text and entities whose offsets and lengths
count UTF-16 code units. The scraper, the import, the REST API and the bot all speak it;
`ppb.domain.telegram_html` turns it into Telegram's HTML and back."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from ppb.domain.charsets import CONTROLS, WHITESPACE

ENTITY_TYPES = frozenset({
    "mention", "hashtag", "cashtag", "bot_command", "url", "email", "phone_number", "bold", "italic",
    "underline", "strikethrough", "spoiler", "blockquote", "expandable_blockquote", "code", "pre",
    "text_link", "text_mention", "custom_emoji",
})
"""The Bot API's `MessageEntity` types."""

STYLES = frozenset({"bold", "italic", "underline", "strikethrough", "spoiler"})
BLOCKS = frozenset({"blockquote", "expandable_blockquote"})
MONO = frozenset({"code", "pre"})
SHOWN = STYLES | BLOCKS | MONO | {"text_link"}
"""What PPB renders. The rest are shown as their text: Telegram finds mentions, hashtags and
plain links in a text by itself, and a custom emoji falls back to the emoji it stands for."""

MAX_URL = 2048
_LINK = re.compile(r"(?:https?://[^/?#]+|tg:).*", re.IGNORECASE | re.DOTALL | re.ASCII)
"""http(s) with a host, or tg: (checked after `_UNSAFE` has ruled out spaces and controls)."""
LANGUAGE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_+#.\-]{0,31}")
"""A `pre` block's language as a code highlighter names it (python, c++, objective-c)."""
UNSAFE_IN_URL = WHITESPACE + CONTROLS
_UNSAFE = re.compile("[" + UNSAFE_IN_URL + "]")
URL_PATTERN = ("^(?:[Hh][Tt][Tt][Pp][Ss]?://[^/?#" + UNSAFE_IN_URL + "]+|[Tt][Gg]:)[^" + UNSAFE_IN_URL + "]*$")
"""What `safe_url` admits, as a pattern (JSON Schema's): its length is checked apart (MAX_URL)."""


class Entity(NamedTuple):
    """One Bot API `MessageEntity` (a tuple: cheap to make, hash and compare)."""

    type: str
    offset: int
    length: int
    url: str | None = None
    language: str | None = None

    @property
    def end(self) -> int:
        return self.offset + self.length

    def as_dict(self) -> dict[str, object]:
        """Bot API shape: `{type, offset, length}` and `url` or `language` when set."""
        shape: dict[str, object] = {"type": self.type, "offset": self.offset, "length": self.length}
        if self.url is not None:
            shape["url"] = self.url
        if self.language is not None:
            shape["language"] = self.language
        return shape


@dataclass(frozen=True, slots=True)
class Formatted:
    text: str
    entities: tuple[Entity, ...] = ()


def units(text: str) -> int:
    """Length in UTF-16 code units, as Telegram counts offsets (an emoji is often 2)."""
    return len(text.encode("utf-16-le")) // 2


def safe_url(url: str | None) -> bool:
    """An http, https or tg link with no spaces or control characters (never javascript:)."""
    if not url or len(url) > MAX_URL or _UNSAFE.search(url):
        return False
    return _LINK.fullmatch(url) is not None


class _Units:
    """A text seen in UTF-16 code units: slices, and whether a unit splits a character."""

    def __init__(self, text: str) -> None:
        self.raw = text.encode("utf-16-le")
        self.size = len(self.raw) // 2

    def slice(self, start: int, end: int) -> str:
        return self.raw[2 * start : 2 * end].decode("utf-16-le")

    def splits(self, at: int) -> bool:
        """`at` falls between the two halves of a surrogate pair."""
        return 0 < at < self.size and 0xDC00 <= int.from_bytes(self.raw[2 * at : 2 * at + 2], "little") <= 0xDFFF


def problems(text: str, entities: Sequence[Entity]) -> list[tuple[int, str, str]]:
    """What is wrong with a client's entities for this text: (index, field, reason) each.

    Types, URLs and languages are checked where they are read (`ppb.http.schemas`); this
    checks what needs the text: ranges, characters split in two, a text link's URL."""
    found: list[tuple[int, str, str]] = []
    seen = _Units(text)
    size = f"the text is {seen.size} UTF-16 code units long"
    for index, entity in enumerate(entities):
        if entity.offset >= seen.size:
            found.append((index, "offset", f"{entity.offset} is past the end of the text ({size})"))
        elif entity.end > seen.size:
            found.append((index, "length", f"ends at {entity.end}, past the end of the text ({size})"))
        elif seen.splits(entity.offset) or seen.splits(entity.end):
            field = "offset" if seen.splits(entity.offset) else "length"
            found.append((index, field, "cuts a character in two: offsets and lengths count UTF-16 code "
                                        "units, in which an emoji such as 🚀 takes 2"))
        elif entity.type == "text_link" and entity.url is None:
            found.append((index, "url", "is required for a text_link"))
    return found


def cleaned(formatted: Formatted) -> list[Entity]:
    """The entities PPB renders, made to nest as Telegram allows.

    Only `SHOWN` types, links with a safe URL, ranges clipped to the text and never inside a
    character. Nothing shares characters with code or pre except a quote around it (other
    entities are cut around them); quotes do not overlap quotes, nor links links (the first
    one wins); a style over the same style is one. Styles may cross anything else: rendering
    closes and reopens them."""
    if not formatted.entities:
        return []
    seen = _Units(formatted.text)
    wanted: list[Entity] = []
    for entity in formatted.entities:
        if entity.type not in SHOWN or (entity.type == "text_link" and not safe_url(entity.url)):
            continue
        start, end = max(0, entity.offset), min(seen.size, entity.end)
        start -= seen.splits(start)
        end += seen.splits(end)
        if end <= start:
            continue
        language = entity.language if entity.type == "pre" and entity.language and LANGUAGE.fullmatch(
            entity.language) else None
        url = entity.url if entity.type == "text_link" else None
        wanted.append(Entity(entity.type, start, end - start, url, language))
    if len(wanted) < 2:
        return wanted  # nothing to nest
    wanted = sorted(set(wanted), key=lambda e: (e.offset, -e.length, e.type))
    mono = _first_wins([e for e in wanted if e.type in MONO])
    rest: list[Entity] = []
    for entity in wanted:
        if entity.type not in MONO:
            rest.extend(_around(entity, [m for m in mono if not (entity.type in BLOCKS and _contains(entity, m))]))
    rest.sort(key=lambda e: (e.offset, -e.length, e.type))
    blocks = _first_wins([e for e in rest if e.type in BLOCKS])
    links = _first_wins(_merged([e for e in rest if e.type == "text_link"]))
    return mono + blocks + links + _merged([e for e in rest if e.type in STYLES])


def _merged(entities: list[Entity]) -> list[Entity]:
    """Ranges of one kind (a style, or links to one URL) as few as can be: bold over bold is one
    bold, two touching links to one place one link."""
    merged: list[Entity] = []
    for kind in sorted({(e.type, e.url or "") for e in entities}):
        current: Entity | None = None
        for entity in sorted((e for e in entities if (e.type, e.url or "") == kind), key=lambda e: e.offset):
            if current is not None and entity.offset <= current.end:
                current = current._replace(length=max(current.end, entity.end) - current.offset)
                continue
            if current is not None:
                merged.append(current)
            current = entity
        if current is not None:
            merged.append(current)
    return sorted(merged, key=lambda e: (e.offset, -e.length, e.type))


def _contains(outer: Entity, inner: Entity) -> bool:
    return outer.offset <= inner.offset and inner.end <= outer.end


def _first_wins(entities: list[Entity]) -> list[Entity]:
    """Those that share no character with an earlier one (sorted by offset)."""
    kept: list[Entity] = []
    for entity in entities:
        if all(entity.offset >= other.end or entity.end <= other.offset for other in kept):
            kept.append(entity)
    return kept


def _around(entity: Entity, holes: Iterable[Entity]) -> list[Entity]:
    """`entity` with the characters of `holes` cut out: zero, one or more pieces."""
    pieces = [entity]
    for hole in holes:
        next_pieces = []
        for piece in pieces:
            if hole.end <= piece.offset or hole.offset >= piece.end:
                next_pieces.append(piece)
                continue
            if hole.offset > piece.offset:
                next_pieces.append(piece._replace(length=hole.offset - piece.offset))
            if hole.end < piece.end:
                next_pieces.append(piece._replace(offset=hole.end, length=piece.end - hole.end))
        pieces = next_pieces
    return pieces


def clip(formatted: Formatted, start: int, end: int) -> tuple[Entity, ...]:
    """The entities within units [start, end), moved to count from `start`."""
    kept = []
    for entity in formatted.entities:
        a, b = max(entity.offset, start), min(entity.end, end)
        if b > a:
            kept.append(entity._replace(offset=a - start, length=b - a))
    return tuple(kept)


def strip(formatted: Formatted) -> Formatted:
    """Leading and trailing whitespace gone, the entities kept on their characters."""
    text = formatted.text
    lead = len(text) - len(text.lstrip())
    body = text.strip()
    start = units(text[:lead])
    return Formatted(body, clip(formatted, start, start + units(body)))


def shorten(formatted: Formatted, limit: int) -> tuple[Formatted, bool]:
    """Within `limit` characters, cut at a word and ended with "…" (outside every entity),
    the entities cut with the text, never inside one of its characters; (text, was cut)."""
    text = formatted.text
    if len(text) <= limit:
        return formatted, False
    cut = text[:limit]
    space = cut.rfind(" ")
    if space > limit * 0.8:
        cut = cut[:space]
    cut = cut.rstrip()
    return Formatted(cut + "…", clip(formatted, 0, units(cut))), True


def squash(formatted: Formatted, keep: frozenset[str] = STYLES | {"code", "text_link"}) -> Formatted:
    """On one line: whitespace runs become one space (as `" ".join(text.split())`), the
    entities follow their characters; only the `keep` types stay (no blocks in a snippet)."""
    out: list[str] = []
    at: dict[int, int] = {}  # a unit offset of the text -> its offset in the squashed text
    written = 0
    pending = False
    position = 0
    for char in formatted.text:
        at[position] = written
        if char.isspace():
            pending = pending or bool(out)
        else:
            if pending:
                out.append(" ")
                written += 1
                pending = False
            at[position] = written
            out.append(char)
            written += units(char)
        position += units(char)
    at[position] = written
    entities = []
    for entity in formatted.entities:
        if entity.type not in keep or entity.offset not in at or entity.end not in at:
            continue
        start, end = at[entity.offset], at[entity.end]
        if end > start:
            entities.append(entity._replace(offset=start, length=end - start))
    return Formatted("".join(out), tuple(entities))


def join(parts: Iterable[Formatted], separator: str = "\n\n") -> Formatted:
    """Parts one after another (those with no visible text left out), entities moved along."""
    parts = [part for part in parts if part.text.strip()]
    if len(parts) == 1:
        return parts[0]
    if not any(part.entities for part in parts):
        return Formatted(separator.join(part.text for part in parts))
    texts: list[str] = []
    entities: list[Entity] = []
    at = 0
    for part in parts:
        if texts:
            texts.append(separator)
            at += units(separator)
        texts.append(part.text)
        entities.extend(entity._replace(offset=entity.offset + at) for entity in part.entities)
        at += units(part.text)
    return Formatted("".join(texts), tuple(entities))
