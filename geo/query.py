"""Buffer queries (``near``) and k-nearest queries (``nearest``) over the layers.

Candidates come from a shapely ``STRtree`` over the features' metric coordinates (UTM 49N,
EPSG:32649), searched a little wider than the radius; each candidate's distance is then measured
geodesically on the WGS84 ellipsoid (``pyproj.Geod``) to the nearest point of the feature (0
inside a polygon), and only those within the radius are kept. So the answer is exact at the edge:
a point 9.99 km away is in a 10 km query, one 10.01 km away is not. Every input and output
position is WGS84 unless the caller names another system (``gcj02``, ``bd09``) for the input.

Every distance also comes as an interval over the record's *possible area* (``geo.possible``: the county
of a record located only to a county, and so on): ``distance_min_km`` and ``distance_max_km`` to its
nearest and farthest possible point, and a ``certainty``: ``certain`` when the whole possible area lies
within the radius, ``possible`` when only part of it does; certain hits come first, then by
``distance_min_km`` and ``distance_max_km``. A query from a feature starts from that feature's possible
area too. ``distance_km`` stays the distance to the point drawn.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import crs, params, possible
from geo.crs import geodesic_between
from geo.errors import NotFoundError, ValidationError
from geo.possible import AREA, CERTAIN, Intervals, PossibleAreas

MAX_RADIUS_KM = 300.0
#: Most features a k-nearest query returns.
MAX_K = 1000
#: Layers a query searches when no layer is named (districts only when asked for).
FEATURE_LAYERS: tuple[str, ...] = ("parks", "projects", "institutions", "corridors")
QUERYABLE_LAYERS: tuple[str, ...] = (*FEATURE_LAYERS, "districts")
# UTM 49N scale error over the region is below 0.1%; search candidates this much wider.
_CANDIDATE_MARGIN = 1.01
_CANDIDATE_PAD_M = 50.0
#: Columns every result row carries, before the layer's own columns.
RESULT_COLUMNS = ("id", "layer", "name_zh", "name_en", "distance_km", "distance_min_km", "distance_max_km",
                  "certainty", "located_to_zh", "located_to_en")


class LayerIndex:
    """An STRtree over one layer's geometries in metric coordinates (built once, reused)."""

    def __init__(self, name: str, gdf: gpd.GeoDataFrame) -> None:
        if gdf.crs is None or not gdf.crs.equals(crs.WGS84):
            raise ValidationError(f"layer {name!r} must be in WGS84 (EPSG:4326), got {gdf.crs}", field="layer")
        self.name = name
        self.gdf = gdf.reset_index(drop=True)
        self.metric = np.asarray(self.gdf.geometry.to_crs(crs.METRIC_CRS).values)
        self.tree = shapely.STRtree(self.metric)
        self.ids = pd.Index(self.gdf[id_column(self.gdf)].astype(str)) if len(self.gdf) else pd.Index([])
        self.is_point = bool(len(self.gdf)) and bool((self.gdf.geometry.geom_type == "Point").all())
        if self.is_point:
            self.lon = self.gdf.geometry.x.to_numpy()
            self.lat = self.gdf.geometry.y.to_numpy()
            self.xy = shapely.get_coordinates(self.metric)

    def __len__(self) -> int:
        return len(self.gdf)

    @property
    def id_rank(self) -> np.ndarray:
        """Each row's position in id order (ties in a result are broken by id without comparing text)."""
        if not hasattr(self, "_id_rank"):
            self._id_rank = np.argsort(np.argsort(self.ids.to_numpy(dtype=str), kind="stable"), kind="stable")
        return self._id_rank

    def rows_of(self, ids: Sequence[object]) -> np.ndarray:
        """Row positions of the given ids (unknown ids left out)."""
        pos = self.ids.get_indexer([str(i) for i in ids])
        return np.sort(pos[pos >= 0])

    def within(self, query_metric: shapely.Geometry, query_wgs84: shapely.Geometry,
               radius_m: float) -> tuple[np.ndarray, np.ndarray]:
        """Return (row positions, geodesic distances in metres) of features within ``radius_m``."""
        reach = radius_m * _CANDIDATE_MARGIN + _CANDIDATE_PAD_M
        cand = self.candidates(query_metric, reach)
        dist = self.distances_m(cand, query_metric, query_wgs84)
        keep = dist <= radius_m
        return cand[keep], dist[keep]

    def candidates(self, query_metric: shapely.Geometry, reach_m: float) -> np.ndarray:
        """Sorted rows within ``reach_m`` metres (UTM 49N) of the query, found with the STRtree."""
        if self.is_point and query_metric.geom_type == "Point":
            # points around a point: a bounding-box query and a NumPy distance check beat `dwithin`
            px, py = query_metric.x, query_metric.y
            cand = self.tree.query(shapely.box(px - reach_m, py - reach_m, px + reach_m, py + reach_m))
            dx, dy = self.xy[cand, 0] - px, self.xy[cand, 1] - py
            cand = cand[dx * dx + dy * dy <= reach_m * reach_m]
        else:
            cand = self.tree.query(query_metric, predicate="dwithin", distance=reach_m)
        cand.sort()
        return cand

    def distances_m(self, rows: np.ndarray, query_metric: shapely.Geometry,
                    query_wgs84: shapely.Geometry) -> np.ndarray:
        """Geodesic distance (metres, WGS84 ellipsoid) from the query to the nearest point of each row."""
        if len(rows) == 0:
            return np.zeros(0)
        if self.is_point and query_wgs84.geom_type == "Point":
            return np.asarray(crs.geodesic_distance_m(query_wgs84.x, query_wgs84.y,
                                                      self.lon[rows], self.lat[rows]), dtype=float)
        return geodesic_between(query_metric, self.metric[rows])


