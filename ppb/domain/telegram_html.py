"""Formatted text as Telegram's HTML parse mode, and back.

`render` writes only the tags Telegram allows, escapes every piece of text and every
attribute, and links only to safe schemes; `parse` reads back exactly what `render` writes
(and nothing else), so a stored post can be cut as text and entities and rendered again.
aiogram's `html_decoration.unparse` is not used: it repeats text under crossing entities,
leaves a link's URL unescaped in its attribute and misnames a code block's language
(`tests/test_formatting.py` shows each)."""

from __future__ import annotations

from html.parser import HTMLParser
from itertools import pairwise

from ppb.domain.formatting import BLOCKS, Entity, Formatted, cleaned, units

_TAGS = {
    "bold": "b", "italic": "i", "underline": "u", "strikethrough": "s", "spoiler": "tg-spoiler",
    "code": "code", "pre": "pre", "blockquote": "blockquote", "expandable_blockquote": "blockquote",
    "text_link": "a",
}
_RANK = {name: rank for rank, name in enumerate(
    ("blockquote", "expandable_blockquote", "pre", "text_link", "bold", "italic", "underline",
     "strikethrough", "spoiler", "code"))}
"""Which of two entities on the same characters is written outside the other."""


def escape(text: str) -> str:
    """Text for Telegram's HTML: `&`, `<`, `>` and `"` as entities, nothing else touched."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _open(entity: Entity) -> str:
    if entity.type == "text_link":
        return f'<a href="{escape(entity.url or "")}">'
    if entity.type == "pre" and entity.language:
        return f'<pre><code class="language-{escape(entity.language)}">'
    if entity.type == "expandable_blockquote":
        return "<blockquote expandable>"
    return f"<{_TAGS[entity.type]}>"


def _close(entity: Entity) -> str:
    if entity.type == "pre" and entity.language:
        return "</code></pre>"
    return f"</{_TAGS[entity.type]}>"


def _order(entity: Entity) -> tuple[int, int, int, int]:
    """Outermost first: a quote, then the longest-running, then by `_RANK`."""
    return (0 if entity.type in BLOCKS else 1, entity.offset, -entity.end, _RANK[entity.type])


def render(formatted: Formatted) -> str:
    """Telegram HTML for the text and its entities (see `cleaned` for what is kept).

    Entities that cross are closed and reopened where they cross, so tags always nest."""
    return _render(formatted.text, cleaned(formatted))


def render_or_none(formatted: Formatted) -> str | None:
    """The HTML when some formatting survives `cleaned`; None when the text alone says it all."""
    entities = cleaned(formatted)
    return _render(formatted.text, entities) if entities else None


def _render(text: str, entities: list[Entity]) -> str:
    if not entities:
        return escape(text)
    raw = text.encode("utf-16-le")
    size = len(raw) // 2
    ordered = sorted(entities, key=_order)  # the nesting order, the same on every segment
    spans = [(e.offset, e.end) for e in ordered]
    bounds = sorted({0, size, *(a for a, _ in spans), *(b for _, b in spans)})
    out: list[str] = []
    opened: list[int] = []
    for start, end in pairwise(bounds):
        wanted = [i for i, (a, b) in enumerate(spans) if a <= start and b >= end]
        same = 0
        while same < min(len(opened), len(wanted)) and opened[same] == wanted[same]:
            same += 1
        out.extend(_close(ordered[i]) for i in reversed(opened[same:]))
        out.extend(_open(ordered[i]) for i in wanted[same:])
        opened = wanted
        out.append(escape(raw[2 * start : 2 * end].decode("utf-16-le")))
    out.extend(_close(ordered[i]) for i in reversed(opened))
    return "".join(out)


class MarkupError(ValueError):
    """HTML that `render` would not have written."""


_READ = {"b": "bold", "i": "italic", "u": "underline", "s": "strikethrough", "tg-spoiler": "spoiler",
         "code": "code", "pre": "pre", "blockquote": "blockquote", "a": "text_link"}


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.at = 0
        self.open: list[tuple[str, Entity]] = []
        self.entities: list[Entity] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        kind = _READ.get(tag)
        values = dict(attrs)
        if kind is None:
            raise MarkupError(f"unexpected tag <{tag}>")
        if tag == "code" and self.open and self.open[-1][0] == "pre" and self.open[-1][1].offset == self.at:
            language = (values.get("class") or "").removeprefix("language-")
            pre = self.open[-1][1]
            self.open[-1] = ("pre", Entity("pre", pre.offset, 0, language=language or None))
            self.open.append(("code-in-pre", pre))
            return
        if tag == "blockquote" and "expandable" in values:
            kind = "expandable_blockquote"
        self.open.append((tag, Entity(kind, self.at, 0, url=values.get("href") if tag == "a" else None)))

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1][0] not in (tag, "code-in-pre" if tag == "code" else tag):
            raise MarkupError(f"unexpected </{tag}>")
        name, entity = self.open.pop()
        if name == "code-in-pre":
            return
        if self.at > entity.offset:
            self.entities.append(Entity(entity.type, entity.offset, self.at - entity.offset, entity.url,
                                        entity.language))

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        self.at += units(data)


def parse(markup: str) -> Formatted:
    """The text and entities `render` wrote; MarkupError for anything else."""
    reader = _Reader()
    reader.feed(markup)
    reader.close()
    if reader.open:
        raise MarkupError(f"<{reader.open[-1][0]}> is not closed")
    return Formatted("".join(reader.text), tuple(sorted(reader.entities, key=lambda e: (e.offset, -e.length))))
