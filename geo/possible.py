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

Between two records (:class:`Place`, :func:`place_interval`, :class:`PairIntervals`, used by site
selection): the nearest points of their possible areas (0 when they overlap) and the farthest pair (over
the vertices of both convex hulls), both geodesic; and uniform draws of a position in each area.

Intervals (:func:`intervals`): for a query geometry, each record's nearest and farthest possible distance
(geodesic, WGS84 ellipsoid). Records sharing an area (every record of one county) share the computation,
so a query costs one polygon distance per county touched, not one per record. For a point query the
farthest point of a polygon is a vertex of its convex hull, so the maximum is exact; for a line or
polygon query it is taken over the area's boundary densified every :data:`DENSIFY_M` metres.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import crs
from geo.errors import NotFoundError
from geo.overlay import covering_polygon

if TYPE_CHECKING:
    from geo.query import QueryEngine

#: Radius (km) of the possible area of a record located to a street or a town (township, 乡镇).
DEFAULT_RADII_KM: dict[str, float] = {"street": 2.0, "town": 8.0}
#: Spacing (m) of the boundary points over which the farthest distance from a line or polygon query is taken.
DENSIFY_M = 250.0
#: Joint draws of every position over which an expected value is taken (site selection), and their seed.
MC_DRAWS = 256
MC_SEED = 15
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
        held = covering_polygon(np.asarray(frame.geometry.values[rows]), districts.geometry.values)
        holder = pd.Series(np.append(codes.astype(object), None)[held])
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
    nearest = float(crs.geodesic_between(query_m, np.array([area.metric]))[0])
    if query_wgs84.geom_type == "Point":
        far = crs.geodesic_distance_m(query_wgs84.x, query_wgs84.y, area.hull_lon, area.hull_lat)
        return nearest, float(np.max(far))
    boundary = shapely.segmentize(shapely.boundary(area.metric), DENSIFY_M)
    points = shapely.points(shapely.get_coordinates(boundary))
    return nearest, float(np.max(crs.geodesic_between(query_m, points)))


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
    _, first, inverse = np.unique(label, return_index=True, return_inverse=True)
    texts = [described(areas, int(rows[i])) for i in first]
    zh = np.array([t[0] for t in texts], dtype=object)[inverse]
    en = np.array([t[1] for t in texts], dtype=object)[inverse]
    return zh, en


# -- distances between two possible areas (site selection) ----------------------------------------------

@dataclass(frozen=True)
class Place:
    """Where one record may lie: its possible area in UTM 49N, the vertices of its convex hull (UTM 49N and
    WGS84), the point drawn (WGS84), and how it is located."""

    key: str  # the area itself: records with equal keys may lie in exactly the same places
    exact: bool
    precision: str
    metric: shapely.Geometry
    hull_xy: np.ndarray = field(repr=False)
    hull_ll: np.ndarray = field(repr=False)
    lon: float
    lat: float
    located_zh: str = "精确位置"
    located_en: str = "exact site"

    @classmethod
    def site(cls, lon: float, lat: float) -> Place:
        """A point known exactly (WGS84)."""
        x, y = crs.to_metric(lon, lat)
        return cls(f"point:{lon:.7f},{lat:.7f}", True, "site", shapely.Point(x, y), np.array([[x, y]]),
                   np.array([[lon, lat]]), float(lon), float(lat))

    @classmethod
    def of(cls, engine: QueryEngine, layer: str, record_id: object) -> Place:
        """The possible area of one point record of a layer, as ``engine.possible(layer)`` gives it (WGS84 in)."""
        idx, areas = engine.index(layer), engine.possible(layer)
        row = int(idx.ids.get_indexer([str(record_id)])[0])
        if row < 0:
            raise NotFoundError(f"unknown {layer} id {record_id!r}", field="id")
        point = idx.gdf.geometry.values[row]
        lon, lat = float(point.x), float(point.y)
        zh, en = described(areas, row)
        precision = str(areas.precision[row] or "site")
        if areas.kind[row] == AREA:
            area = areas.area_of(row)
            assert area is not None
            xy = np.column_stack(crs.to_metric(area.hull_lon, area.hull_lat))
            return cls(f"area:{area.key}", False, precision, area.metric, xy,
                       np.column_stack([area.hull_lon, area.hull_lat]), lon, lat, zh, en)
        if areas.kind[row] == CIRCLE:
            x, y = crs.to_metric(lon, lat)
            radius = float(areas.radius_m[row])
            circle = shapely.buffer(shapely.Point(x, y), radius, quad_segs=16)
            xy = shapely.get_coordinates(circle)[:-1]
            ll = np.column_stack(crs.from_metric(xy[:, 0], xy[:, 1]))
            return cls(f"circle:{lon:.7f},{lat:.7f},{radius:g}", False, precision, circle, xy, ll, lon, lat, zh, en)
        return cls.site(lon, lat)

    def draws(self, seed: str, n: int = MC_DRAWS) -> np.ndarray:
        """``n`` positions drawn uniformly in the possible area (UTM 49N, shape (n, 2)), seeded by ``seed``."""
        if self.exact:
            return np.tile(self.hull_xy[0], (n, 1))
        rng = np.random.default_rng([MC_SEED, zlib.crc32(seed.encode("utf-8"))])
        x0, y0, x1, y1 = self.metric.bounds
        got: list[np.ndarray] = []
        have = 0
        for _ in range(200):
            xy = np.column_stack([rng.uniform(x0, x1, 4 * n), rng.uniform(y0, y1, 4 * n)])
            inside = xy[shapely.contains_xy(self.metric, xy[:, 0], xy[:, 1])]
            got.append(inside)
            have += len(inside)
            if have >= n:
                return np.concatenate(got)[:n]
        point = shapely.get_coordinates(self.metric.representative_point())[0]  # a degenerate area
        return np.concatenate([*got, np.tile(point, (n, 1))])[:n]


