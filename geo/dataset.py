"""The dataset: one consistent snapshot of a store's layers, and a live handle that follows the store.

A :class:`Dataset` is immutable: the layers of one version of the store (WGS84), their spatial
indexes, the corridor belts and joins computed from them, and a bounded cache of results that
depend only on this version and their parameters. A layer without geometry (the register of
sources, ``sources``) is kept as a plain DataFrame beside the spatial layers; spatial code (the
query engine, belts, joins) sees only the spatial ones (:attr:`Dataset.spatial`). Every record of a
spatial layer carries its source's title, kind, date and publisher, joined from the register by
``source_id`` once per version (:func:`geo.citations.with_sources`), so every answer shows them.
A caller takes one snapshot and uses it for a whole answer, so an answer never mixes two versions.

A :class:`LiveDataset` hands out the snapshot of the store as it is now: every call checks the
store's version (a GeoPackage file: one ``stat``; PostGIS: its data version, one query), and when
it has changed, loads the new version once (other callers keep the old snapshot until the new one
is complete). A missing, truncated, corrupt or unreachable store raises
:class:`~geo.errors.StoreUnavailable`, never a stale or half-read answer.

On PostGIS a dataset is read in one transaction (its version and layers agree) and buffer queries
(``near``) are not answered from the snapshot but in SQL (``ST_DWithin`` on the geography index),
with the same rows and distances as the in-memory path.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import geopandas as gpd
import pandas as pd

from geo import analysis, citations
from geo.errors import NotFoundError, StoreError, StoreUnavailable
from geo.query import Finder, QueryEngine
from geo.schema import INTERNAL_TABLES, LAYER_NAMES, LOG_LAYER, REGISTER_LAYER
from geo.store import GeoPackageStore, Layer, LayerInfo, is_spatial, open_store

if TYPE_CHECKING:
    from geo.postgis import PostGISStore

T = TypeVar("T")

#: What a planner or an operator should do when the store cannot be read.
REBUILD_HINT = "build it with `make build` (or `python run.py build`); the map picks it up without a restart"
#: Results kept per snapshot; an entry whose bytes or text exceed ``MEMO_MAX_ENTRY_BYTES`` is not kept.
MEMO_ENTRIES = 32
MEMO_MAX_ENTRY_BYTES = 4 * 1024 * 1024
#: After a failed load, how long to wait before trying the same unchanged file again (s).
RETRY_AFTER_S = 2.0


def _nbytes(value: object) -> int:
    """Bytes held by a cached value's bytes or str parts (other values count as small)."""
    if isinstance(value, (bytes, bytearray, str)):
        return len(value)
    if isinstance(value, tuple):
        return sum(_nbytes(v) for v in value)
    return 0


class Memo:
    """A bounded, thread-safe LRU cache where concurrent callers of one key compute it once."""

    def __init__(self, max_entries: int = MEMO_ENTRIES) -> None:
        self.max_entries = max_entries
        self._values: OrderedDict[Hashable, Any] = OrderedDict()
        self._inflight: dict[Hashable, threading.Event] = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        """Return the cached value of ``key``, computing it (once, whoever asks meanwhile) when absent."""
        while True:
            with self._lock:
                if key in self._values:
                    self._values.move_to_end(key)
                    self.hits += 1
                    return self._values[key]
                waiting = self._inflight.get(key)
                if waiting is None:
                    self._inflight[key] = threading.Event()
                    self.misses += 1
                    break
            waiting.wait()  # another caller computes it; then look again (it may have failed)
        try:
            value = compute()
            if _nbytes(value) <= MEMO_MAX_ENTRY_BYTES:
                with self._lock:
                    self._values[key] = value
                    while len(self._values) > self.max_entries:
                        self._values.popitem(last=False)
            return value
        finally:
            with self._lock:
                self._inflight.pop(key).set()

    def __len__(self) -> int:
        return len(self._values)


