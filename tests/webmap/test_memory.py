"""A big snapshot is frozen out of the collector's full passes; a small one is left alone."""

from __future__ import annotations

import gc
import weakref

import pytest

from geo.dataset import Dataset
from webmap import memory


class _Node:
    """An object in a reference cycle: only a collection frees it."""

    def __init__(self) -> None:
        self.me = self


@pytest.fixture
def unfrozen():
    yield
    gc.unfreeze()


def test_a_big_snapshot_is_frozen_and_the_next_frees_what_the_last_left(layers, monkeypatch, unfrozen):
    snapshot = Dataset(layers)
    monkeypatch.setattr(memory, "FREEZE_FROM_RECORDS", sum(len(f) for f in snapshot.layers.values()))
    old = _Node()
    gone = weakref.ref(old)
    assert memory.settle(snapshot) and gc.get_freeze_count() > 10_000
    del old  # garbage now, but frozen: full collections do not walk it
    gc.collect()
    assert gone() is not None
    assert memory.settle(snapshot)  # the next snapshot unfreezes first
    assert gone() is None


def test_a_small_snapshot_is_not_frozen(layers, unfrozen):
    assert not memory.settle(Dataset(layers))  # the real data: a few hundred records
    assert gc.get_freeze_count() == 0
