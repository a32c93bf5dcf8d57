"""Build the store: validate every source, then write all layers in one atomic step."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import geopandas as gpd

from geo import io
from geo.schema import LAYER_NAMES
from geo.store import GeoPackageStore, open_store


def build_store(
    out: str | Path | None = None,
    *,
    sources_dir: str | Path = io.DEFAULT_SOURCES_DIR,
    boundaries: str | Path = io.DEFAULT_BOUNDARIES,
    progress: Callable[[str], None] | None = None,
) -> dict[str, gpd.GeoDataFrame]:
    """Validate the sources and write the WGS84 GeoPackage; return the layers written."""
    say = progress or (lambda _msg: None)
    say(f"reading sources from {sources_dir} and boundaries from {boundaries}")
    layers = io.read_sources(Path(sources_dir), Path(boundaries))
    for name in LAYER_NAMES:
        say(f"  validated {name}: {len(layers[name])} records")
    store: GeoPackageStore = open_store(out)
    say(f"writing {store.path}")
    ordered = {name: layers[name] for name in LAYER_NAMES}
    store.write(ordered, progress=say)
    say(f"done: {len(ordered)} layers, WGS84 (EPSG:4326)")
    return ordered