class Dataset:
    """The layers of one version of a store (WGS84) with their indexes, belts and joins, computed once.

    ``layers`` holds every layer by name: the spatial ones (GeoDataFrames, each record with its source's
    ``source_title_zh``, ``source_title_en``, ``source_kind``, ``source_published_date`` and
    ``source_publisher``) and the tables without geometry (``sources``, a DataFrame). ``spatial`` holds
    the spatial ones only; ``sources`` is the register (None in a store built before it existed).
    ``changes`` is the ledger's change log (None before the ledger); it and the service's other own
    tables (users, tokens: ``geo.schema.INTERNAL_TABLES``) are never among the ``layers``."""

    def __init__(self, layers: Mapping[str, Layer], *, version: str = "memory",
                 belt_km: float | None = None, finder: Finder | None = None,
                 radii_km: Mapping[str, float] | None = None) -> None:
        #: the service's own tables (change log, users, tokens): never served as layers
        self.internal: dict[str, pd.DataFrame] = {n: f for n, f in layers.items() if n in INTERNAL_TABLES}
        self.changes: pd.DataFrame | None = self.internal.get(LOG_LAYER)
        layers = {name: frame for name, frame in layers.items() if name not in INTERNAL_TABLES}
        register = layers.get(REGISTER_LAYER)
        self.sources: pd.DataFrame | None = None if register is None or is_spatial(register) else register
        self.layers: dict[str, Layer] = {
            name: citations.with_sources(frame, self.sources) if is_spatial(frame) else frame
            for name, frame in layers.items()}
        self.spatial: dict[str, gpd.GeoDataFrame] = {n: f for n, f in self.layers.items() if is_spatial(f)}
        self.version = version
        self.belt_km = belt_km
        self.radii_km = dict(radii_km or {})
        self.belts = analysis.corridor_belts(self.spatial["corridors"], belt_km)
        self.engine = QueryEngine(self.spatial, finder=finder, radii_km=self.radii_km)
        self.joined = analysis.joined(self.spatial, belt_km, radii_km=self.radii_km, possible=self.engine.possible)
        self.memo = Memo()

    def layer(self, name: str) -> Layer:
        """One layer by name; an unknown name raises NotFoundError naming the known layers."""
        if name not in self.layers:
            raise NotFoundError(f"unknown layer {name!r}; expected one of: {', '.join(self.layers)}", field="layer")
        return self.layers[name]

    def info(self) -> list[LayerInfo]:
        """Each layer's name, feature count, geometry type and CRS (all WGS84; None for a table without geometry)."""
        out = []
        for name, frame in self.layers.items():
            if not is_spatial(frame):
                out.append(LayerInfo(name, len(frame), None, None))
                continue
            types = sorted(set(frame.geom_type.dropna()))
            out.append(LayerInfo(name, len(frame), "/".join(types) or "Unknown", f"EPSG:{frame.crs.to_epsg()}"))
        return out

    def as_of(self, day: date) -> Dataset:
        """The dataset as the ledger stood at the end of ``day`` (China time): its records from the change log,
        the districts and register as now (WGS84; kept with this version; queries run in memory)."""
        return self.during(day, day)

    def during(self, first: date | None, last: date | None) -> Dataset:
        """The dataset of the records that existed on some day from ``first`` to ``last`` (China time, both
        included; None: open), each as it last stood then, by the ledger; the rest as now (WGS84)."""
        def build() -> Dataset:
            from geo.ledger.changes import LEDGER_LAYERS, during

            layers: dict[str, Layer] = dict(self.layers)
            for name in LEDGER_LAYERS:
                if name in layers:
                    layers[name] = during(self.changes, name, first, last, like=self.spatial[name])
            label = first.isoformat() if first == last and first else \
                f"{first.isoformat() if first else '..'}/{last.isoformat() if last else '..'}"
            return Dataset(layers, version=f"{self.version}@{label}", belt_km=self.belt_km, radii_km=self.radii_km)

        return self.cached(("during", first, last), build)

    def cached(self, key: Hashable, compute: Callable[[], T]) -> T:
        """A result that depends only on this version and ``key``, computed once and kept (bounded)."""
        return self.memo.get(key, compute)


@dataclass(frozen=True)
class _FileState:
    """What identifies one version of the store file on disk (a build replaces the file)."""

    inode: int
    mtime_ns: int
    size: int


def _file_state(path: Path) -> _FileState:
    st = os.stat(path)
    return _FileState(st.st_ino, st.st_mtime_ns, st.st_size)


def content_version(path: Path) -> str:
    """A short content hash of the store file: equal files give equal versions."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def _check_integrity(path: Path) -> None:
    """Raise when SQLite finds the GeoPackage damaged (a truncated or overwritten file)."""
    con = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    try:
        (result,) = con.execute("PRAGMA quick_check").fetchone()
    finally:
        con.close()
    if result != "ok":
        raise sqlite3.DatabaseError(result)


class _Changed(Exception):
    """The store file was replaced while it was being read."""


def _require_layers(layers: Mapping[str, Layer]) -> None:
    missing = [name for name in LAYER_NAMES if name not in layers]
    if missing:
        raise StoreUnavailable(f"the data store lacks the layer(s) {', '.join(missing)}; re{REBUILD_HINT}")


def load_dataset(store: GeoPackageStore | PostGISStore, belt_km: float | None = None, *,
                 radii_km: Mapping[str, float] | None = None) -> Dataset:
    """Read, check and index every layer of a store (WGS84); raise StoreUnavailable if it can't be read."""
    if not isinstance(store, GeoPackageStore):
        with _database_errors():
            version, layers = store.snapshot()
        _require_layers(layers)
        return Dataset(layers, version=version, belt_km=belt_km, finder=store, radii_km=radii_km)
    try:
        before = _file_state(store.path)
        _check_integrity(store.path)
        version = content_version(store.path)
        layers = store.read_all()
        if _file_state(store.path) != before:
            raise _Changed
    except FileNotFoundError:
        raise StoreUnavailable(f"the data store has not been built; {REBUILD_HINT}") from None
    except (StoreUnavailable, _Changed):
        raise
    except Exception as exc:  # sqlite, GDAL and pandas each raise their own family
        raise StoreUnavailable(f"the data store is damaged or incomplete and cannot be read "
                               f"({type(exc).__name__}); re{REBUILD_HINT}") from exc
    _require_layers(layers)
    return Dataset(layers, version=version, belt_km=belt_km, radii_km=radii_km)