def _farthest_m(a: Place, b: Place) -> float:
    """The farthest geodesic distance (m) between two possible areas: over the pairs of their hull vertices
    (WGS84), the pairs within 1% of the farthest in UTM 49N measured on the ellipsoid."""
    diff = a.hull_xy[:, None, :] - b.hull_xy[None, :, :]
    metric = np.hypot(diff[..., 0], diff[..., 1])
    i, j = np.nonzero(metric >= metric.max() * 0.99 - 1.0)
    far = crs.geodesic_distance_m(a.hull_ll[i, 0], a.hull_ll[i, 1], b.hull_ll[j, 0], b.hull_ll[j, 1])
    return float(np.max(far))


def place_interval(a: Place, b: Place) -> tuple[float, float]:
    """The nearest and farthest geodesic distance (m) between two possible areas (0 when they overlap)."""
    if a.exact and b.exact:
        d = float(crs.geodesic_distance_m(a.lon, a.lat, b.lon, b.lat))
        return d, d
    lo = 0.0 if shapely.intersects(a.metric, b.metric) else float(crs.geodesic_between(a.metric, np.array([b.metric]))[0])
    return lo, max(lo, _farthest_m(a, b))


class PairIntervals:
    """Distance intervals (m) between candidates and targets, computed once per pair of possible areas."""

    def __init__(self) -> None:
        self.cache: dict[tuple[str, str], tuple[float, float]] = {}

    def between(self, cands: Sequence[Place], targets: Sequence[Place]) -> tuple[np.ndarray, np.ndarray]:
        """(nearest, farthest) geodesic metres, each of shape (candidates, targets)."""
        lo = np.zeros((len(cands), len(targets)))
        hi = np.zeros((len(cands), len(targets)))
        for j, t in enumerate(targets):
            todo = [i for i, c in enumerate(cands) if (c.key, t.key) not in self.cache]
            exact = [i for i in todo if cands[i].exact]
            if exact:  # many exact points (the hexagon centres): one vectorised pass
                self._points(cands, exact, t)
            for i in todo:
                if (cands[i].key, t.key) not in self.cache:
                    self.cache[(cands[i].key, t.key)] = place_interval(cands[i], t)
            for i, c in enumerate(cands):
                lo[i, j], hi[i, j] = self.cache[(c.key, t.key)]
        return lo, hi

    def _points(self, cands: Sequence[Place], rows: list[int], t: Place) -> None:
        lon = np.array([cands[i].lon for i in rows])
        lat = np.array([cands[i].lat for i in rows])
        if t.exact:
            lo = hi = np.asarray(crs.geodesic_distance_m(lon, lat, t.lon, t.lat), dtype=float).reshape(-1)
        else:
            pts = shapely.points(np.column_stack(crs.to_metric(lon, lat)))
            lo = crs.geodesic_between(t.metric, pts)
            far = crs.geodesic_distance_m(lon[:, None], lat[:, None], t.hull_ll[None, :, 0], t.hull_ll[None, :, 1])
            hi = np.maximum(lo, np.asarray(far, dtype=float).reshape(len(rows), -1).max(axis=1))
        for k, i in enumerate(rows):
            self.cache[(cands[i].key, t.key)] = (float(lo[k]), float(hi[k]))



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
