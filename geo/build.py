"""Build the store: validate every source, then write all layers in one atomic step.

The spatial layers come first, in ``geo.schema.LAYER_NAMES`` order; any other layer ``geo.io`` returns
(the register of sources, ``sources``, a table without geometry) follows, in the order read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from geo import io
from geo.schema import LAYER_NAMES
from geo.store import Layer, is_spatial, open_store


def in_store_order(layers: Mapping[str, Layer]) -> dict[str, Layer]:
    """The layers in the order a build writes them: the spatial layers of ``LAYER_NAMES``, then the rest."""
    ordered = {name: layers[name] for name in LAYER_NAMES if name in layers}
    ordered.update((name, frame) for name, frame in layers.items() if name not in ordered)
    return ordered


def build_store(
    out: str | Path | None = None,
    *,
    sources_dir: str | Path = io.DEFAULT_SOURCES_DIR,
    boundaries: str | Path = io.DEFAULT_BOUNDARIES,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Layer]:
    """Validate the sources and write them (WGS84) to a GeoPackage or PostGIS store at once; return the layers."""
    say = progress or (lambda _msg: None)
    say(f"reading sources from {sources_dir} and boundaries from {boundaries}")
    ordered = in_store_order(io.read_sources(Path(sources_dir), Path(boundaries)))
    for name, frame in ordered.items():
        say(f"  validated {name}: {len(frame)} records")
    store = open_store(out)
    say(f"writing {store.path}")
    try:
        store.write(ordered, progress=say)
    finally:
        store.close()  # a PostGIS store's connections, so the database is free (to copy, to drop)
    tables = [n for n, f in ordered.items() if not is_spatial(f)]
    say(f"done: {len(ordered) - len(tables)} layers, WGS84 (EPSG:4326)"
        + (f"; table(s) without geometry: {', '.join(tables)}" if tables else ""))
    return ordered
