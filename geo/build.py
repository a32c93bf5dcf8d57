"""Build the store: validate every source, then merge them into the store as seed changes, at once.

The first build writes every layer; later builds change only what the sources changed, and never a
record a user has changed since (:mod:`geo.ledger.seed`). The spatial layers come first, in
``geo.schema.LAYER_NAMES`` order; the register of sources (``sources``) and the change log follow.
A GeoPackage that cannot be read is kept aside (renamed, never deleted) and a new one is built.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from geo import io
from geo.ledger.seed import SeedReport, load_seed
from geo.store import GeoPackageStore, Layer, in_store_order, is_spatial, open_store


def _set_aside_if_unreadable(store: GeoPackageStore, say: Callable[[str], None]) -> None:
    """Rename a GeoPackage that cannot be read to ``<name>.damaged-<UTC time>`` (it may hold edits)."""
    from geo.dataset import _check_integrity

    if not store.path.exists():
        return
    try:
        _check_integrity(store.path)
        store.layer_names()
    except Exception as exc:  # noqa: BLE001 - sqlite and GDAL raise their own families
        aside = store.path.with_name(f"{store.path.name}.damaged-{datetime.now(UTC):%Y%m%dT%H%M%SZ}")
        store.path.rename(aside)
        say(f"  the store could not be read ({type(exc).__name__}); kept it as {aside.name} and building a new one")


def build_store(
    out: str | Path | None = None,
    *,
    sources_dir: str | Path = io.DEFAULT_SOURCES_DIR,
    boundaries: str | Path = io.DEFAULT_BOUNDARIES,
    progress: Callable[[str], None] | None = None,
) -> SeedReport:
    """Validate the sources and merge them (WGS84) into a GeoPackage or PostGIS store at once; say what changed."""
    say = progress or (lambda _msg: None)
    say(f"reading sources from {sources_dir} and boundaries from {boundaries}")
    ordered = in_store_order(io.read_sources(Path(sources_dir), Path(boundaries)))
    for name, frame in ordered.items():
        say(f"  validated {name}: {len(frame)} records")
    store = open_store(out)
    say(f"writing {store.path}")
    try:
        if isinstance(store, GeoPackageStore):
            _set_aside_if_unreadable(store, say)
        report = load_seed(store, ordered, progress=say)
    finally:
        store.close()  # a PostGIS store's connections, so the database is free (to copy, to drop)
    tables = [n for n, f in ordered.items() if not is_spatial(f)]
    say(f"done: {len(ordered) - len(tables)} layers, WGS84 (EPSG:4326)"
        + (f"; table(s) without geometry: {', '.join(tables)}, changes" if tables else ""))
    return report


__all__ = ["Layer", "build_store", "in_store_order"]
