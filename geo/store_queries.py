"""Queries a store answers itself: ``near``, ``in_bbox`` and ``by_id`` over one layer.

The same three calls on both stores, with the same answers:

- :class:`geo.postgis.PostGISStore` runs them in SQL (``ST_DWithin`` on the geography GiST index,
  ``ST_Distance`` on the spheroid, ``&&`` on the geometry GiST index);
- :class:`geo.store.GeoPackageStore` answers them in memory with :class:`MemoryQueries`: the layers
  read once, the STRtree candidates and ``pyproj.Geod`` distances of :class:`geo.query.LayerIndex`
  (the app's default path, unchanged).

Every answer is a GeoDataFrame (WGS84) with the layer's columns as :meth:`read` gives them, geometry
last; ``near`` adds ``distance_km`` (geodesic, WGS84 ellipsoid, not rounded) before the geometry and
orders by distance then id; ``in_bbox`` keeps the stored row order (its bounding box test is the
``&&`` one: a feature's bounding box meets the box); ``by_id`` gives the rows whose ``id`` (``code``
for a layer without ``id``, the districts) is the one asked for. ``where`` keeps rows whose text
column holds one of the listed values (``{"status": ["planned", "under_construction"]}``); ``limit``
and ``offset`` page through the ordered rows. A layer or column the store does not have is a
:class:`~geo.errors.NotFoundError` / :class:`~geo.errors.ValidationError` naming it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import NotFoundError, ValidationError
from geo.query import LayerIndex, _to_metric

#: The column ``near`` adds to a layer's columns.
DISTANCE_COLUMN = "distance_km"
Where = Mapping[str, Sequence[str]]


def check_layer(name: object, layers: Mapping[str, bool]) -> str:
    """The layer name if the store has it as a spatial layer (``layers``: name -> spatial)."""
    if not isinstance(name, str) or name not in layers:
        raise NotFoundError(f"unknown layer {name!r}; expected one of: {', '.join(layers)}", field="layer")
    if not layers[name]:
        raise ValidationError(f"layer {name!r} has no geometry; expected a spatial layer", field="layer")
    return name


def key_column(layer: str, columns: Sequence[str]) -> str:
    """The column ``by_id`` matches: ``id``, or ``code`` for a layer without one (the districts)."""
    for column in ("id", "code"):
        if column in columns:
            return column
    raise ValidationError(f"layer {layer!r} has no id column", field="layer")


def check_where(layer: str, where: Where | None, text_columns: Sequence[str],
                columns: Sequence[str]) -> dict[str, list[str]]:
    """Validate an attribute filter: known text columns, each with a list of string values."""
    if where is None:
        return {}
    if not isinstance(where, Mapping):
        raise ValidationError("where must map column names to lists of values", field="where")
    out: dict[str, list[str]] = {}
    for column, values in where.items():
        if column not in columns:
            raise ValidationError(f"unknown column {column!r} in layer {layer!r}", field="where")
        if column not in text_columns:
            raise ValidationError(f"column {column!r} of layer {layer!r} is not text; only text columns "
                                  "can be filtered", field="where")
        if isinstance(values, str) or not isinstance(values, Sequence) or \
                not all(isinstance(v, str) for v in values):
            raise ValidationError(f"where[{column!r}] must be a list of strings", field="where")
        out[str(column)] = list(values)
    return out


def check_page(limit: object, offset: object) -> tuple[int | None, int]:
    """Validate ``limit`` (None or an int >= 0) and ``offset`` (an int >= 0)."""
    for name, value in (("limit", limit), ("offset", offset)):
        if value is None and name == "limit":
            continue
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ValidationError(f"{name} must be a whole number >= 0, got {value!r}", field=name)
    return (None if limit is None else int(limit)), int(offset)  # type: ignore[arg-type]


def check_radius(radius_m: object) -> float:
    """Validate a radius in metres: a finite number > 0."""
    if isinstance(radius_m, bool) or not isinstance(radius_m, (int, float, np.number)) or \
            not math.isfinite(float(radius_m)) or float(radius_m) <= 0:
        raise ValidationError(f"radius_m must be a number > 0, got {radius_m!r}", field="radius_m")
    return float(radius_m)


def check_geometry(geometry: object) -> shapely.Geometry:
    """A non-empty, valid shapely geometry (WGS84 lon/lat)."""
    if not isinstance(geometry, shapely.Geometry) or geometry.is_empty or not geometry.is_valid:
        raise ValidationError(f"expected a valid, non-empty WGS84 geometry, got {geometry!r}", field="geometry")
    return geometry


def check_bbox(west: object, south: object, east: object, north: object) -> tuple[float, float, float, float]:
    """Validate a WGS84 box: finite numbers with west <= east and south <= north."""
    values = []
    for name, value in (("west", west), ("south", south), ("east", east), ("north", north)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not math.isfinite(value):
            raise ValidationError(f"{name} must be a finite number, got {value!r}", field=name)
        values.append(float(value))
    w, s, e, n = values
    if w > e or s > n:
        raise ValidationError(f"expected west <= east and south <= north, got ({w:g}, {s:g}, {e:g}, {n:g})",
                              field="bbox")
    return w, s, e, n


def _is_text(col: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(col) or col.dtype == object


class MemoryQueries:
    """``near`` / ``in_bbox`` / ``by_id`` over layers held in memory (the GeoPackage store's answer)."""

    def __init__(self, layers: Mapping[str, gpd.GeoDataFrame | pd.DataFrame]) -> None:
        from geo.store import is_spatial

        self.layers = {name: frame.reset_index(drop=True) for name, frame in layers.items()}
        self._spatial = {name: is_spatial(frame) for name, frame in self.layers.items()}
        self._indexes: dict[str, LayerIndex] = {}

    def _layer(self, layer: object) -> gpd.GeoDataFrame:
        return self.layers[check_layer(layer, self._spatial)]

    def _index(self, layer: str) -> LayerIndex:
        if layer not in self._indexes:
            self._indexes[layer] = LayerIndex(layer, self.layers[layer])
        return self._indexes[layer]

    def _filter(self, layer: str, gdf: gpd.GeoDataFrame, rows: np.ndarray, where: Where | None) -> np.ndarray:
        text = [c for c in gdf.columns if c != gdf.geometry.name and _is_text(gdf[c])]
        keep = np.ones(len(rows), dtype=bool)
        for column, values in check_where(layer, where, text, list(gdf.columns)).items():
            keep &= gdf[column].iloc[rows].isin(values).to_numpy()
        return rows[keep]

    def near(self, layer: str, geometry_wgs84: shapely.Geometry, radius_m: float, *, limit: int | None = None,
             offset: int = 0, where: Where | None = None) -> gpd.GeoDataFrame:
        """Rows within ``radius_m`` (geodesic) of a WGS84 geometry, nearest first, with ``distance_km``."""
        gdf = self._layer(layer)
        geom, radius = check_geometry(geometry_wgs84), check_radius(radius_m)
        limit, offset = check_page(limit, offset)
        idx = self._index(layer)
        rows, dist = idx.within(_to_metric(geom), geom, radius)
        keep = np.isin(rows, self._filter(layer, gdf, rows, where))
        rows, dist = rows[keep], dist[keep]
        ids = gdf[key_column(layer, list(gdf.columns))].to_numpy()[rows].astype(str)
        order = np.lexsort((ids, dist))[offset:None if limit is None else offset + limit]
        out = gdf.iloc[rows[order]].reset_index(drop=True)
        out.insert(list(out.columns).index(out.geometry.name), DISTANCE_COLUMN, dist[order] / 1000.0)
        return out

    def in_bbox(self, layer: str, west: float, south: float, east: float, north: float, *,
                limit: int | None = None, offset: int = 0, where: Where | None = None) -> gpd.GeoDataFrame:
        """Rows whose bounding box meets a WGS84 box, in stored order."""
        gdf = self._layer(layer)
        w, s, e, n = check_bbox(west, south, east, north)
        limit, offset = check_page(limit, offset)
        rows = np.sort(gdf.sindex.query(shapely.box(w, s, e, n)))  # bounding boxes only, as PostGIS `&&`
        rows = self._filter(layer, gdf, rows, where)[offset:None if limit is None else offset + limit]
        return gdf.iloc[rows].reset_index(drop=True)

    def by_id(self, layer: str, id: str) -> gpd.GeoDataFrame:
        """The rows of a layer with this id (``code`` for the districts); NotFoundError if none."""
        gdf = self._layer(layer)
        key = key_column(layer, list(gdf.columns))
        out = gdf[gdf[key] == id].reset_index(drop=True)
        if out.empty:
            raise NotFoundError(f"unknown id {id!r} in layer {layer!r}", field="id")
        return out


__all__ = ["DISTANCE_COLUMN", "MemoryQueries", "check_bbox", "check_geometry", "check_layer", "check_page",
           "check_radius", "check_where", "key_column"]
