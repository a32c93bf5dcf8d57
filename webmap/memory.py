"""A big snapshot's objects kept out of the garbage collector's full passes.

A snapshot of a million projects is over a million Python objects that live until the next snapshot. CPython's
full collection walks every tracked object: ~100-300 ms at that size, during which no thread of the worker answers
(measured: tile requests of 1-2 ms waited up to 320 ms). After each new big snapshot the worker therefore collects
once, then freezes what is alive (``gc.freeze``: moved to a generation the collector never walks), so later
collections walk only what requests allocate. The next big snapshot unfreezes first, so the previous one's cycles
are collected then. Reference counting frees everything else as usual.
"""

from __future__ import annotations

import gc

from geo.dataset import Dataset

#: Records (all layers) from which a snapshot is frozen; a smaller one costs the collector little.
FREEZE_FROM_RECORDS = 50_000


def settle(snapshot: Dataset) -> bool:
    """After a new snapshot is loaded: if it is big, collect once and freeze what is alive. True if frozen."""
    if sum(len(frame) for frame in snapshot.layers.values()) < FREEZE_FROM_RECORDS:
        return False
    gc.unfreeze()  # the previous snapshot's objects can be collected again
    gc.collect()
    gc.freeze()
    return True