@contextmanager
def _database_errors() -> Iterator[None]:
    """Turn a PostGIS store's failures into StoreUnavailable with what to do (and no URL: it names the server)."""
    try:
        yield
    except NotFoundError:
        raise StoreUnavailable(f"the PostGIS store has not been built; {REBUILD_HINT} with DATABASE_URL set") from None
    except StoreError:
        raise StoreUnavailable("the PostGIS store cannot be reached; check that PostgreSQL is running and that "
                               "DATABASE_URL names it; the map answers again as soon as it is back") from None
    except StoreUnavailable:
        raise
    except Exception as exc:  # SQLAlchemy and psycopg raise their own families
        raise StoreUnavailable(f"the PostGIS store could not be read ({type(exc).__name__}); if this persists, "
                               f"re{REBUILD_HINT} with DATABASE_URL set") from exc


class LiveDataset:
    """The snapshot of a store as it is now, reloaded once whenever the store has a new version.

    For a GeoPackage every call checks the file (one ``stat``): a build replaces it. For PostGIS every
    call asks the database for its data version (one query on a pooled connection), so a commit made by
    any process on any machine is seen by the next request of every worker; buffer queries run in SQL."""

    def __init__(self, store: GeoPackageStore | PostGISStore | str | os.PathLike[str],
                 belt_km: float | None = None, *, radii_km: Mapping[str, float] | None = None) -> None:
        self.store = open_store(store) if isinstance(store, (str, os.PathLike)) else store
        self.belt_km = belt_km
        self.radii_km = radii_km
        self._current: tuple[Hashable, Dataset] | None = None
        self._failed: tuple[Hashable, float, StoreUnavailable] | None = None
        self._lock = threading.Lock()

    def _state(self) -> Hashable:
        """What identifies the store's version now: the file's identity, or the database's data version."""
        if not isinstance(self.store, GeoPackageStore):
            with _database_errors():
                return self.store.data_version()
        try:
            return _file_state(self.store.path)
        except FileNotFoundError:
            raise StoreUnavailable(f"the data store has not been built; {REBUILD_HINT}") from None

    def current(self) -> Dataset:
        """The dataset of the store as it is now; raises StoreUnavailable when it can't be read."""
        try:
            state = self._state()
        except StoreUnavailable:
            self._current = None
            raise
        loaded = self._current
        if loaded is not None and loaded[0] == state:
            return loaded[1]
        with self._lock:  # one loader; the others wait for its snapshot rather than read the store too
            loaded = self._current
            if loaded is not None and loaded[0] == state:
                return loaded[1]
            failed = self._failed
            if failed is not None and failed[0] == state and time.monotonic() - failed[1] < RETRY_AFTER_S:
                raise failed[2]
            try:
                state, dataset = self._load()
            except StoreUnavailable as exc:
                self._current = None  # never answer from an older version once the store has changed
                self._failed = (state, time.monotonic(), exc)
                raise
            self._failed = None
            self._current = (state, dataset)
            return dataset

    def _load(self, attempts: int = 5) -> tuple[Hashable, Dataset]:
        """Load the store as it is now (a GeoPackage is read again when a build replaced it meanwhile)."""
        if not isinstance(self.store, GeoPackageStore):
            dataset = load_dataset(self.store, self.belt_km, radii_km=self.radii_km)  # one transaction: its version is its state
            return dataset.version, dataset
        for _ in range(attempts):
            try:
                state = _file_state(self.store.path)
                return state, load_dataset(self.store, self.belt_km, radii_km=self.radii_km)
            except FileNotFoundError:
                raise StoreUnavailable(f"the data store has not been built; {REBUILD_HINT}") from None
            except _Changed:
                continue
        raise StoreUnavailable(f"the data store keeps changing while it is read; {REBUILD_HINT}")
