"""`ppb import result.json`: a Telegram Desktop export into the store, batched, with progress."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from tqdm import tqdm

from ppb.config import Settings
from ppb.domain.channels import ChannelName
from ppb.domain.errors import DomainError
from ppb.scraper.export import ExportError, read_export
from ppb.scraper.sync import save_channel, save_posts
from ppb.store.queries import Row, Store

PROGRESS_FROM = 5000
"""Posts from which a progress bar is shown."""


@dataclass
class Imported:
    channel: Row
    read: int
    created: int
    skipped: int


async def import_file(
    store: Store,
    path: Path,
    username: str | None = None,
    *,
    progress_from: int = PROGRESS_FROM,
    progress_to: TextIO | None = None,
) -> tuple[list[Imported], int]:
    """Import every channel of the file; returns what each got and how many other chats were left out.

    The whole file is checked before anything is written, so a malformed one writes nothing.
    """
    export = read_export(path)
    if not export.channels:
        raise ExportError(f"{path.name}: holds no channel ({export.other_chats} other chats left out)")
    name = None
    if username is not None:
        if len(export.channels) != 1:
            raise ExportError(f"--username: names one channel, but {path.name} holds {len(export.channels)}")
        try:
            name = ChannelName.parse(username).username
        except DomainError as error:
            raise ExportError(f"--username: {error.detail}") from None
        if name is None:
            raise ExportError("--username: a username has letters, not only digits")
    total = sum(len(channel.posts) for channel in export.channels)
    results: list[Imported] = []
    with tqdm(
        total=total, unit="posts", desc="importing", disable=total < progress_from,
        file=progress_to or sys.stderr, dynamic_ncols=True,
    ) as bar:
        for channel in export.channels:
            row = await save_channel(store, channel.telegram_id, name, channel.title)
            created = await save_posts(store, row["id"], channel.posts, on_batch=bar.update)
            results.append(Imported(row, len(channel.posts), created, channel.skipped))
    return results, export.other_chats


async def _import_with_store(store: Store, path: Path, username: str | None) -> tuple[list[Imported], int]:
    await store.connect()
    try:
        return await import_file(store, path, username)
    finally:
        await store.disconnect()


def run_import(settings: Settings, file: str, username: str | None, open_store: Callable[[Settings], Store]) -> int:
    """The `ppb import` command, writing through a store `open_store` opens: 0 done, 2 for a
    file or name that is wrong (one line, no traceback)."""
    from ppb.store.migrate import upgrade

    path = Path(file)
    try:
        read_export(path)  # a malformed file is reported before the database is touched
        upgrade(settings.async_database_url)
        results, others = asyncio.run(_import_with_store(open_store(settings), path, username))
    except (ExportError, DomainError) as error:
        print(f"ppb import: error: {error}", file=sys.stderr)
        return 2
    for result in results:
        channel = result.channel
        name = f"@{channel['username']}" if channel["username"] else str(channel["telegram_id"])
        print(
            f"{name} ({channel['title']}): {result.read} posts read, {result.created} new"
            + (f", {result.skipped} service or empty messages skipped" if result.skipped else "")
        )
    if others:
        print(f"{others} chats that are not channels left out")
    return 0
