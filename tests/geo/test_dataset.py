"""Dataset snapshots and their result cache."""

from __future__ import annotations

import shutil
import threading
import time

import pytest

from geo.dataset import MEMO_MAX_ENTRY_BYTES, LiveDataset, Memo
from geo.errors import StoreUnavailable


def test_memo_computes_a_key_once_for_concurrent_callers():
    memo, calls = Memo(), []

    def slow() -> int:
        calls.append(1)
        time.sleep(0.2)
        return 42

    results = []
    threads = [threading.Thread(target=lambda: results.append(memo.get("k", slow))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [42] * 8 and len(calls) == 1 and memo.hits == 7


def test_memo_is_bounded_keeps_no_failure_and_no_huge_entry():
    memo = Memo(max_entries=3)
    for i in range(5):
        memo.get(i, lambda i=i: i)
    assert len(memo) == 3 and memo.get(0, lambda: "again") == "again"
    with pytest.raises(ValueError):
        memo.get("bad", lambda: (_ for _ in ()).throw(ValueError("no")))
    assert memo.get("bad", lambda: "ok") == "ok"
    memo.get("huge", lambda: b"x" * (MEMO_MAX_ENTRY_BYTES + 1))
    assert memo.get("huge", lambda: b"small") == b"small"


def test_live_dataset_follows_the_file(store_path, tmp_path):
    path = tmp_path / "corridors.gpkg"
    live = LiveDataset(path)
    with pytest.raises(StoreUnavailable, match="run.py build"):
        live.current()
    shutil.copy(store_path, path)
    first = live.current()
    assert live.current() is first and first.layer("parks") is first.layers["parks"]
    assert {i.name for i in first.info()} >= {"parks", "projects", "corridors", "institutions", "districts"}
    path.write_bytes(path.read_bytes()[:2048])
    with pytest.raises(StoreUnavailable, match="damaged or incomplete"):
        live.current()


def test_a_relative_store_path_loads(store_path, tmp_path, monkeypatch):
    shutil.copy(store_path, tmp_path / "corridors.gpkg")
    monkeypatch.chdir(tmp_path)
    assert LiveDataset("corridors.gpkg").current().layer("parks") is not None  # as `make serve` passes it
