"""The layer store: whole layers in and out of a GeoPackage, written atomically.

The store is a small interface (:class:`Store`) with two implementations, chosen by location
(:func:`open_store`): this GeoPackage one and :class:`geo.postgis.PostGISStore`. Spatial layers are
stored in WGS84 (EPSG:4326). A layer without geometry (the register of sources, ``sources``) is a
plain ``pandas.DataFrame``: it is written as a GeoPackage attribute table (no geometry column, no
CRS, no spatial index) and read back as a DataFrame. A layer is spatial iff it has a geometry
column (:func:`is_spatial`).
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely

from geo import crs
from geo.errors import NotFoundError, StoreError
from geo.schema import LAYER_NAMES

if TYPE_CHECKING:
    from geo.postgis import PostGISStore
    from geo.store_queries import MemoryQueries

ROOT = Path(__file__).resolve().parents[1]
#: The app's own store, in Flask's instance folder (``geo.settings`` names it; a clean never removes it).
DEFAULT_STORE_PATH = ROOT / "instance" / "corridors.gpkg"
#: Fixed timestamp written into the GeoPackage metadata so that two builds give the same file.
BUILD_TIMESTAMP = "2000-01-01T00:00:00Z"


#: OGR field types read back as nullable integers in an attribute table (GDAL hands them over as floats
#: when a value is missing).
_INTEGER_TYPES = ("OFTInteger", "OFTInteger64")


@dataclass(frozen=True)
class LayerInfo:
    """What a layer holds: its name, feature count, geometry type and CRS.

    For an attribute table (no geometry) :meth:`geo.dataset.Dataset.info` gives ``None`` for both
    ``geometry_type`` and ``crs`` (JSON ``null`` in ``/api/layers``); :meth:`GeoPackageStore.info`
    spells them ``"None"`` (as GDAL reports them, printed by ``run.py layers``).
    """

    name: str
    feature_count: int
    geometry_type: str | None
    crs: str | None


Layer = gpd.GeoDataFrame | pd.DataFrame


@dataclass
class Update:
    """What a read-modify-write (:meth:`GeoPackageStore.update`) changes: layers replaced whole, and rows
    appended to tables (the change log), all in one atomic step."""

    replace: dict[str, Layer] = field(default_factory=dict)
    append: dict[str, pd.DataFrame] = field(default_factory=dict)

    def __bool__(self) -> bool:
        """Whether there is anything to write (an empty update leaves the store and its version as they are)."""
        return bool(self.replace) or any(len(rows) for rows in self.append.values())


def in_store_order(layers: Mapping[str, Layer]) -> dict[str, Layer]:
    """The layers in the order a build writes them: the spatial layers of ``LAYER_NAMES``, then the rest."""
    ordered = {name: layers[name] for name in LAYER_NAMES if name in layers}
    ordered.update((name, frame) for name, frame in layers.items() if name not in ordered)
    return ordered


def appended(current: Layer | None, rows: pd.DataFrame) -> pd.DataFrame:
    """A table with rows added at its end (columns of both, the current ones first)."""
    if current is None or len(current.columns) == 0:
        return rows.reset_index(drop=True)
    if rows.empty:
        return current
    return pd.concat([pd.DataFrame(current), rows], ignore_index=True, sort=False)


def is_spatial(frame: object) -> bool:
    """Whether a layer is spatial: a GeoDataFrame with an active geometry column (else an attribute table)."""
    if not isinstance(frame, gpd.GeoDataFrame):
        return False
    try:
        frame.geometry  # noqa: B018 - raises AttributeError when no geometry column is set
    except AttributeError:
        return False
    return True


@contextmanager
def _gdal_options(**options: str) -> Iterator[None]:
    """Set GDAL configuration options for the duration of a block, then restore them."""
    before = {k: pyogrio.get_gdal_config_option(k) for k in options}
    pyogrio.set_gdal_config_options(options)
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options(before)


class Store(Protocol):
    """Layer storage: read one layer, list layers, replace all layers at once, and answer the queries
    of ``geo.store_queries`` (near, in a bbox, by id) itself."""

    def exists(self) -> bool: ...

    def layer_names(self) -> list[str]: ...

    def read(self, name: str) -> Layer: ...

    def read_all(self) -> dict[str, Layer]: ...

    def info(self) -> list[LayerInfo]: ...

    def write(self, layers: Mapping[str, Layer]) -> None: ...

    def update(self, change: Callable[[dict[str, Layer]], Update]) -> Update: ...

    def near(self, layer: str, geometry_wgs84: shapely.Geometry, radius_m: float, *, limit: int | None = None,
             offset: int = 0, where: Mapping[str, Sequence[str]] | None = None) -> gpd.GeoDataFrame: ...

    def in_bbox(self, layer: str, west: float, south: float, east: float, north: float, *,
                limit: int | None = None, offset: int = 0,
                where: Mapping[str, Sequence[str]] | None = None) -> gpd.GeoDataFrame: ...

    def by_id(self, layer: str, id: str) -> gpd.GeoDataFrame: ...

    def close(self) -> None: ...


class GeoPackageStore:
    """A GeoPackage file holding the layers (WGS84), replaced atomically on write."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"GeoPackageStore({str(self.path)!r})"

    def close(self) -> None:
        """Nothing to release: every read opens the file and closes it again (as PostGISStore.close)."""

    def exists(self) -> bool:
        """Return True when the GeoPackage file is there."""
        return self.path.is_file()

    def _require(self) -> None:
        if not self.exists():
            raise NotFoundError(
                f"no store at {self.path}; build it with `python run.py build`", file=str(self.path)
            )

    def layer_names(self) -> list[str]:
        """Return the names of the layers in the file, in the order they were written."""
        self._require()
        return [str(name) for name, _ in pyogrio.list_layers(self.path)]

    def read(self, name: str) -> Layer:
        """Read a whole layer: a GeoDataFrame in WGS84 (EPSG:4326), or a DataFrame for an attribute table."""
        names = self.layer_names()
        if name not in names:
            raise NotFoundError(f"unknown layer {name!r}; expected one of: {', '.join(names)}", field="layer")
        frame = pyogrio.read_dataframe(self.path, layer=name, use_arrow=False)
        if isinstance(frame, gpd.GeoDataFrame):
            return frame.set_crs(crs.WGS84, allow_override=True) if frame.crs is None else frame
        # an attribute table: integer fields with a missing value come back as floats; make them Int64 again
        meta = pyogrio.read_info(self.path, layer=name)
        for column, ogr_type in zip(meta["fields"], meta["ogr_types"]):
            if ogr_type in _INTEGER_TYPES and column in frame and frame[column].dtype.kind == "f":
                frame[column] = frame[column].astype("Int64")
        return frame

    def read_all(self) -> dict[str, Layer]:
        """Read every layer (spatial ones in WGS84), keyed by name."""
        return {name: self.read(name) for name in self.layer_names()}

    def info(self) -> list[LayerInfo]:
        """Describe every layer: feature count, geometry type and CRS ("None" for an attribute table)."""
        out = []
        for name in self.layer_names():
            meta = pyogrio.read_info(self.path, layer=name)
            out.append(LayerInfo(name, int(meta["features"]), str(meta["geometry_type"]), str(meta["crs"])))
        return out

    # -- queries, answered in memory (geo.store_queries; PostGISStore answers the same calls in SQL) --------

    def _queries(self) -> MemoryQueries:
        """The layers read once into a :class:`~geo.store_queries.MemoryQueries`, re-read when the file changes."""
        from geo.store_queries import MemoryQueries

        self._require()
        stat = self.path.stat()
        key = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        cached = getattr(self, "_memory", None)
        if cached is None or cached[0] != key:
            cached = (key, MemoryQueries(self.read_all()))
            self._memory = cached
        return cached[1]

    def near(self, layer: str, geometry_wgs84: shapely.Geometry, radius_m: float, *, limit: int | None = None,
             offset: int = 0, where: Mapping[str, Sequence[str]] | None = None) -> gpd.GeoDataFrame:
        """Rows within ``radius_m`` (geodesic) of a WGS84 geometry, nearest first (see geo.store_queries)."""
        return self._queries().near(layer, geometry_wgs84, radius_m, limit=limit, offset=offset, where=where)

    def in_bbox(self, layer: str, west: float, south: float, east: float, north: float, *,
                limit: int | None = None, offset: int = 0,
                where: Mapping[str, Sequence[str]] | None = None) -> gpd.GeoDataFrame:
        """Rows whose bounding box meets a WGS84 box, in stored order (see geo.store_queries)."""
        return self._queries().in_bbox(layer, west, south, east, north, limit=limit, offset=offset, where=where)

    def by_id(self, layer: str, id: str) -> gpd.GeoDataFrame:
        """The rows of a layer with this id (``code`` for the districts); NotFoundError if none."""
        return self._queries().by_id(layer, id)

    @contextmanager
    def _write_lock(self) -> Iterator[None]:
        """Hold the store's write lock (a lock file beside it): writers of every process take turns."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.parent / f".{self.path.name}.lock", "a+b") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def update(self, change: Callable[[dict[str, Layer]], Update],
               progress: Callable[[str], None] | None = None) -> Update:
        """Read every layer, let ``change`` say what to replace and append, and write the result atomically,
        all under the write lock (no other writer in between); ``change`` raising, or saying there is nothing
        to write, leaves the store (and its version) as it was."""
        with self._write_lock():
            current = self.read_all() if self.exists() else {}
            update = change(dict(current))
            if not update:
                return update
            layers = {**current, **update.replace}
            for name, rows in update.append.items():
                layers[name] = appended(current.get(name), rows)
            self._write(layers, progress)
        return update

    def write(
        self,
        layers: Mapping[str, Layer],
        progress: Callable[[str], None] | None = None,
    ) -> None:
        """Write all layers to a temporary file beside the store, then swap it in atomically.

        A spatial layer must be in WGS84 and gets a spatial index; a layer without a geometry column
        (a DataFrame) becomes an attribute table."""
        with self._write_lock():
            self._write(layers, progress)

    def _write(self, layers: Mapping[str, Layer], progress: Callable[[str], None] | None) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp.gpkg", dir=self.path.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        tmp.unlink()
        try:
            with _gdal_options(OGR_CURRENT_DATE=BUILD_TIMESTAMP):
                for name, gdf in layers.items():
                    if not is_spatial(gdf):
                        pyogrio.write_dataframe(pd.DataFrame(gdf), tmp, layer=name, driver="GPKG",
                                                append=tmp.exists())
                        if progress:
                            progress(f"  wrote table {name}: {len(gdf)} rows (no geometry)")
                        continue
                    if gdf.crs is None or not gdf.crs.equals(crs.WGS84):
                        raise StoreError(f"layer {name!r} must be in WGS84 (EPSG:4326), got {gdf.crs}")
                    pyogrio.write_dataframe(
                        gdf, tmp, layer=name, driver="GPKG", append=tmp.exists(),
                        layer_options={"SPATIAL_INDEX": "YES"},
                    )
                    if progress:
                        progress(f"  wrote layer {name}: {len(gdf)} features")
            os.replace(tmp, self.path)
        except Exception as exc:
            tmp.unlink(missing_ok=True)
            if isinstance(exc, StoreError):
                raise
            raise StoreError(f"could not write {self.path}: {exc}", file=str(self.path)) from exc


def is_postgis_url(location: object) -> bool:
    """Whether a store location is a PostgreSQL URL (``postgresql://`` or ``postgres://``)."""
    return isinstance(location, str) and location.startswith(("postgresql:", "postgres:"))


def open_store(location: str | os.PathLike[str] | None = None) -> GeoPackageStore | PostGISStore:
    """Open a store by location: a GeoPackage path or ``gpkg:`` URL (default ``instance/corridors.gpkg``),
    or a ``postgresql://`` (``postgres://``) URL for a :class:`geo.postgis.PostGISStore`."""
    if location is None:
        return GeoPackageStore(DEFAULT_STORE_PATH)
    text = os.fspath(location)
    if is_postgis_url(text):
        from geo.postgis import PostGISStore  # imports SQLAlchemy and psycopg only when asked for

        return PostGISStore(text)
    return GeoPackageStore(text.removeprefix("gpkg:"))


__all__ = [
    "BUILD_TIMESTAMP",
    "DEFAULT_STORE_PATH",
    "LAYER_NAMES",
    "GeoPackageStore",
    "Layer",
    "LayerInfo",
    "Store",
    "Update",
    "appended",
    "in_store_order",
    "is_postgis_url",
    "is_spatial",
    "open_store",
]
