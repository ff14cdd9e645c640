"""`ppb.heap.settle`: what a process built is frozen out of the collector's walks, and the
young generation is collected less often."""

from __future__ import annotations

import gc

from ppb import heap


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
