"""Map tiles of the point layers: clusters per zoom, and the points themselves when zoomed in far enough.

A layer of a million projects cannot go to the browser whole. The map asks instead for the tiles it
shows (XYZ tiles of Web Mercator, EPSG:3857, as every web map uses; ``mercantile`` does the tile maths):

- below :data:`POINTS_FROM_Z` a tile holds **clusters**: the records are binned on a grid of
  :data:`CELLS_PER_TILE` x :data:`CELLS_PER_TILE` cells per tile (Web Mercator metres), and each
  occupied cell gives one cluster at the mean position of its records, with its exact ``count`` and
  the count per status. The bins of a zoom level are computed once per data version and filter
  (NumPy, vectorised: one ``np.unique`` over the cell keys), so every tile of that zoom is a slice;
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

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import mapbox_vector_tile
import mercantile
import numpy as np
import pyproj
import shapely

from geo.errors import ValidationError
from geo.schema import STATUSES

#: Zoom from which tiles hold points instead of clusters.
POINTS_FROM_Z = 13
#: Cells per tile side for the clusters (a cell is 256 / 8 = 32 px on screen).
CELLS_PER_TILE = 8
#: Most points in one tile; a denser tile is sent as clusters even at POINTS_FROM_Z and beyond. 500 points cover a
#: tile (256 px, or 512 px drawn from the zoom above) with symbols already; more cost the server ~30 us and the
#: browser ~20 us each per tile and say less than 64 counted clusters (1M projects: ~600 per tile at z13).
MAX_POINTS_PER_TILE = 500
MAX_Z = 20
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
    """The clusters of one zoom: cell keys (sorted), mean position (Web Mercator m), count, count per status."""

    keys: np.ndarray
    x: np.ndarray
    y: np.ndarray
    count: np.ndarray
    by_status: np.ndarray  # (clusters, len(STATUSES) + 1): the last column counts other or missing statuses


class TileSource:
    """One (filtered) point layer ready for tiles: positions in Web Mercator, built once per data version."""

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
        status = self.frame["status"].to_numpy(dtype=object)[self.rows] if "status" in self.frame else \
            np.full(len(self.rows), None, dtype=object)
        codes = {s: i for i, s in enumerate(STATUSES)}
        self.status_code = np.array([codes.get(s, len(STATUSES)) for s in status], dtype=np.int64)
        self._clusters: dict[int, Clusters] = {}
        self._index: tuple[np.ndarray, np.ndarray] | None = None

    def __len__(self) -> int:
        return len(self.rows)

    def _cells(self, z: int) -> tuple[np.ndarray, np.ndarray, int]:
        """Each record's cell column and row at zoom ``z`` (cells counted from the top-left corner)."""
        per_side = (1 << z) * CELLS_PER_TILE
        size = 2 * WEB_MERCATOR_HALF / per_side
        col = np.clip(((self.x + WEB_MERCATOR_HALF) // size).astype(np.int64), 0, per_side - 1)
        row = np.clip(((WEB_MERCATOR_HALF - self.y) // size).astype(np.int64), 0, per_side - 1)
        return col, row, per_side

    def clusters(self, z: int) -> Clusters:
        """The clusters of zoom ``z`` (computed on first use, then kept)."""
        if z not in self._clusters:
            col, row, per_side = self._cells(z)
            keys, inverse, count = np.unique(row * per_side + col, return_inverse=True, return_counts=True)
            x = np.bincount(inverse, weights=self.x, minlength=len(keys)) / np.maximum(count, 1)
            y = np.bincount(inverse, weights=self.y, minlength=len(keys)) / np.maximum(count, 1)
            by_status = np.zeros((len(keys), len(STATUSES) + 1), dtype=np.int64)
            np.add.at(by_status, (inverse, self.status_code), 1)
            self._clusters[z] = Clusters(keys, x, y, count, by_status)
        return self._clusters[z]

    def _tile_cells(self, tile: mercantile.Tile) -> np.ndarray:
        """The cell keys of a tile at its zoom (CELLS_PER_TILE x CELLS_PER_TILE of them)."""
        per_side = (1 << tile.z) * CELLS_PER_TILE
        cols = tile.x * CELLS_PER_TILE + np.arange(CELLS_PER_TILE)
        rows = tile.y * CELLS_PER_TILE + np.arange(CELLS_PER_TILE)
        return (rows[:, None] * per_side + cols[None, :]).ravel()

    def cluster_rows(self, tile: mercantile.Tile) -> np.ndarray:
        """Positions (in ``clusters(z)``) of the clusters whose cell lies in the tile."""
        c = self.clusters(tile.z)
        cells = self._tile_cells(tile)
        lo = np.searchsorted(c.keys, cells, side="left")
        hi = np.searchsorted(c.keys, cells, side="right")
        return np.concatenate([np.arange(a, b) for a, b in zip(lo, hi) if b > a] or [np.zeros(0, dtype=np.int64)])

    def point_rows(self, tile: mercantile.Tile) -> np.ndarray:
        """Positions (in ``self.rows``) of the records inside the tile (west and north edges in), from the
        records of its ancestor at POINTS_FROM_Z (one sort of the layer by tile, kept)."""
        order, keys = self._points_index()
        up = tile if tile.z == POINTS_FROM_Z else mercantile.parent(tile, zoom=POINTS_FROM_Z)
        key = up.y * (1 << POINTS_FROM_Z) + up.x
        rows = order[np.searchsorted(keys, key, "left"):np.searchsorted(keys, key, "right")]
        if tile.z > POINTS_FROM_Z:
            b = mercantile.xy_bounds(tile)
            x, y = self.x[rows], self.y[rows]
            rows = rows[(x >= b.left) & (x < b.right) & (y <= b.top) & (y > b.bottom)]
        return rows

    def _points_index(self) -> tuple[np.ndarray, np.ndarray]:
        """The records sorted by their tile at POINTS_FROM_Z: (order, sorted tile keys)."""
        if self._index is None:
            col, row, _ = self._cells(POINTS_FROM_Z)
            key = (row // CELLS_PER_TILE) * (1 << POINTS_FROM_Z) + col // CELLS_PER_TILE
            order = np.argsort(key, kind="stable")
            self._index = (order, key[order])
        return self._index

    def tile(self, tile: mercantile.Tile) -> dict[str, Any]:
        """What a tile holds: ``kind`` (clusters or points) and its features with WGS84 positions."""
        if tile.z >= POINTS_FROM_Z:
            rows = self.point_rows(tile)
            if len(rows) <= MAX_POINTS_PER_TILE:
                return {"kind": "points", "features": self._points(rows)}
        return {"kind": "clusters", "features": self._cluster_features(tile)}

    def _points(self, rows: np.ndarray) -> list[dict[str, Any]]:
        records = self.frame.iloc[self.rows[rows]]
        cols = [c for c in POINT_COLUMNS if c in records.columns]
        values = records[cols].astype(object).where(records[cols].notna(), None).to_dict("records")
        lon, lat = _TO_WGS84.transform(self.x[rows], self.y[rows])
        return [{"lon": round(float(a), 6), "lat": round(float(b), 6), "x": float(mx), "y": float(my),
                 "properties": {"layer": self.name, **v}}
                for a, b, mx, my, v in zip(np.atleast_1d(lon), np.atleast_1d(lat), self.x[rows], self.y[rows], values)]

    def _cluster_features(self, tile: mercantile.Tile) -> list[dict[str, Any]]:
        c = self.clusters(tile.z)
        at = self.cluster_rows(tile)
        lon, lat = _TO_WGS84.transform(c.x[at], c.y[at])
        out = []
        for i, a, b in zip(at, np.atleast_1d(lon), np.atleast_1d(lat)):
            props: dict[str, Any] = {"layer": self.name, "cluster": True, "count": int(c.count[i])}
            props.update({f"count_{s}": int(n) for s, n in zip(STATUSES, c.by_status[i][:-1]) if n})
            if c.by_status[i][-1]:
                props["count_other"] = int(c.by_status[i][-1])
            out.append({"lon": round(float(a), 6), "lat": round(float(b), 6), "x": float(c.x[i]), "y": float(c.y[i]),
                        "properties": props})
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
    """A tile as a Mapbox Vector Tile (one layer named after the source layer; extent 4096, y down)."""
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
