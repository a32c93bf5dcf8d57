"""Possible areas: where a record may really lie, given how precisely its source locates it (WGS84 stored).

Most records are located only to a county: the point drawn is the county seat, a stand-in. A distance
to that point says nothing certain; a distance to the *possible area* does. By ``location_precision``:

- ``site``: the point itself;
- ``street`` / ``town``: a circle around the point, of radius :data:`DEFAULT_RADII_KM` (settings
  ``STREET_RADIUS_KM``, ``TOWN_RADIUS_KM``): how far a street address or a township can lie from the
  point that stands for it;
- ``district``: the polygon of the record's ``district_code`` (or of the district holding the point when
  the code is not a district's);
- ``city``: the union of the city's districts (``district_code`` a city code such as 410300, or the
  city of the district holding the point).

A line or polygon record (a corridor axis, a district) is its own area: distances to it are to its drawn
geometry. A point record with a precision we do not know is treated as its point.

Intervals (:func:`intervals`): for a query geometry, each record's nearest and farthest possible distance
(geodesic, WGS84 ellipsoid). Records sharing an area (every record of one county) share the computation,
so a query costs one polygon distance per county touched, not one per record. For a point query the
farthest point of a polygon is a vertex of its convex hull, so the maximum is exact; for a line or
polygon query it is taken over the area's boundary densified every :data:`DENSIFY_M` metres.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import crs

#: Radius (km) of the possible area of a record located to a street or a town (township, 乡镇).
DEFAULT_RADII_KM: dict[str, float] = {"street": 2.0, "town": 8.0}
#: Spacing (m) of the boundary points over which the farthest distance from a line or polygon query is taken.
DENSIFY_M = 250.0
EXACT, CIRCLE, AREA = 0, 1, 2
CERTAIN, POSSIBLE = "certain", "possible"


@dataclass(frozen=True)
class Area:
    """One shared possible area (a district or a city): its geometry in WGS84 and UTM 49N, and names."""

    key: str
    kind: str  # "district" or "city"
    name_zh: str
    name_en: str
    wgs84: shapely.Geometry
    metric: shapely.Geometry
    hull_lon: np.ndarray = field(repr=False)
    hull_lat: np.ndarray = field(repr=False)

    @classmethod
    def of(cls, key: str, kind: str, name_zh: str, name_en: str, geometry: shapely.Geometry) -> Area:
        """An area from its WGS84 geometry."""
        metric = _to_metric(geometry)
        hull = shapely.get_coordinates(shapely.convex_hull(geometry))
        return cls(key, kind, name_zh, name_en, geometry, metric, hull[:, 0].copy(), hull[:, 1].copy())


class PossibleAreas:
    """The possible area of every record of one layer (rows as in ``frame``), built once per data version."""

    def __init__(self, frame: gpd.GeoDataFrame, districts: gpd.GeoDataFrame | None,
                 radii_km: Mapping[str, float] | None = None) -> None:
        radii = {**DEFAULT_RADII_KM, **(radii_km or {})}
        n = len(frame)
        precision = _texts(frame, "location_precision", n)
        is_point = np.asarray(frame.geometry.geom_type == "Point") if n else np.zeros(0, dtype=bool)
        self.kind = np.full(n, EXACT, dtype=np.int8)
        self.radius_m = np.zeros(n)
        for name, km in radii.items():
            hit = is_point & (precision == name)
            self.kind[hit] = CIRCLE
            self.radius_m[hit] = float(km) * 1000.0
        self.precision = precision
        self.key = np.full(n, None, dtype=object)
        self.areas: dict[str, Area] = {}
        coarse = is_point & np.isin(precision, ("district", "city"))
        if districts is not None and len(districts) and coarse.any():
            self._place(frame, districts, precision, coarse)
        #: each record's area as a number (-1: none), the position of its key in ``keys``
        self.keys: list[str] = list(self.areas)
        self.code = np.full(n, -1, dtype=np.int32)
        for i, key in enumerate(self.keys):
            self.code[self.key == key] = i
        self.members: dict[str, np.ndarray] = {key: np.flatnonzero(self.code == i) for i, key in enumerate(self.keys)}
        self.max_radius_m = float(self.radius_m.max()) if n else 0.0

    def _place(self, frame: gpd.GeoDataFrame, districts: gpd.GeoDataFrame, precision: np.ndarray,
               coarse: np.ndarray) -> None:
        codes = districts["id" if "id" in districts.columns else "code"].astype(str).to_numpy()
        cities = districts["city_code"].astype(str).to_numpy() if "city_code" in districts.columns else codes
        city_of = pd.Series(cities, index=codes)
        rows = np.flatnonzero(coarse)
        given = pd.Series(_texts(frame, "district_code", len(frame))[rows])
        # the district holding the point, for a record whose code is not a district's
        hits = districts.sindex.query(frame.geometry.values[rows], predicate="intersects")
        holder = pd.Series(codes[hits[1]], index=hits[0]).groupby(level=0).first().reindex(range(len(rows)))
        district = given.where(given.isin(codes), holder.where(~given.isin(cities)))
        city = given.where(given.isin(cities), district.map(city_of))
        is_district = (precision[rows] == "district") & district.notna().to_numpy()
        keys = np.where(is_district, district.to_numpy(dtype=object), ("city:" + city).to_numpy(dtype=object))
        placed = is_district | city.notna().to_numpy()
        for key in pd.unique(keys[placed]):
            if key.startswith("city:"):
                code = key.removeprefix("city:")
                zh, en = _city_names(districts, code)
                self.areas[key] = Area.of(key, "city", zh, en, shapely.union_all(districts.geometry.values[cities == code]))
            else:
                i = int(np.flatnonzero(codes == key)[0])
                self.areas[key] = Area.of(key, "district", *_names(districts, i), districts.geometry.values[i])
        self.kind[rows[placed]] = AREA
        self.key[rows[placed]] = keys[placed]

    def area_of(self, row: int) -> Area | None:
        """The shared area of a record (None for a point or circle)."""
        key = self.key[row]
        return None if key is None else self.areas[key]

    def geometries(self, geoms: np.ndarray) -> np.ndarray:
        """The possible area of every record in WGS84, given their stored geometries (same order)."""
        out = np.array(geoms, dtype=object)
        circle = np.flatnonzero(self.kind == CIRCLE)
        if len(circle):
            metric = shapely.transform(out[circle], lambda c: np.column_stack(crs.to_metric(c[:, 0], c[:, 1])))
            out[circle] = shapely.transform(shapely.buffer(metric, self.radius_m[circle], quad_segs=16),
                                            lambda c: np.column_stack(crs.from_metric(c[:, 0], c[:, 1])))
        for key, rows in self.members.items():
            out[rows] = self.areas[key].wgs84
        return out

    def geometry(self, row: int, point: shapely.Geometry) -> shapely.Geometry:
        """The possible area of one record in WGS84 (its ``point`` as stored for an exact record)."""
        if self.kind[row] == AREA:
            return self.areas[self.key[row]].wgs84
        if self.kind[row] == CIRCLE:
            return _from_metric(shapely.buffer(_to_metric(point), self.radius_m[row], quad_segs=16))
        return point


@dataclass
class Intervals:
    """Rows of a layer with the distance to their point and the nearest and farthest possible distance (m)."""

    rows: np.ndarray
    distance_m: np.ndarray
    min_m: np.ndarray
    max_m: np.ndarray

    def certainty(self, radius_m: float) -> np.ndarray:
        """``certain`` where the whole possible area lies within ``radius_m``, else ``possible``."""
        return np.where(self.max_m <= radius_m, CERTAIN, POSSIBLE)


def area_extremes(area: Area, query_m: shapely.Geometry, query_wgs84: shapely.Geometry) -> tuple[float, float]:
    """The nearest and farthest geodesic distance (m) from a query (UTM 49N and WGS84) to an area."""
    from geo.query import geodesic_between

    nearest = float(geodesic_between(query_m, np.array([area.metric]))[0])
    if query_wgs84.geom_type == "Point":
        far = crs.geodesic_distance_m(query_wgs84.x, query_wgs84.y, area.hull_lon, area.hull_lat)
        return nearest, float(np.max(far))
    boundary = shapely.segmentize(shapely.boundary(area.metric), DENSIFY_M)
    points = shapely.points(shapely.get_coordinates(boundary))
    return nearest, float(np.max(geodesic_between(query_m, points)))


def widen(areas: PossibleAreas, rows: np.ndarray, distance_m: np.ndarray,
          extremes: Mapping[str, tuple[float, float]]) -> Intervals:
    """The intervals of rows whose point distances are known, given each touched area's extremes."""
    kind = areas.kind[rows]
    lo = distance_m.astype(float).copy()
    hi = distance_m.astype(float).copy()
    circle = kind == CIRCLE
    lo[circle] = np.maximum(0.0, distance_m[circle] - areas.radius_m[rows[circle]])
    hi[circle] = distance_m[circle] + areas.radius_m[rows[circle]]
    shared = np.flatnonzero(kind == AREA)
    if len(shared):
        table = np.full((len(areas.keys), 2), np.nan)
        for i, key in enumerate(areas.keys):
            if key in extremes:
                table[i] = extremes[key]
        codes = areas.code[rows[shared]]
        lo[shared], hi[shared] = table[codes, 0], table[codes, 1]
    return Intervals(rows, distance_m, lo, hi)


