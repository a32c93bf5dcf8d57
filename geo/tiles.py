"""Map tiles of the point layers: clusters per zoom, and the points themselves when zoomed in far enough.

A layer of a million projects cannot go to the browser whole. The map asks instead for the tiles it
shows (XYZ tiles of Web Mercator, EPSG:3857, as every web map uses; ``mercantile`` does the tile maths):

- below :data:`POINTS_FROM_Z` a tile holds **clusters**: the records are binned on a grid of
  :data:`CELLS_PER_TILE` x :data:`CELLS_PER_TILE` cells per tile (Web Mercator metres), and each
  occupied cell gives one cluster at the mean position of its records, with its exact ``count`` and
  the count per status. The clusters of every zoom up to POINTS_FROM_Z are built together, once per data
  version and filter, when the source is made (NumPy, vectorised: the records are binned once at
  POINTS_FROM_Z, and each zoom below from the one above, since a cell holds four cells of the zoom above;
  1M records take ~0.7 s), and cell keys run tile by tile, so every tile of a zoom is a slice;
- from :data:`POINTS_FROM_Z` on a tile holds the **points** (id, names, status, layer), at most
  :data:`MAX_POINTS_PER_TILE` of them (a denser tile keeps clustering, so nothing is dropped silently).

Counts are exact: every record is in exactly one cluster of each zoom, and the clusters of a tile are
those whose *cell* lies in the tile (a cell never straddles two tiles), so the counts of all tiles of a
zoom add up to the layer's count. Filters and ``as_of`` are applied to the layer before binning (the
caller passes the filtered frame and a key naming the filter).

Out: Mapbox Vector Tiles (``mapbox_vector_tile``, extent 4096, one layer named after the source layer,
geometry in tile coordinates) or the same as JSON with WGS84 positions. Input and stored data: WGS84.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import mapbox_vector_tile
import mercantile
import numpy as np
import pandas as pd
import pyproj
import shapely

from geo.errors import ValidationError
from geo.schema import STATUSES

#: Zoom from which tiles hold points instead of clusters.
POINTS_FROM_Z = 13
#: Cells per tile side for the clusters (a cell is 256 / 8 = 32 px on screen).
CELLS_PER_TILE = 8
CELLS = CELLS_PER_TILE * CELLS_PER_TILE
#: Most points in one tile; a denser tile is sent as clusters even at POINTS_FROM_Z and beyond. 500 points cover a
#: tile (256 px, or 512 px drawn from the zoom above) with symbols already; more cost the server ~30 us and the
#: browser ~20 us each per tile and say less than 64 counted clusters (1M projects: ~600 per tile at z13).
MAX_POINTS_PER_TILE = 500
MAX_Z = 20
#: Encoded tiles a source keeps (the most recently asked; a 1M-project tile is 1-20 kB).
TILES_KEPT = 2048
#: Extent of a vector tile in its own coordinates (the MVT default).
EXTENT = 4096
#: Columns a point carries in a tile (when the layer has them).
POINT_COLUMNS = ("id", "name_zh", "name_en", "status", "location_precision", "district_code", "chain_link")
WEB_MERCATOR_HALF = 20037508.342789244
_TO_MERCATOR = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
_TO_WGS84 = pyproj.Transformer.from_crs("EPSG:3857", "EPSG:4326", always_xy=True)


def check_tile(z: int, x: int, y: int) -> mercantile.Tile:
    """A valid XYZ tile; ValidationError naming z, x or y otherwise."""
    if not 0 <= z <= MAX_Z:
        raise ValidationError(f"z={z}: expected a zoom from 0 to {MAX_Z}", field="z")
    n = 1 << z
    for name, value in (("x", x), ("y", y)):
        if not 0 <= value < n:
            raise ValidationError(f"{name}={value}: expected 0 to {n - 1} at zoom {z}", field=name)
    return mercantile.Tile(x, y, z)


@dataclass
class Clusters:
    """The clusters of one zoom: cell keys (sorted, tile-major: see :func:`cell_keys`), mean position (Web Mercator
    m), count, count per status."""

    keys: np.ndarray
    x: np.ndarray
    y: np.ndarray
    count: np.ndarray
    by_status: np.ndarray  # (clusters, len(STATUSES) + 1): the last column counts other or missing statuses

    def in_tile(self, tile: mercantile.Tile) -> slice:
        """The clusters whose cell lies in ``tile`` (one run of the sorted keys)."""
        first = tile_key(tile) * CELLS
        return slice(int(np.searchsorted(self.keys, first)), int(np.searchsorted(self.keys, first + CELLS)))


def tile_key(tile: mercantile.Tile) -> int:
    """A tile's number within its zoom (row-major from the top-left tile)."""
    return tile.y * (1 << tile.z) + tile.x