@dataclass
class NearResult:
    """What a buffer query found: the features (WGS84, sorted by distance) and the query itself."""

    features: gpd.GeoDataFrame
    query: dict[str, object]
    buffer: shapely.Geometry  # the query area in WGS84, for drawing
    summary: dict[str, object] = field(default_factory=dict)


class Finder(Protocol):
    """A store that answers buffer queries itself (:meth:`geo.postgis.PostGISStore.near`, in SQL)."""

    def near(self, layer: str, geometry_wgs84: shapely.Geometry, radius_m: float) -> gpd.GeoDataFrame: ...


class QueryEngine:
    """The layers of a store with one spatial index each, built once per process.

    Given a ``finder`` (a store that runs ``near`` itself, PostGIS), buffer queries ask it for the records
    near enough by their points; otherwise the STRtree indexes find them in memory. The possible areas
    (``radii_km``: the circles of street and town records) and the distances are the same either way, so
    both give the same rows, columns and distances."""

    def __init__(self, layers: Mapping[str, gpd.GeoDataFrame], *, finder: Finder | None = None,
                 radii_km: Mapping[str, float] | None = None) -> None:
        self.layers = dict(layers)
        self.finder = finder
        self.radii_km = dict(radii_km or {})
        self._indexes: dict[str, LayerIndex] = {}
        self._possible: dict[str, PossibleAreas] = {}

    def index(self, layer: str) -> LayerIndex:
        """Return the STRtree index of a layer, building it on first use."""
        if layer not in self.layers:
            raise NotFoundError(f"unknown layer {layer!r}; expected one of: {', '.join(QUERYABLE_LAYERS)}",
                                field="layer")
        if layer not in self._indexes:
            self._indexes[layer] = LayerIndex(layer, self.layers[layer])
        return self._indexes[layer]

    def possible(self, layer: str) -> PossibleAreas:
        """The possible areas of a layer's records, built on first use."""
        if layer not in self._possible:
            if layer not in self.layers:
                self.index(layer)  # NotFoundError naming the layers
            self._possible[layer] = PossibleAreas(self.layers[layer], self.layers.get("districts"), self.radii_km)
        return self._possible[layer]

    def possible_area(self, feature_id: str) -> tuple[str, pd.Series, shapely.Geometry]:
        """A feature's layer, row and possible area (WGS84): where it may lie, given its location precision."""
        layer, row = self.feature(feature_id)
        at = self.index(layer).rows_of([feature_id])
        return layer, row, self.possible(layer).geometry(int(at[0]), row.geometry)

    def possible_area_feature(self, feature_id: str) -> dict[str, object]:
        """A feature's possible area as a GeoJSON Feature (WGS84), with its precision and how it is located."""
        layer, row, area = self.possible_area(feature_id)
        zh, en = possible.described(self.possible(layer), int(self.index(layer).rows_of([feature_id])[0]))
        props = {"id": feature_id, "layer": layer, "name_zh": row.get("name_zh"), "name_en": row.get("name_en"),
                 "location_precision": row.get("location_precision"), "located_to_zh": zh, "located_to_en": en}
        return {"type": "Feature", "id": feature_id, "crs": "EPSG:4326",
                "geometry": json.loads(shapely.to_geojson(shapely.set_precision(area, 1e-6))),
                "properties": {k: (None if pd.isna(v) else v) if not isinstance(v, (list, dict)) else v
                               for k, v in props.items()}}

    def feature(self, feature_id: str) -> tuple[str, pd.Series]:
        """Find a feature by id in any layer; return (layer, row)."""
        for name in QUERYABLE_LAYERS:
            gdf = self.layers.get(name)
            if gdf is None:
                continue
            hit = gdf[gdf[id_column(gdf)] == feature_id]
            if len(hit):
                return name, hit.iloc[0]
        raise NotFoundError(f"unknown feature id {feature_id!r}", field="feature")

    # -- input validation -------------------------------------------------------------------
    def _layers_arg(self, layer: str | Sequence[str] | None) -> list[str]:
        if layer is None or layer == "all":
            return [n for n in FEATURE_LAYERS if n in self.layers]
        names = [layer] if isinstance(layer, str) else list(layer)
        for n in names:
            if n not in QUERYABLE_LAYERS or n not in self.layers:
                raise ValidationError(f"unknown layer {n!r}; expected one of: all, {', '.join(QUERYABLE_LAYERS)}",
                                      field="layer")
        return names

    def point(self, lon: object, lat: object, system: str = "wgs84") -> shapely.Point:
        """Validate a lon/lat given in ``system`` and return it as a WGS84 point inside the study area."""
        x = params.parse_number(lon, "lon", minimum=-180, maximum=180)
        y = params.parse_number(lat, "lat", minimum=-90, maximum=90)
        wx, wy = crs.to_wgs84(x, y, system)
        params.check_in_study_area(float(wx), float(wy), what=f"({x:g}, {y:g}) in {system}")
        return shapely.Point(float(wx), float(wy))

    @staticmethod
    def _check_in_region(geom: shapely.Geometry, what: str, field: str) -> None:
        west, south, east, north = params.STUDY_AREA
        gx0, gy0, gx1, gy1 = geom.bounds
        if gx0 < west or gx1 > east or gy0 < south or gy1 > north:
            raise ValidationError(f"{what} reaches outside the Luoyang metro area; expected lon {west:g}..{east:g} "
                                  f"and lat {south:g}..{north:g} (WGS84)", field=field)

    @staticmethod
    def radius_m(radius_km: object) -> float:
        """Validate a radius in km (0 < r <= 300) and return it in metres."""
        return params.parse_number(radius_km, "radius_km", minimum=0, exclusive_minimum=True,
                                   maximum=MAX_RADIUS_KM) * 1000.0

    def query_geometry(self, *, lon: object = None, lat: object = None, system: str = "wgs84",
                       feature: str | None = None, polygon: shapely.Geometry | None = None
                       ) -> tuple[shapely.Geometry, dict[str, object]]:
        """Resolve exactly one of point / feature id / polygon to a WGS84 geometry and its description."""
        given = [lon is not None or lat is not None, feature is not None, polygon is not None]
        if sum(given) != 1:
            raise ValidationError("give exactly one of: lon and lat, feature, polygon", field="lon")
        if feature is not None:  # from where the feature may lie, not only from its point
            layer, row, area = self.possible_area(feature)
            return area, {"feature": feature, "feature_layer": layer,
                          "feature_precision": row.get("location_precision")}
        if polygon is not None:
            if polygon.geom_type not in ("Polygon", "MultiPolygon") or not polygon.is_valid or polygon.is_empty:
                reason = shapely.is_valid_reason(polygon) if polygon.geom_type.endswith("Polygon") else polygon.geom_type
                raise ValidationError(f"expected a valid WGS84 polygon, got {reason}", field="polygon")
            self._check_in_region(polygon, "the polygon", "polygon")
            return polygon, {"polygon": shapely.to_geojson(polygon)}
        if lon is None or lat is None:
            raise ValidationError("give both lon and lat", field="lat" if lat is None else "lon")
        pt = self.point(lon, lat, system)
        return pt, {"lon": round(pt.x, 7), "lat": round(pt.y, 7), "input_crs": system.lower()}

    # -- queries ----------------------------------------------------------------------------
    def near(self, *, radius_km: object, lon: object = None, lat: object = None, system: str = "wgs84",
             feature: str | None = None, polygon: shapely.Geometry | None = None,
             layer: str | Sequence[str] | None = None, certain_only: bool = False) -> NearResult:
        """Everything that may lie within ``radius_km`` (geodesic) of a WGS84/GCJ-02/BD-09 point, a feature or
        a polygon, certain hits first (``certain_only``: only those)."""
        radius = self.radius_m(radius_km)
        names = self._layers_arg(layer)
        geom, described = self.query_geometry(lon=lon, lat=lat, system=system, feature=feature, polygon=polygon)
        geom_m = _to_metric(geom)
        parts = []
        for name in names:
            part = self._within(name, geom_m, geom, radius)
            if feature is not None:
                part = part[part["id"] != feature]
            if certain_only:
                part = part[part["certainty"] == CERTAIN]
            parts.append(part)
        features = _concat(parts)
        buffer = _from_metric(shapely.buffer(geom_m, radius, quad_segs=32))
        query = {**described, "radius_km": radius / 1000.0, "layers": names, "certain_only": certain_only,
                 "crs": "EPSG:4326"}
        return NearResult(features, query, buffer, summarize(features))

    def _within(self, name: str, geom_m: shapely.Geometry, geom: shapely.Geometry,
                radius_m: float) -> gpd.GeoDataFrame:
        """Result rows of one layer that may lie within ``radius_m`` (geodesic) of a WGS84 geometry (``geom_m``
        in UTM 49N): the records near enough by their points (from the finder when there is one), and every
        record of each shared possible area (a county) that reaches into the radius."""
        idx, areas = self.index(name), self.possible(name)
        reach = radius_m + areas.max_radius_m
        if self.finder is None:
            near = idx.candidates(geom_m, reach * _CANDIDATE_MARGIN + _CANDIDATE_PAD_M)
        else:
            near = idx.rows_of(self.finder.near(name, geom, reach * _CANDIDATE_MARGIN + _CANDIDATE_PAD_M)["id"])
        extremes = possible.areas_within(areas, geom_m, geom, radius_m)
        iv = self._intervals(idx, areas, near, extremes, geom_m, geom)
        iv = _subset(iv, iv.min_m <= radius_m)
        iv = _subset(iv, np.lexsort((idx.id_rank[iv.rows], np.round(iv.distance_m, 1), np.round(iv.max_m, 1),
                                     np.round(iv.min_m, 1), iv.max_m > radius_m)))
        return _result_rows(name, idx.gdf.iloc[iv.rows], iv, areas, radius_m)

    @staticmethod
    def _intervals(idx: LayerIndex, areas: PossibleAreas, near: np.ndarray,
                   extremes: Mapping[str, tuple[float, float]], geom_m: shapely.Geometry,
                   geom: shapely.Geometry) -> Intervals:
        """The intervals of the point and circle records among ``near`` and of every member of the given areas."""
        parts = [near[areas.kind[near] != AREA], *(areas.members[key] for key in extremes)]
        rows = np.unique(np.concatenate(parts)).astype(np.int64)
        return possible.widen(areas, rows, idx.distances_m(rows, geom_m, geom), extremes)

    def nearest(self, *, layer: str, k: int = 5, lon: object = None, lat: object = None,
                system: str = "wgs84", feature: str | None = None) -> gpd.GeoDataFrame:
        """The ``k`` features of ``layer`` nearest (geodesic) to a point or a feature, ranked by their nearest
        possible distance; ``rank_min`` and ``rank_max`` say which ranks each could really hold."""
        k = int(params.parse_number(k, "k", minimum=1, maximum=MAX_K, integer=True))
        (name,) = self._layers_arg(layer)
        geom, _ = self.query_geometry(lon=lon, lat=lat, system=system, feature=feature)
        geom_m = _to_metric(geom)
        idx, areas = self.index(name), self.possible(name)
        want = k + (feature is not None)
        near = _knn_candidates(idx, geom_m, want, areas.kind != AREA, areas.max_radius_m)
        extremes = possible.areas_within(areas, geom_m, geom, None)
        iv = self._intervals(idx, areas, near, {}, geom_m, geom)
        # an area counts for all its records: keep those whose nearest point can beat the k-th best so far
        mins = np.concatenate([iv.min_m, *(np.full(len(areas.members[key]), lo) for key, (lo, _) in extremes.items())])
        bound = np.partition(mins, want - 1)[want - 1] if len(mins) > want else np.inf
        iv = self._intervals(idx, areas, near, {key: e for key, e in extremes.items() if e[0] <= bound}, geom_m, geom)
        if feature is not None:
            iv = _subset(iv, idx.ids[iv.rows] != feature)
        order = np.lexsort((idx.ids[iv.rows].to_numpy(), iv.distance_m, iv.max_m, iv.min_m))[:k]
        iv = _subset(iv, order)
        out = _result_rows(name, idx.gdf.iloc[iv.rows], iv, areas, None)
        out["rank_min"], out["rank_max"] = possible.rank_bounds(iv.min_m, iv.max_m)
        return out


