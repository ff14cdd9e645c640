"""A post's formatting: entities to Telegram HTML and back, on real-looking posts, with the
sandbox's Telegram parser as the independent reader of what `render` writes."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ppb.domain.formatting import STYLES, Entity, Formatted, cleaned, join, problems, safe_url, shorten, squash, strip, units
from ppb.domain.telegram_html import MarkupError, escape, parse, render, render_or_none
from ppb.sandbox.html_text import parse_html


def at(text: str, fragment: str) -> int:
    """The UTF-16 offset of `fragment` in `text`, as Telegram counts it."""
    return units(text[: text.index(fragment)])


def span(kind: str, text: str, fragment: str, **extra: str) -> Entity:
    return Entity(kind, at(text, fragment), units(fragment), **extra)


def seen(markup: str) -> tuple[str, list[dict]]:
    """What a person sees in Telegram (the sandbox parses as Telegram does)."""
    return parse_html(markup)


def test_a_russian_post_with_an_emoji_before_its_link_keeps_every_entity_in_place() -> None:
    text = "🔥 Вышел Python 3.13: JIT & «свободные потоки» <без GIL>. Подробности в блоге"
    entities = (span("bold", text, "Вышел Python 3.13"), span("italic", text, "«свободные потоки»"),
                span("text_link", text, "в блоге", url="https://blog.python.org/?a=1&b=2"),
                span("hashtag", text, "JIT"))
    markup = render(Formatted(text, entities))
    assert markup == ('🔥 <b>Вышел Python 3.13</b>: JIT &amp; <i>«свободные потоки»</i> &lt;без GIL&gt;. '
                      'Подробности <a href="https://blog.python.org/?a=1&amp;b=2">в блоге</a>')
    shown, shown_entities = seen(markup)
    assert shown == text
    assert shown_entities == [e.as_dict() for e in entities if e.type != "hashtag"]


def test_nested_adjacent_and_crossing_entities_nest_as_tags_must() -> None:
    text = "Breaking news: the bridge is open again"
    nested = Formatted(text, (span("bold", text, "Breaking news: the bridge"), span("italic", text, "news")))
    assert render(nested) == "<b>Breaking <i>news</i>: the bridge</b> is open again"
    adjacent = Formatted(text, (span("bold", text, "Breaking"), span("italic", text, " news")))
    assert render(adjacent) == "<b>Breaking</b><i> news</i>: the bridge is open again"
    crossing = Formatted(text, (span("bold", text, "Breaking news"), span("underline", text, "news: the")))
    markup = render(crossing)
    assert markup == "<b>Breaking <u>news</u></b><u>: the</u> bridge is open again"
    assert coverage(seen(markup)[1], "underline") == coverage([e.as_dict() for e in crossing.entities], "underline")


def test_pre_with_its_language_code_quotes_and_spoilers() -> None:
    text = "Fix:\nif a < b and c > 0:\n    print('ok')\nSee `x` — spoiler: Snape\nQuote here"
    code = "if a < b and c > 0:\n    print('ok')"
    entities = (span("pre", text, code, language="python"), span("bold", text, "Fix:\nif a"),
                span("code", text, "`x`"), span("spoiler", text, "Snape"), span("blockquote", text, "Quote here"))
    markup = render(Formatted(text, entities))
    assert '<pre><code class="language-python">if a &lt; b and c &gt; 0:\n    print(\'ok\')</code></pre>' in markup
    assert markup.startswith("<b>Fix:\n</b><pre>"), "nothing inside a pre: the bold stops at it"
    assert "<tg-spoiler>Snape</tg-spoiler>" in markup and "<blockquote>Quote here</blockquote>" in markup
    shown, shown_entities = seen(markup)
    assert shown == text
    pre = next(e for e in shown_entities if e["type"] == "pre")
    assert pre == {"type": "pre", "offset": at(text, code), "length": units(code), "language": "python"}
    assert not [e for e in shown_entities if e["type"] == "code" and e["offset"] == pre["offset"]]
    quote = Formatted("Цитата дня: «Код — это поэзия»", (Entity("expandable_blockquote", 0, 30),
                                                        Entity("bold", 12, 18)))
    assert render(quote) == "<blockquote expandable>Цитата дня: <b>«Код — это поэзия»</b></blockquote>"
    assert seen(render(quote))[1][0]["type"] == "expandable_blockquote"


def test_custom_emoji_mentions_and_plain_links_are_their_text_and_unsafe_links_are_dropped() -> None:
    text = "👍 Спасибо @durov за https://telegram.org и #новости — жми сюда!"
    entities = (Entity("custom_emoji", 0, 2), span("mention", text, "@durov"), span("url", text, "https://telegram.org"),
                span("hashtag", text, "#новости"), span("text_link", text, "жми сюда", url="javascript:alert(1)"))
    formatted = Formatted(text, entities)
    assert render(formatted) == escape(text)
    assert render_or_none(formatted) is None, "nothing to format: the post keeps no HTML"
    for url in ("javascript:alert(1)", "JavaScript:x", "data:text/html,x", "vbscript:x", "mailto:a@b.c",
                "https:// spaced", "http:///nohost", "https://ex.org/\x00", "//ex.org", ""):
        assert not safe_url(url), url
    for url in ("https://ex.org/a?b=1&c='2'", "HTTP://EX.ORG", "tg://resolve?domain=durov"):
        assert safe_url(url), url
    quoted = render(Formatted('say "hi"', (Entity("text_link", 0, 8, url='https://ex.org/"><script>'),)))
    assert quoted == '<a href="https://ex.org/&quot;&gt;&lt;script&gt;">say &quot;hi&quot;</a>'
    assert seen(quoted) == ('say "hi"', [{"type": "text_link", "offset": 0, "length": 8,
                                          "url": 'https://ex.org/"><script>'}])


def test_markup_in_the_text_is_text() -> None:
    text = "<script>alert('x')</script> & <b>not bold</b> &amp;"
    markup = render(Formatted(text, (Entity("italic", 0, 8),)))
    assert markup == "<i>&lt;script&gt;</i>alert('x')&lt;/script&gt; &amp; &lt;b&gt;not bold&lt;/b&gt; &amp;amp;"
    assert seen(markup)[0] == text


def test_links_do_not_nest_in_links_nor_styles_cross_code() -> None:
    text = "read the docs and the code"
    two_links = Formatted(text, (Entity("text_link", 0, 13, url="https://a.org"),
                                 Entity("text_link", 5, 12, url="https://b.org")))
    assert render(two_links) == '<a href="https://a.org">read the docs</a> and the code'
    around_code = Formatted(text, (Entity("bold", 0, 26), span("code", text, "code")))
    assert render(around_code) == "<b>read the docs and the </b><code>code</code>"


def test_an_entity_that_cuts_an_emoji_in_two_is_widened_and_a_client_is_told() -> None:
    text = "🚀🚀 go"
    assert cleaned(Formatted(text, (Entity("bold", 1, 2),))) == [Entity("bold", 0, 4)]
    assert seen(render(Formatted(text, (Entity("bold", 1, 2),)))) == (text, [{"type": "bold", "offset": 0, "length": 4}])
    found = problems(text, [Entity("bold", 1, 2), Entity("bold", 0, 8), Entity("bold", 7, 1),
                            Entity("text_link", 0, 2), Entity("italic", 5, 2)])
    assert [(index, field) for index, field, _ in found] == [(0, "offset"), (1, "length"), (2, "offset"), (3, "url")]
    assert "UTF-16" in found[0][2] and "the text is 7 UTF-16 code units long" in found[1][2]


def test_shortening_cuts_text_and_entities_never_a_tag_an_escape_or_a_character() -> None:
    words = "Новости & события <дня> 🚀 " * 40
    formatted = Formatted(words, tuple(span_all(words, "события <дня>", "bold")) + (Entity("text_link", 0, units(words),
                                                                                           url="https://ex.org"),))
    for limit in range(50, 200, 7):
        short, cut = shorten(formatted, limit)
        assert cut and len(short.text) <= limit + 1 and short.text.endswith("…")
        markup = render(short)
        shown, entities = seen(markup)
        assert shown == short.text
        assert all(e["offset"] + e["length"] <= units(short.text) - 1 for e in entities), "… is outside"
    same, cut = shorten(formatted, 10_000)
    assert same == formatted and not cut


def test_strip_squash_and_join_keep_entities_on_their_characters() -> None:
    text = "\n\n  Итоги   недели:\n\n• <b>рост</b>  \n"
    formatted = Formatted(text, (span("bold", text, "Итоги"), span("italic", text, "рост"),
                                 span("blockquote", text, "Итоги   недели")))
    stripped = strip(formatted)
    assert stripped.text == text.strip()
    assert seen(render(stripped))[1][0] == {"type": "blockquote", "offset": 0, "length": units("Итоги   недели")}
    line = squash(formatted)
    assert line.text == " ".join(text.split())
    assert render(line) == "<b>Итоги</b> недели: • &lt;b&gt;<i>рост</i>&lt;/b&gt;", "no quote in a one-line snippet"
    album = join([Formatted("🚀 one", (Entity("bold", 3, 3),)), Formatted("  "), Formatted("two", (Entity("italic", 0, 3),))])
    assert album.text == "🚀 one\n\ntwo" and render(album) == "🚀 <b>one</b>\n\n<i>two</i>"


def test_parse_reads_back_what_render_wrote_and_refuses_anything_else() -> None:
    text = "Итоги: 🚀 <x> & \"y\" — код"
    formatted = Formatted(text, (Entity("bold", 0, 6), span("code", text, "код"), span("spoiler", text, "<x>"),
                                 span("pre", text, '"y"', language="c++")))
    markup = render(formatted)
    again = parse(markup)
    assert again.text == text and render(again) == markup
    for foreign in ("<script>x</script>", "<b>x", "x</i>", "<img src=x onerror=alert(1)>", "<a>x</b>"):
        try:
            parse(foreign)
        except MarkupError:
            continue
        raise AssertionError(f"parsed {foreign!r}")


def span_all(text: str, fragment: str, kind: str) -> list[Entity]:
    found, start = [], 0
    while (index := text.find(fragment, start)) >= 0:
        found.append(Entity(kind, units(text[:index]), units(fragment)))
        start = index + len(fragment)
    return found


def coverage(entities: list[dict], kind: str) -> set[int]:
    return {unit for e in entities if e["type"] == kind for unit in range(e["offset"], e["offset"] + e["length"])}


ALPHABET = st.sampled_from(list("ab <>&\"'\n") + ["🚀", "ё", "é", "\u200d"])
KINDS = st.sampled_from(sorted(STYLES | {"code", "pre", "text_link", "blockquote", "mention", "custom_emoji"}))


@st.composite
def posts(draw: st.DrawFn) -> Formatted:
    text = "".join(draw(st.lists(ALPHABET, min_size=1, max_size=40)))
    size = units(text)
    entities = []
    for _ in range(draw(st.integers(0, 8))):
        offset = draw(st.integers(0, size - 1))
        length = draw(st.integers(1, size - offset))
        kind = draw(KINDS)
        url = draw(st.sampled_from(["https://ex.org/?q=\"&'", "javascript:x", "tg://user?id=1"])) if kind == "text_link" else None
        entities.append(Entity(kind, offset, length, url=url, language="python" if kind == "pre" else None))
    return Formatted(text, tuple(entities))


@settings(max_examples=400, deadline=None)
@given(posts())
def test_whatever_the_entities_telegram_reads_the_text_and_every_kept_style_back(post: Formatted) -> None:
    markup = render(post)
    shown, entities = seen(markup)  # never "can't parse entities"
    assert shown == post.text
    kept = [e.as_dict() for e in cleaned(post)]
    for kind in sorted(STYLES | {"code", "pre", "text_link", "blockquote"}):
        assert coverage(entities, kind) == coverage(kept, kind), kind
    assert render(parse(markup)) == markup
    short, _ = shorten(post, 7)
    assert seen(render(short))[0] == short.text


# in the chat: every message that carries a post ------------------------------------------

def chat_text(build, *args):
    from ppb.bot.i18n import build_i18n

    i18n = build_i18n()
    with i18n.context(), i18n.use_locale("en"):
        return build(*args)


def test_a_long_formatted_post_is_cut_as_text_and_entities_and_an_old_row_is_escaped_text() -> None:
    from ppb.bot.outbox_sender import digest_text, push_text
    from ppb.bot.posts import TEXT_LIMIT, post_message

    body = "<b>Новости &amp; события</b> дня: <a href=\"https://ex.org/?a=1&amp;b=2\">рынок &lt;растёт&gt;</a>. " * 120
    post = {"id": 1, "channel_title": "Рынки & <деньги>", "channel_username": "markets", "telegram_message_id": 7,
            "text": "plain", "html": body}
    message = chat_text(push_text, post)
    shown, entities = seen(message)
    assert shown.startswith("🔔 Рынки & <деньги>\n\nНовости & события дня: рынок <растёт>.")
    assert shown.endswith("Read the whole post: https://t.me/markets/7")
    assert len(shown) < 4096 and len(parse(post["html"]).text) > TEXT_LIMIT
    assert {e["type"] for e in entities} == {"bold", "text_link"}
    links = [e for e in entities if e["type"] == "text_link"]
    assert all(e["url"] == "https://ex.org/?a=1&b=2" for e in links)

    old = {**post, "html": None, "text": "Старый пост <b>без</b> разметки & всё"}
    assert seen(chat_text(post_message, old)) == ("📰 Рынки & <деньги>\n\nСтарый пост <b>без</b> разметки & всё",
                                                  [{"type": "bold", "offset": 3, "length": 16}])
    foreign = {**old, "html": "<img src=x onerror=alert(1)>"}  # not what PPB writes: the plain text
    assert chat_text(post_message, foreign) == chat_text(post_message, old)

    digest = chat_text(digest_text, [post, old])
    shown, entities = seen(digest)
    first = shown.split("\n\n")[1]
    assert first.startswith("1. Рынки & <деньги> ↗\nНовости & события дня: рынок <растёт>.") and first.endswith("…")
    assert len(first.split("\n")[1]) <= 181
    assert "Старый пост <b>без</b> разметки & всё" in shown


def test_aiogram_s_own_renderer_is_still_wrong_for_us_where_ours_is_kept() -> None:
    """Why `render` is ours and not aiogram's `html_decoration.unparse`: on these posts
    aiogram's repeats text under crossing entities, lets a link's URL out of its attribute,
    and names a code block's language where Telegram does not read it. When this fails,
    aiogram's may serve: switch to it."""
    from aiogram.types import MessageEntity
    from aiogram.utils.text_decorations import html_decoration

    def theirs(formatted: Formatted) -> str:
        return html_decoration.unparse(formatted.text, [
            MessageEntity(type=e.type, offset=e.offset, length=e.length, url=e.url, language=e.language)
            for e in cleaned(formatted)])

    text = "Breaking news: the bridge is open again"
    crossing = Formatted(text, (span("bold", text, "Breaking news"), span("underline", text, "news: the")))
    assert seen(theirs(crossing))[0] != text and seen(render(crossing))[0] == text
    link = Formatted('say "hi"', (Entity("text_link", 0, 8, url='https://ex.org/"><script>'),))
    assert "<script>" in theirs(link) and "<script>" not in render(link)
    code = Formatted("print(1)", (Entity("pre", 0, 8, language="python"),))
    assert 'class="language-python"' not in theirs(code) and 'class="language-python"' in render(code)


def test_a_post_says_where_else_its_story_appeared_linked_and_escaped() -> None:
    from ppb.bot.posts import post_message

    post = {"id": 1, "channel_title": "News", "text": "The bridge reopens", "also_in": [
        {"post_id": 2, "channel_title": "City", "channel_username": "city_news", "url": "https://t.me/city_news/5"},
        {"post_id": 3, "channel_title": "Mayor's <office>", "channel_username": None, "url": None},
    ]}
    shown, entities = seen(chat_text(post_message, post))
    assert shown == "📰 News\n\nThe bridge reopens\n\n🔁 Also in @city_news, Mayor's <office>"
    assert [e for e in entities if e["type"] == "text_link"] == [
        {"type": "text_link", "offset": len(shown[: shown.index("@city_news")].encode("utf-16-le")) // 2, "length": 10,
         "url": "https://t.me/city_news/5"}]  # offsets in UTF-16 code units, as Telegram counts
    assert "Also in" not in chat_text(post_message, {**post, "also_in": []})