def areas_within(areas: PossibleAreas, query_m: shapely.Geometry, query_wgs84: shapely.Geometry,
                 reach_m: float | None) -> dict[str, tuple[float, float]]:
    """Each shared area's (nearest, farthest) distance (m) from the query, for those nearer than ``reach_m``."""
    out = {}
    for key, area in areas.areas.items():
        if reach_m is not None and not shapely.dwithin(area.metric, query_m, reach_m * 1.01 + 50.0):
            continue
        lo, hi = area_extremes(area, query_m, query_wgs84)
        if reach_m is None or lo <= reach_m:
            out[key] = (lo, hi)
    return out


def rank_bounds(min_m: np.ndarray, max_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For results with distance intervals: the best and worst rank (1-based) each could hold among them."""
    if len(min_m) == 0:
        return np.zeros(0, dtype=int), np.zeros(0, dtype=int)
    surely_nearer = (max_m[None, :] < min_m[:, None]).sum(axis=1)
    maybe_nearer = (min_m[None, :] < max_m[:, None]).sum(axis=1) - (min_m < max_m)
    return surely_nearer + 1, np.maximum(maybe_nearer + 1, surely_nearer + 1)


def described(areas: PossibleAreas, row: int) -> tuple[str, str]:
    """How a record is located, in Chinese and English (``located to 偃师区 only``), for lists and reasons."""
    area = areas.area_of(row)
    if area is not None:
        return f"仅定位到{area.name_zh}", f"located to {area.name_zh} ({area.name_en}) only"
    if areas.kind[row] == CIRCLE:
        km = areas.radius_m[row] / 1000.0
        level_zh = {"street": "街道", "town": "乡镇"}.get(str(areas.precision[row]), "")
        return f"定位到{level_zh}（{km:g} 公里内）", f"located to a {areas.precision[row]} (within {km:g} km)"
    return "精确位置", "exact site"


def described_rows(areas: PossibleAreas, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`described` for many rows at once (one text per area or precision, not per row)."""
    label = np.where(areas.code[rows] >= 0, areas.code[rows], -1 - pd.factorize(areas.precision[rows])[0])
    uniq, first, inverse = np.unique(label, return_index=True, return_inverse=True)
    texts = [described(areas, int(rows[i])) for i in first]
    zh = np.array([t[0] for t in texts], dtype=object)[inverse]
    en = np.array([t[1] for t in texts], dtype=object)[inverse]
    return zh, en


def _texts(frame: pd.DataFrame, column: str, n: int) -> np.ndarray:
    if column not in frame.columns:
        return np.full(n, "", dtype=object)
    series = frame[column]
    return series.astype(object).where(series.notna(), "").astype(str).to_numpy(dtype=object)


def _names(districts: gpd.GeoDataFrame, i: int) -> tuple[str, str]:
    row = districts.iloc[i]
    return str(row.get("name_zh", "") or ""), str(row.get("name_en", "") or "")


def _city_names(districts: gpd.GeoDataFrame, city: str) -> tuple[str, str]:
    if "city_code" in districts.columns:
        same = districts[districts["city_code"].astype(str) == city]
        if len(same) and "city_zh" in same.columns:
            return str(same["city_zh"].iloc[0] or city), str(same.get("city_en", same["city_zh"]).iloc[0] or city)
    return city, city


def _to_metric(geom: shapely.Geometry) -> shapely.Geometry:
    return shapely.transform(geom, lambda c: np.column_stack(crs.to_metric(c[:, 0], c[:, 1])))


def _from_metric(geom: shapely.Geometry) -> shapely.Geometry:
    return shapely.transform(geom, lambda c: np.column_stack(crs.from_metric(c[:, 0], c[:, 1])))