def id_column(frame: pd.DataFrame) -> str:
    """The column that identifies a layer's features: ``id`` (``code`` for districts of an older store)."""
    return "id" if "id" in frame.columns else "code"


def _knn_candidates(idx: LayerIndex, geom_m: shapely.Geometry, k: int, among: np.ndarray,
                    slack_m: float = 0.0) -> np.ndarray:
    """Rows of ``among`` (a mask) that surely include the k geodesically nearest, even allowing each row
    ``slack_m`` nearer (a circle's radius): grow an STRtree search until it holds k of them."""
    if int(among.sum()) <= k:
        return np.flatnonzero(among)
    reach = 2_000.0
    while int(among[idx.candidates(geom_m, reach)].sum()) < k:
        reach *= 2
    # the k-th nearest is within `reach` metrically, so within reach*margin geodesically
    rows = idx.candidates(geom_m, (reach + slack_m) * _CANDIDATE_MARGIN + _CANDIDATE_PAD_M)
    return rows[among[rows]]


def _subset(iv: Intervals, which: np.ndarray) -> Intervals:
    return Intervals(iv.rows[which], iv.distance_m[which], iv.min_m[which], iv.max_m[which])


def _to_metric(geom: shapely.Geometry) -> shapely.Geometry:
    return shapely.transform(geom, lambda c: np.column_stack(crs.to_metric(c[:, 0], c[:, 1])))


