"""Telegram's HTML parse mode: markup in, plain text and entities (UTF-16 offsets) out."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

TAGS = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
    "ins": "underline", "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
    "code": "code", "pre": "pre", "a": "text_link", "tg-spoiler": "spoiler",
    "blockquote": "blockquote", "span": "spoiler", "tg-emoji": "custom_emoji",
}


class ParseError(ValueError):
    """Markup Telegram would refuse: "Bad Request: can't parse entities: ..."."""


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.length = 0
        self.open: list[tuple[str, int, dict[str, Any]]] = []
        self.entities: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in TAGS:
            raise ParseError(f"Unsupported start tag \"{tag}\"")
        values = dict(attrs)
        extra: dict[str, Any] = {}
        if tag == "a":
            href = values.get("href")
            if not href:
                raise ParseError("Empty URL in a text link")
            extra["url"] = href
        elif tag == "span" and values.get("class") != "tg-spoiler":
            raise ParseError("Tag \"span\" must have class \"tg-spoiler\"")
        elif tag == "tg-emoji":
            if not (values.get("emoji-id") or "").isdigit():
                raise ParseError("Custom emoji identifier must be non-empty")
            extra["custom_emoji_id"] = values["emoji-id"]
        elif tag == "blockquote" and "expandable" in values:
            extra["type"] = "expandable_blockquote"
        elif tag == "code" and self.open and self.open[-1][0] == "pre" and self.open[-1][1] == self.length:
            language = (values.get("class") or "").removeprefix("language-")
            if language:  # <pre><code class="language-x">: one pre entity with its language
                self.open[-1][2]["language"] = language
                extra["inside_pre"] = True
        self.open.append((tag, self.length, extra))

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1][0] != tag:
            raise ParseError(f"Unmatched end tag \"{tag}\"")
        name, start, extra = self.open.pop()
        if extra.pop("inside_pre", False):
            return
        if self.length > start:
            entity = {"type": TAGS[name], "offset": start, "length": self.length - start, **extra}
            self.entities.append(entity)

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        self.length += _utf16_len(data)


def parse_html(markup: str) -> tuple[str, list[dict[str, Any]]]:
    """The text a person sees and its entities; raises ParseError for bad markup."""
    parser = _Parser()
    parser.feed(markup)
    parser.close()
    if parser.open:
        raise ParseError(f"Can't find end tag corresponding to start tag \"{parser.open[-1][0]}\"")
    entities = sorted(parser.entities, key=lambda entity: (entity["offset"], -entity["length"]))
    return "".join(parser.text), entities