def cell_keys(col: np.ndarray, row: np.ndarray, z: int) -> np.ndarray:
    """Keys of cells (column, row from the top-left at zoom ``z``), ordered by tile first: the cells of one tile
    are one run of the sorted keys."""
    tiles = (row // CELLS_PER_TILE) * (1 << z) + col // CELLS_PER_TILE
    return tiles * CELLS + (row % CELLS_PER_TILE) * CELLS_PER_TILE + col % CELLS_PER_TILE


def _cell_col_row(keys: np.ndarray, z: int) -> tuple[np.ndarray, np.ndarray]:
    """Column and row of cells at zoom ``z`` from their keys (the inverse of :func:`cell_keys`)."""
    tiles, cell = np.divmod(keys, CELLS)
    ty, tx = np.divmod(tiles, 1 << z)
    return tx * CELLS_PER_TILE + cell % CELLS_PER_TILE, ty * CELLS_PER_TILE + cell // CELLS_PER_TILE


def _morton(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Morton (Z-order) keys of tile columns and rows below 2**16: their bits interleaved, y's above x's, so that
    the tiles inside any ancestor tile have consecutive keys."""
    def spread(v: np.ndarray) -> np.ndarray:
        v = np.asarray(v, dtype=np.int64)
        v = (v | (v << 8)) & 0x00FF00FF
        v = (v | (v << 4)) & 0x0F0F0F0F
        v = (v | (v << 2)) & 0x33333333
        return (v | (v << 1)) & 0x55555555
    return spread(x) | (spread(y) << 1)


def _group(keys: np.ndarray, sum_x: np.ndarray, sum_y: np.ndarray, count: np.ndarray, by_status: np.ndarray
           ) -> tuple[np.ndarray, ...]:
    """Sum clusters sharing a key: unique keys, and the sums of x, y, count and status counts."""
    unique, inverse = np.unique(keys, return_inverse=True)
    n = len(unique)
    out_status = np.stack([np.bincount(inverse, weights=by_status[:, s], minlength=n)
                           for s in range(by_status.shape[1])], axis=1).astype(np.int64)
    return (unique, np.bincount(inverse, weights=sum_x, minlength=n), np.bincount(inverse, weights=sum_y, minlength=n),
            np.bincount(inverse, weights=count, minlength=n).astype(np.int64), out_status)


def _group_records(keys: np.ndarray, x: np.ndarray, y: np.ndarray, status_code: np.ndarray) -> tuple[np.ndarray, ...]:
    """Sum records sharing a key, as :func:`_group` does clusters (status_code: a record's column of by_status)."""
    unique, inverse, count = np.unique(keys, return_inverse=True, return_counts=True)
    n, width = len(unique), len(STATUSES) + 1
    by_status = np.bincount(inverse * width + status_code, minlength=n * width).reshape(n, width)
    return (unique, np.bincount(inverse, weights=x, minlength=n), np.bincount(inverse, weights=y, minlength=n),
            count, by_status)


def _clusters(grouped: tuple[np.ndarray, ...]) -> Clusters:
    """Clusters from grouped sums (keys, sum of x, sum of y, count, by_status): positions are the means."""
    keys, sum_x, sum_y, count, by_status = grouped
    return Clusters(keys, sum_x / np.maximum(count, 1), sum_y / np.maximum(count, 1), count, by_status)


class TileSource:
    """One (filtered) point layer ready for tiles: positions in Web Mercator, and the clusters of every zoom up to
    POINTS_FROM_Z and the records sorted by their tile at POINTS_FROM_Z, all built once (per data version and
    filter) when the source is made, so that a tile is a slice of sorted arrays."""

    def __init__(self, name: str, frame: gpd.GeoDataFrame) -> None:
        self.name = name
        self.frame = frame.reset_index(drop=True)
        geoms = self.frame.geometry.values
        ok = ~(geoms.is_empty | geoms.isna()) if len(geoms) else np.zeros(0, dtype=bool)
        if len(self.frame) and not (self.frame.geometry[ok].geom_type == "Point").all():
            raise ValidationError(f"layer {name!r} has other geometries than points: no tiles", field="layer")
        self.rows = np.flatnonzero(ok)
        lon = self.frame.geometry.x.to_numpy()[self.rows] if len(self.rows) else np.zeros(0)
        lat = self.frame.geometry.y.to_numpy()[self.rows] if len(self.rows) else np.zeros(0)
        self.x, self.y = (np.asarray(v, dtype=float) for v in _TO_MERCATOR.transform(lon, lat))
        status = self.frame["status"].array.take(self.rows) if "status" in self.frame else [None] * len(self.rows)
        code = pd.Categorical(status, categories=list(STATUSES)).codes.astype(np.int64)
        self.status_code = np.where(code < 0, len(STATUSES), code)  # the last code: other or missing
        self._columns = {c: self.frame[c].array for c in POINT_COLUMNS if c in self.frame.columns}
        links = (self.frame["chain_link"].array.take(self.rows) if "chain_link" in self.frame
                 else [None] * len(self.rows))
        self._chain = pd.Categorical(links)  # each located record's chain link, as codes (-1: none)
        self._clusters: dict[int, Clusters] = {}
        self._build()
        self._kept: OrderedDict[Hashable, bytes] = OrderedDict()
        self._kept_lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.rows)

    def _cells(self, z: int, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The cell column and row at zoom ``z`` of positions (Web Mercator m; cells counted from the top-left)."""
        per_side = (1 << z) * CELLS_PER_TILE
        size = 2 * WEB_MERCATOR_HALF / per_side
        col = np.clip(((x + WEB_MERCATOR_HALF) // size).astype(np.int64), 0, per_side - 1)
        row = np.clip(((WEB_MERCATOR_HALF - y) // size).astype(np.int64), 0, per_side - 1)
        return col, row

    def _build(self) -> None:
        """Sort the records by their cell at POINTS_FROM_Z (one sort), count the cells' clusters in one pass over
        the sorted records, then those of each zoom below from the zoom above (each cell holds four of the zoom
        above); the sort is also the index of the point tiles."""
        z = POINTS_FROM_Z
        keys = cell_keys(*self._cells(z, self.x, self.y), z)
        tiles = keys // CELLS
        morton = _morton(tiles % (1 << z), tiles >> z)
        self._order = np.argsort(morton, kind="stable")
        self._tiles = morton[self._order]
        level = _group_records(keys, self.x, self.y, self.status_code)
        while True:
            self._clusters[z] = _clusters(level)
            if z == 0:
                break
            unique, *sums = level
            col, row = _cell_col_row(unique, z)
            z -= 1
            level = _group(cell_keys(col // 2, row // 2, z), *sums)

    def clusters(self, z: int) -> Clusters:
        """The clusters of zoom ``z`` (0 to POINTS_FROM_Z), built with the source."""
        return self._clusters[z]

    def tile_clusters(self, tile: mercantile.Tile) -> Clusters:
        """The clusters of the cells in ``tile``: a slice of its zoom's up to POINTS_FROM_Z; beyond it (a tile too
        dense for points) counted from the tile's own records."""
        if tile.z <= POINTS_FROM_Z:
            c, at = self._clusters[tile.z], self._clusters[tile.z].in_tile(tile)
            return Clusters(c.keys[at], c.x[at], c.y[at], c.count[at], c.by_status[at])
        rows = self.point_rows(tile)
        x, y = self.x[rows], self.y[rows]
        return _clusters(_group_records(cell_keys(*self._cells(tile.z, x, y), tile.z), x, y, self.status_code[rows]))

    def kept(self, key: Hashable, make: Callable[[], bytes]) -> bytes:
        """``make()``, kept under ``key`` among the last TILES_KEPT results (LRU; thread-safe)."""
        with self._kept_lock:
            if key in self._kept:
                self._kept.move_to_end(key)
                return self._kept[key]
        value = make()  # outside the lock: two threads may both make a tile, never wait on each other's
        with self._kept_lock:
            self._kept[key] = value
            while len(self._kept) > TILES_KEPT:
                self._kept.popitem(last=False)
        return value

    def point_rows(self, tile: mercantile.Tile) -> np.ndarray:
        """Positions (in ``self.rows``) of the records inside the tile (west and north edges in): a run of the
        records sorted by their tile at POINTS_FROM_Z, whose order (Morton's) keeps each tile's descendants
        together."""
        up = tile if tile.z <= POINTS_FROM_Z else mercantile.parent(tile, zoom=POINTS_FROM_Z)
        shift = 2 * (POINTS_FROM_Z - up.z)
        first = int(_morton(np.int64(up.x), np.int64(up.y))) << shift
        rows = self._order[np.searchsorted(self._tiles, first):np.searchsorted(self._tiles, first + (1 << shift))]
        if tile.z > POINTS_FROM_Z:
            b = mercantile.xy_bounds(tile)
            x, y = self.x[rows], self.y[rows]
            rows = rows[(x >= b.left) & (x < b.right) & (y <= b.top) & (y > b.bottom)]
        return rows

    def chain_links(self, tile: mercantile.Tile) -> dict[str, int]:
        """How many records inside the tile name each chain link."""
        counts = np.bincount(self._chain.codes[self.point_rows(tile)] + 1, minlength=len(self._chain.categories) + 1)
        return {str(c): int(n) for c, n in zip(self._chain.categories, counts[1:]) if n and str(c)}

    def tile(self, tile: mercantile.Tile) -> dict[str, Any]:
        """What a tile holds: ``kind`` (clusters or points) and its features with WGS84 positions."""
        if tile.z >= POINTS_FROM_Z:
            rows = self.point_rows(tile)
            if len(rows) <= MAX_POINTS_PER_TILE:
                return {"kind": "points", "features": self._points(rows)}
        return {"kind": "clusters", "features": self._cluster_features(tile)}

    def _points(self, rows: np.ndarray) -> list[dict[str, Any]]:
        at = self.rows[rows]
        # column by column from the arrays (a row-wise frame slice costs ~20x more per tile)
        values = {c: a.take(at).to_numpy(dtype=object, na_value=None) for c, a in self._columns.items()}
        lon, lat = _TO_WGS84.transform(self.x[rows], self.y[rows])
        return [{"lon": round(float(lon[i]), 6), "lat": round(float(lat[i]), 6), "x": float(self.x[r]),
                 "y": float(self.y[r]), "properties": {"layer": self.name, **{c: v[i] for c, v in values.items()}}}
                for i, r in enumerate(rows)]

    def _cluster_features(self, tile: mercantile.Tile) -> list[dict[str, Any]]:
        c = self.tile_clusters(tile)
        lon, lat = _TO_WGS84.transform(c.x, c.y)
        out = []
        for i in range(len(c.keys)):
            props: dict[str, Any] = {"layer": self.name, "cluster": True, "count": int(c.count[i])}
            props.update({f"count_{s}": int(n) for s, n in zip(STATUSES, c.by_status[i][:-1]) if n})
            if c.by_status[i][-1]:
                props["count_other"] = int(c.by_status[i][-1])
            out.append({"lon": round(float(lon[i]), 6), "lat": round(float(lat[i]), 6), "x": float(c.x[i]),
                        "y": float(c.y[i]), "properties": props})
        return out


def to_json(source: TileSource, tile: mercantile.Tile) -> dict[str, Any]:
    """A tile as JSON: its address, kind, WGS84 bounds and features (lon/lat WGS84, properties)."""
    held = source.tile(tile)
    w, s, e, n = mercantile.bounds(tile)
    return {"layer": source.name, "z": tile.z, "x": tile.x, "y": tile.y, "kind": held["kind"],
            "bounds": [w, s, e, n], "crs": "EPSG:4326",
            "count": int(sum(f["properties"].get("count", 1) for f in held["features"])),
            "features": [{"lon": f["lon"], "lat": f["lat"], "properties": f["properties"]} for f in held["features"]]}


def to_mvt(source: TileSource, tile: mercantile.Tile) -> bytes:
    """A tile as a Mapbox Vector Tile (one layer named after the source layer; extent 4096, y down), encoded once
    and kept by the source while it is among the last TILES_KEPT tiles asked."""
    return source.kept(("mvt", tile), lambda: _encode_mvt(source, tile))


def _encode_mvt(source: TileSource, tile: mercantile.Tile) -> bytes:
    held = source.tile(tile)
    b = mercantile.xy_bounds(tile)
    scale = EXTENT / (b.right - b.left)
    x = np.array([f["x"] for f in held["features"]], dtype=float)
    y = np.array([f["y"] for f in held["features"]], dtype=float)
    # tile coordinates as shapely points (the encoder takes them as they are: half the time of parsing WKT)
    points = shapely.points(np.round((x - b.left) * scale), np.round((b.top - y) * scale)) if len(x) else []
    features = [{"geometry": g, "properties": {k: v for k, v in f["properties"].items() if v is not None}}
                for g, f in zip(points, held["features"])]
    return mapbox_vector_tile.encode([{"name": source.name, "features": features}],
                                     default_options={"extents": EXTENT, "y_coord_down": True})