def _from_metric(geom: shapely.Geometry) -> shapely.Geometry:
    return shapely.transform(geom, lambda c: np.column_stack(crs.from_metric(c[:, 0], c[:, 1])))


def _result_rows(layer: str, rows: gpd.GeoDataFrame, iv: Intervals, areas: PossibleAreas,
                 radius_m: float | None) -> gpd.GeoDataFrame:
    """Assemble result rows (in the order given): the common columns first, then the layer's own."""
    gdf = rows.copy()
    if "id" not in gdf.columns and "code" in gdf.columns:  # districts of a store built before they had an id
        gdf = gdf.rename(columns={"code": "id"})
    gdf.insert(0, "layer", layer)
    gdf["distance_km"] = np.round(iv.distance_m / 1000.0, 4)
    gdf["distance_min_km"] = np.round(iv.min_m / 1000.0, 4)
    gdf["distance_max_km"] = np.round(iv.max_m / 1000.0, 4)
    if radius_m is not None:
        gdf["certainty"] = iv.certainty(radius_m)
    gdf["located_to_zh"], gdf["located_to_en"] = possible.described_rows(areas, iv.rows)
    front = [c for c in RESULT_COLUMNS if c in gdf.columns]
    gdf = gdf[front + [c for c in gdf.columns if c not in front]]
    return gdf.reset_index(drop=True)


