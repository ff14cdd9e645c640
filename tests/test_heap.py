"""`ppb.heap.settle`: what a process built is frozen out of the collector's walks, and the
young generation is collected less often."""

from __future__ import annotations

import gc

import pytest

from ppb import heap
from ppb.compose.web import http_app
from ppb.config import load_settings
from tests.bot_helpers import serve


def test_settle_freezes_what_is_alive_and_raises_the_young_threshold() -> None:
    threshold = gc.get_threshold()
    kept = [object() for _ in range(10)]
    gc.unfreeze()
    try:
        heap.settle()
        assert gc.get_freeze_count() > len(kept)
        assert gc.get_threshold() == (heap.YOUNG_THRESHOLD, *threshold[1:])
        assert not any(kept is tracked for tracked in gc.get_objects(generation=2))  # frozen, not walked
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)


@pytest.mark.parametrize("settle", [True, False])
async def test_a_server_process_app_settles_once_started(sqlite_url: str, settle: bool) -> None:
    """The app of `ppb api --bare` and of Serve's replica settles when its start-up is done;
    an app built in a process that keeps building others (a test's) is left alone."""
    threshold = gc.get_threshold()
    gc.unfreeze()
    try:
        async with serve(http_app(load_settings(DATABASE_URL=sqlite_url), settle=settle)):
            frozen = gc.get_freeze_count()
        assert (frozen > 0) is settle
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
