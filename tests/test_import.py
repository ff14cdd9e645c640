"""`ppb import`: Telegram Desktop exports into the store, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from ppb.cli import main
from ppb.domain.channels import ChannelName
from ppb.scraper.export import ExportError
from ppb.scraper.importer import import_file
from ppb.store.queries import Store
from ppb.store.schema import posts

FIXTURES = Path(__file__).parent / "fixtures"


def export_copy(tmp_path: Path, name: str, ids: dict[int, int]) -> Path:
    """A fixture with its channel ids replaced by fresh ones (the test databases are shared)."""
    data = json.loads((FIXTURES / name).read_text())
    chats = data["chats"]["list"] if "chats" in data else [data]
    for chat in chats:
        chat["id"] = ids.get(chat["id"], chat["id"])
    path = tmp_path / f"{name}"
    path.write_text(json.dumps(data, ensure_ascii=False))
    return path


async def posts_of(store: Store, telegram_id: int) -> dict[int, dict[str, Any]]:
    channel = await store.get_channel(ChannelName(telegram_id=telegram_id))
    records = await store.database.fetch_all(
        sa.select(posts.c.telegram_message_id, posts.c.text, posts.c.media_type, posts.c.posted_at)
        .where(posts.c.channel_id == channel["id"])
    )
    return {r[0]: {"text": r[1], "media_type": r[2], "posted_at": r[3]} for r in records}


def marked(bare: int) -> int:
    return -(10**12 + bare)


async def test_a_channel_export(store, tmp_path, new_id) -> None:
    bare = new_id()
    path = export_copy(tmp_path, "export_channel.json", {1500000001: bare})
    results, others = await import_file(store, path)
    assert others == 0 and len(results) == 1
    result = results[0]
    assert (result.read, result.created, result.skipped) == (14, 14, 3)
    assert result.channel["telegram_id"] == marked(bare) and result.channel["username"] is None
    assert result.channel["title"] == "Harbour Watch"

    stored = await posts_of(store, marked(bare))
    assert sorted(stored) == [2, 3, 4, 7, 8, 9, 10, 11, 12, 13, 14, 16, 17, 19]  # service, empty skipped
    assert stored[3]["text"] == (
        "Tide tables are out: read them here (https://example.org/tides) or at https://example.org #tides"
    )
    assert stored[4] == {**stored[4], "text": "Cranes at dawn, three angles", "media_type": "photo"}  # the album
    assert stored[7]["media_type"] == "text"  # same second, no media: not part of the album
    assert stored[8]["text"] == "Best time to watch the ships?\n• Sunrise\n• Sunset"
    assert stored[8]["media_type"] == "poll"
    kinds = {key: stored[key]["media_type"] for key in (9, 10, 11, 12, 17)}
    assert kinds == {9: "video", 10: "voice", 11: "audio", 12: "document", 17: "photo"}
    assert stored[13]["text"] == "Corrected: the market opens at 10, not 9."  # the edited text, once
    assert stored[14]["text"] == "Berth 4 closed for repairs until Monday."  # a forward keeps its text
    assert stored[19]["text"] == "Новости порта: лёд сошёл."
    posted = stored[13]["posted_at"]
    assert (posted.replace(tzinfo=UTC) if posted.tzinfo is None else posted) == datetime(2024, 1, 13, 9, 0, tzinfo=UTC)

    again, _ = await import_file(store, path)
    assert again[0].created == 0 and len(await posts_of(store, marked(bare))) == 14


async def test_username_given_once_is_kept(store, tmp_path, new_id) -> None:
    bare = new_id()
    path = export_copy(tmp_path, "export_channel.json", {1500000001: bare})
    name = f"harbour{bare}"
    results, _ = await import_file(store, path, f"@{name.upper()}")
    assert results[0].channel["username"] == name
    results, _ = await import_file(store, path)  # re-imported without --username
    assert results[0].channel["username"] == name
    assert (await store.get_channel(ChannelName(username=name)))["telegram_id"] == marked(bare)


async def test_a_full_export_takes_its_channels(store, tmp_path, new_id) -> None:
    tea, sky = new_id(), new_id()
    path = export_copy(tmp_path, "export_full.json", {1600000001: tea, 1600000002: sky})
    results, others = await import_file(store, path)
    assert others == 3  # a person, saved messages, a group
    assert [(r.channel["title"], r.created) for r in results] == [("Tea Club", 2), ("Night Sky", 1)]
    assert (await posts_of(store, marked(tea)))[3]["media_type"] == "photo"
    with pytest.raises(ExportError, match="--username: names one channel, but export_full.json holds 2"):
        await import_file(store, path, "@teaclub")


async def test_an_imported_channel_trains_by_its_id(api: httpx.AsyncClient, store, tmp_path, new_id) -> None:
    bare = new_id()
    await import_file(store, export_copy(tmp_path, "export_channel.json", {1500000001: bare}))
    user = new_id()
    assert (await api.post("/api/v1/users/", json={"telegram_id": user})).status_code == 201
    response = await api.post(
        "/api/v1/posts/training",
        json={"user_telegram_id": user, "channel_usernames": [str(marked(bare))], "posts_per_channel": 3},
    )
    assert response.status_code == 200, response.text
    assert [post["telegram_message_id"] for post in response.json()["posts"]] == [19, 17, 16]


def _message(**fields: Any) -> dict[str, Any]:
    return {"id": 1, "type": "message", "date": "2024-01-01T10:00:00", "text": "x", **fields}


MALFORMED = [
    ("not json", b"{\"name\": \"x\", ", "not valid JSON"),
    ("a list", b"[1, 2]", "expected a JSON object, got a list"),
    ("no messages", b"{\"name\": \"x\"}", "neither a chat export (no 'messages')"),
    ("messages not a list", json.dumps({"id": 1, "messages": {}}).encode(), "'messages' must be a list, got an object"),
    ("bad date", json.dumps({"id": 1, "messages": [_message(), _message(id=2, date="yesterday")]}).encode(),
     "messages[1] (id 2): 'date' is not a date ('yesterday')"),
    ("bad text", json.dumps({"id": 1, "messages": [_message(text=[{"type": "bold", "text": 5}])]}).encode(),
     "messages[0] (id 1).text[0].text: expected a string"),
    ("no id", json.dumps({"id": 1, "messages": [_message(id=None)]}).encode(), "'id' must be a positive message number"),
    ("a group", json.dumps({"id": 1, "type": "private_supergroup", "messages": []}).encode(), "a private_supergroup export, not a channel's"),
    ("chat not an object", json.dumps({"chats": {"list": [3]}}).encode(), "chats.list[0]: expected an object"),
]


@pytest.mark.parametrize(("content", "words"), [(c, w) for _, c, w in MALFORMED], ids=[i for i, _, _ in MALFORMED])
def test_a_malformed_file_is_one_clear_error(content: bytes, words: str, tmp_path, capsys, monkeypatch, sqlite_url) -> None:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    path = tmp_path / "result.json"
    path.write_bytes(content)
    assert main(["import", str(path)]) == 2
    err = capsys.readouterr().err
    assert words in err and "result.json" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_a_missing_file_is_one_clear_error(tmp_path, capsys, monkeypatch, sqlite_url) -> None:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    assert main(["import", str(tmp_path / "nope.json")]) == 2
    assert "cannot read it" in capsys.readouterr().err


def test_the_command_imports_and_reports(tmp_path, capsys, monkeypatch, sqlite_url, new_id) -> None:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    bare = new_id()
    path = export_copy(tmp_path, "export_channel.json", {1500000001: bare})
    assert main(["import", str(path), "--username", f"@cmd{bare}"]) == 0
    out = capsys.readouterr().out
    assert f"@cmd{bare} (Harbour Watch): 14 posts read, 14 new, 3 service or empty messages skipped" in out
    assert main(["import", str(path)]) == 0
    assert "14 posts read, 0 new" in capsys.readouterr().out
    assert main(["import", str(path), "--username", "12345"]) == 2


async def test_a_large_file_shows_progress(store, tmp_path, new_id) -> None:
    bare = new_id()
    messages = [
        {"id": n, "type": "message", "date_unixtime": str(1700000000 + n * 60), "date": "2023-11-14T22:13:20",
         "text": f"bulk post {n}"}
        for n in range(1, 6001)
    ]
    path = tmp_path / "big.json"
    path.write_text(json.dumps({"name": "Bulk", "type": "public_channel", "id": bare, "messages": messages}))
    bar = io.StringIO()
    results, _ = await import_file(store, path, progress_to=bar)
    assert results[0].created == 6000
    assert "importing" in bar.getvalue() and "6000/6000" in bar.getvalue()
    quiet = io.StringIO()
    await import_file(store, export_copy(tmp_path, "export_channel.json", {1500000001: new_id()}), progress_to=quiet)
    assert quiet.getvalue() == ""  # small files need no bar


async def html_of(store: Store, telegram_id: int) -> dict[int, tuple[str, str | None]]:
    channel = await store.get_channel(ChannelName(telegram_id=telegram_id))
    records = await store.database.fetch_all(
        sa.select(posts.c.telegram_message_id, posts.c.text, posts.c.html).where(posts.c.channel_id == channel["id"]))
    return {r[0]: (r[1], r[2]) for r in records}


async def test_an_exports_formatting_is_kept_as_telegram_html(store, tmp_path, new_id) -> None:
    bare = new_id()
    messages = [
        _message(id=1, text=[
            "🔥 ", {"type": "bold", "text": "Итоги недели"}, ": цены <вверх> & ",
            {"type": "italic", "text": "«стабильность»"}, " — ", {"type": "text_link", "text": "читать", "href": "https://example.org/a?x=1&y=2"},
            " ", {"type": "hashtag", "text": "#экономика"}, " ", {"type": "custom_emoji", "text": "👍", "document_id": 5368324170671202286},
        ]),
        _message(id=2, text=[
            {"type": "pre", "text": "if a < b:\n    go()", "language": "python"}, "\n",
            {"type": "blockquote", "text": "A quote, folded", "collapsed": True}, "\n",
            {"type": "spoiler", "text": "the ending"}, " ", {"type": "strikethrough", "text": "old"},
            {"type": "underline", "text": "new"}, " ", {"type": "code", "text": "x&y"},
            " ", {"type": "text_link", "text": "bad", "href": "javascript:alert(1)"},
        ]),
        _message(id=3, text="Plain & simple", text_entities=[{"type": "plain", "text": "Plain & "},
                                                             {"type": "bold", "text": "simple"}]),
        _message(id=4, text="Nothing to format, <b> is text"),
    ]
    path = tmp_path / "formatted.json"
    path.write_text(json.dumps({"name": "Formats", "type": "public_channel", "id": bare, "messages": messages}))
    await import_file(store, path)
    stored = await html_of(store, marked(bare))
    assert stored[1] == (
        "🔥 Итоги недели: цены <вверх> & «стабильность» — читать (https://example.org/a?x=1&y=2) #экономика 👍",
        '🔥 <b>Итоги недели</b>: цены &lt;вверх&gt; &amp; <i>«стабильность»</i> — '
        '<a href="https://example.org/a?x=1&amp;y=2">читать</a> #экономика 👍')
    assert stored[2][1] == (
        '<pre><code class="language-python">if a &lt; b:\n    go()</code></pre>\n'
        "<blockquote expandable>A quote, folded</blockquote>\n"
        "<tg-spoiler>the ending</tg-spoiler> <s>old</s><u>new</u> <code>x&amp;y</code> bad")
    assert stored[3] == ("Plain & simple", "Plain &amp; <b>simple</b>"), "text_entities when text is a string"
    assert stored[4] == ("Nothing to format, <b> is text", None), "no formatting: no HTML kept"