def _concat(parts: list[gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """One result of the layers' results (each in its order): certain hits first, then by the nearest and the
    farthest possible distance, the distance to the point, layer and id."""
    parts = [p for p in parts if len(p)] or parts[:1]
    if not parts:
        return gpd.GeoDataFrame(columns=[*RESULT_COLUMNS, "geometry"], geometry="geometry", crs=crs.WGS84)
    if len(parts) == 1:
        return parts[0]
    out = pd.concat(parts, ignore_index=True, sort=False)
    position = np.concatenate([np.arange(len(p)) for p in parts])  # each part is in id order at equal distances
    layer = np.concatenate([np.full(len(p), i) for i, p in enumerate(parts)])
    order = np.lexsort((position, layer, *(np.round(out[c].to_numpy(dtype=float), 4)
                                           for c in ("distance_km", "distance_max_km", "distance_min_km")),
                        out["certainty"].to_numpy() != CERTAIN))
    return gpd.GeoDataFrame(out.take(order).reset_index(drop=True), geometry="geometry", crs=crs.WGS84)


def summarize(features: gpd.GeoDataFrame) -> dict[str, object]:
    """Counts by layer, status, chain link and district, and the investment (亿元) of a query result."""

    def counts(column: str) -> dict[str, int]:
        if column not in features or features.empty:
            return {}
        return {str(k): int(v) for k, v in features[column].dropna().value_counts().sort_index().items()}

    invest = features["investment_cny_100m"] if "investment_cny_100m" in features else pd.Series(dtype=float)
    projects = features[features["layer"] == "projects"] if "layer" in features else features.iloc[:0]
    known = projects["investment_cny_100m"].dropna() if "investment_cny_100m" in projects else invest
    certainty = features["certainty"] if "certainty" in features else pd.Series(dtype=object)
    return {
        "feature_count": len(features),
        "certain": int((certainty == CERTAIN).sum()),
        "possible": int((certainty == possible.POSSIBLE).sum()),
        "by_layer": counts("layer"),
        "by_status": counts("status"),
        "by_chain_link": counts("chain_link"),
        "by_district": counts("district_code"),
        "investment_cny_100m": round(float(known.sum()), 3) if len(known) else None,
        # a sum with an approximate, "nearly" or proposed part is itself approximate
        "investment_cny_100m_qualifier": ("approx" if "investment_cny_100m_qualifier" in projects
                                          and projects.loc[known.index, "investment_cny_100m_qualifier"].notna().any()
                                          else None),
        "projects_with_investment": len(known),
        "projects_without_investment": int(len(projects) - len(known)),
    }
