"""Spatial joins and corridor standing.

* Corridor **belts**: each corridor axis buffered by ``belt_km`` on either side (default 15 km,
  setting ``CORRIDOR_BELT_KM``), computed in the metric CRS (UTM 49N) and returned in WGS84.
* **Joins**: features to the county polygon they lie in, to the belt(s) they lie in (a feature may
  lie in two), and projects to their park (the park they name, or a park polygon they lie in).
  Belts are joined by each record's *possible area* (``geo.possible``): a record is ``certain``ly in a
  belt when all of where it may lie is inside it, ``possible``y when only part is (a record located only
  to a county that the belt crosses), and ``outside`` otherwise.
* **Standing**: per corridor, the 2021 target against what the data holds; unknown figures are
  reported as ``None`` (unknown), never as 0.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import crs
from geo.errors import NotFoundError, ValidationError
from geo.overlay import covering_polygon
from geo.possible import PossibleAreas

DEFAULT_BELT_KM = 15.0
POINT_LAYERS: tuple[str, ...] = ("parks", "projects", "institutions")
STATUS_ORDER: tuple[str, ...] = ("operating", "under_construction", "planned", "exploratory", "unknown")


def check_belt_km(value: object) -> float:
    """Validate a belt half-width in km (0 < value <= 100)."""
    try:
        km = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValidationError(f"expected a number of km, got {value!r}", field="belt_km") from None
    if not 0 < km <= 100:
        raise ValidationError(f"expected 0 < belt_km <= 100, got {value!r}", field="belt_km")
    return km


def corridor_belts(corridors: gpd.GeoDataFrame, belt_km: float | None = None) -> gpd.GeoDataFrame:
    """Buffer each corridor axis by ``belt_km`` either side in UTM 49N; return WGS84 polygons."""
    km = DEFAULT_BELT_KM if belt_km is None else check_belt_km(belt_km)
    metric = corridors.to_crs(crs.METRIC_CRS)
    belts = metric[["id", "name_zh", "name_en", "themes"]].copy()
    belts = gpd.GeoDataFrame(belts, geometry=metric.geometry.buffer(km * 1000.0, quad_segs=16), crs=crs.METRIC_CRS)
    belts["belt_km"] = km
    belts["area_km2"] = (belts.area / 1e6).round(1)
    return belts.to_crs(crs.WGS84)


def belts_of(gdf: gpd.GeoDataFrame, belts: gpd.GeoDataFrame, areas: np.ndarray | None = None
             ) -> tuple[pd.Series, pd.Series]:
    """For each feature, the ids of the belts it certainly lies in and of those it possibly lies in
    (``;``-joined, '' for none): its possible area (``areas``, WGS84; default its geometry) covered by the
    belt polygon, or only meeting it.

    The few belts are the queries, prepared, against a tree of the many areas (the fast way round)."""
    geoms = np.asarray(gdf.geometry.values) if areas is None else areas
    # records located to one county share its polygon (one object): test each distinct area once
    _, first, inverse = np.unique(np.fromiter(map(id, geoms), np.int64, len(geoms)), return_index=True,
                                  return_inverse=True)
    distinct = geoms[first]
    polygons = np.array(belts.geometry.values)
    shapely.prepare(polygons)
    right, left = shapely.STRtree(distinct).query(polygons, predicate="intersects")
    covered = shapely.covers(polygons[right], distinct[left]) if len(left) else np.zeros(0, bool)
    ids = belts["id"].to_numpy()
    certain: list[list[str]] = [[] for _ in range(len(distinct))]
    possible: list[list[str]] = [[] for _ in range(len(distinct))]
    for i, j, inside in zip(left.tolist(), right.tolist(), covered.tolist()):
        (certain if inside else possible)[i].append(ids[j])
    certain_text = np.array([";".join(sorted(v)) for v in certain], dtype=object)
    possible_text = np.array([";".join(sorted(v)) for v in possible], dtype=object)
    return (pd.Series(certain_text[inverse], index=gdf.index, name="belt_ids"),
            pd.Series(possible_text[inverse], index=gdf.index, name="belt_ids_possible"))


def district_of(gdf: gpd.GeoDataFrame, districts: gpd.GeoDataFrame) -> pd.Series:
    """For each point, the code of the county polygon that covers it (None outside every county; the first
    county in order where two meet)."""
    held = covering_polygon(np.asarray(gdf.geometry.values), districts.geometry.values)
    codes = np.append(districts["code"].to_numpy(dtype=object), None)  # -1: the None at the end
    return pd.Series(codes[held], index=gdf.index, dtype=object, name="county_code")


def park_of(projects: gpd.GeoDataFrame, parks: gpd.GeoDataFrame) -> pd.DataFrame:
    """Each project's park: the one it names, else a park polygon it lies in; with how it was found."""
    polygons = parks[parks.geometry.geom_type.isin(["Polygon", "MultiPolygon"])]
    inside = pd.Series([None] * len(projects), index=projects.index, dtype=object)
    if len(polygons):
        tree = shapely.STRtree(polygons.geometry.values)
        left, right = tree.query(projects.geometry.values, predicate="within")
        ids = polygons["id"].to_numpy()
        for i, j in zip(left, right):
            inside.iloc[i] = inside.iloc[i] or ids[j]
    named = projects["park_id"].where(projects["park_id"].notna(), None)
    park_id = named.where(named.notna(), inside)
    how = np.where(named.notna(), "named", np.where(inside.notna(), "inside", None))
    return pd.DataFrame({"park_id": park_id, "park_join": how}, index=projects.index)


def corridor_ids_of(layers: Mapping[str, gpd.GeoDataFrame], layer: str) -> pd.Series:
    """The corridor each record is named in by the plan: its own ``corridor_id``, else its park's (or parent park's)."""
    gdf = layers[layer]
    parks = layers["parks"].set_index("id")
    own_park = parks["corridor_id"].dropna().to_dict()
    park_corridor = {pid: own_park.get(pid) or own_park.get(parent)
                     for pid, parent in parks["parent_park_id"].items()}
    if layer == "parks":
        return pd.Series([park_corridor.get(p) for p in gdf["id"]], index=gdf.index, dtype=object)
    own = gdf["corridor_id"] if "corridor_id" in gdf else pd.Series(None, index=gdf.index, dtype=object)
    via_park = gdf["park_id"].map(park_corridor) if "park_id" in gdf else own
    return pd.Series([o if isinstance(o, str) else (v if isinstance(v, str) else None)
                      for o, v in zip(own, via_park)], index=gdf.index, dtype=object)


def joined(layers: Mapping[str, gpd.GeoDataFrame], belt_km: float | None = None, *,
           radii_km: Mapping[str, float] | None = None,
           possible: Callable[[str], PossibleAreas] | None = None) -> dict[str, gpd.GeoDataFrame]:
    """Return copies of the point layers with ``county_code``, ``belt_ids`` (certainly in),
    ``belt_ids_possible`` (possibly in) and ``plan_corridor_id`` added (WGS84). ``possible`` gives a layer's
    possible areas when they are built already (``QueryEngine.possible``)."""
    belts = corridor_belts(layers["corridors"], belt_km)
    out = {}
    for name in POINT_LAYERS:
        gdf = layers[name].copy(deep=False)  # copy-on-write: the added columns are its own
        gdf["county_code"] = district_of(gdf, layers["districts"])
        areas = (possible(name) if possible is not None else PossibleAreas(gdf, layers["districts"], radii_km)
                 ).geometries(np.asarray(gdf.geometry.values))
        gdf["belt_ids"], gdf["belt_ids_possible"] = belts_of(gdf, belts, areas)
        gdf["plan_corridor_id"] = corridor_ids_of(layers, name)
        if name == "projects":
            parks = park_of(gdf, layers["parks"])
            gdf["park_id"], gdf["park_join"] = parks["park_id"], parks["park_join"]
        out[name] = gdf
    return out


def corridor_members(joined_gdf: gpd.GeoDataFrame, corridor_id: str, *, possible: bool = False) -> gpd.GeoDataFrame:
    """Rows named in the corridor's plan or certainly in its belt (``possible``: or possibly in it), with
    ``in_belt`` (``certain``, ``possible`` or ``outside``) and ``membership`` (``named``, ``named+belt``,
    ``belt``, ``possible``) saying which.

    A record located only to a county or the city is certainly in a belt only when all of that county
    or city is; one whose county the belt crosses is possibly in it."""
    def has(column: str) -> pd.Series:
        if column not in joined_gdf:
            return pd.Series(False, index=joined_gdf.index)
        ids = joined_gdf[column]  # ";"-separated corridor ids
        return (";" + ids.fillna("") + ";").str.contains(f";{corridor_id};", regex=False)

    named = joined_gdf["plan_corridor_id"] == corridor_id
    certain, maybe = has("belt_ids"), has("belt_ids_possible")
    keep = named | certain | (maybe if possible else False)
    rows = joined_gdf[keep].copy()
    rows["in_belt"] = np.where(certain[keep], "certain", np.where(maybe[keep], "possible", "outside"))
    rows["membership"] = np.where(named[keep], np.where(certain[keep], "named+belt", "named"),
                                  np.where(certain[keep], "belt", "possible"))
    return rows


#: The groups of a corridor's members whose figures are kept apart (never added together): projects named in
#: the plan (``named``, ``named+belt``), other projects certainly in the belt (``belt``) and projects possibly in
#: it (``possible``: located only to a county or the city that the belt crosses).
MEMBERSHIP_GROUPS: dict[str, tuple[str, ...]] = {"named": ("named", "named+belt"), "in_belt": ("belt",),
                                                 "possibly_in_belt": ("possible",)}


def known_investment(rows: pd.DataFrame) -> dict[str, object]:
    """The known project investment (亿元) of ``rows``: its sum (None when no row has a figure: unknown, never 0),
    ``approx`` when any figure is qualified, and how many rows have a figure and how many have none."""
    figures = rows["investment_cny_100m"].dropna() if "investment_cny_100m" in rows else pd.Series(dtype=float)
    qualified = ("investment_cny_100m_qualifier" in rows
                 and rows.loc[figures.index, "investment_cny_100m_qualifier"].notna().any())
    return {"total": round(float(figures.sum()), 3) if len(figures) else None,
            "qualifier": "approx" if len(figures) and qualified else None,
            "with": len(figures), "without": len(rows) - len(figures)}


def _status_counts(rows: pd.DataFrame) -> dict[str, int]:
    counts = rows["status"].value_counts()
    return {s: int(counts[s]) for s in STATUS_ORDER if counts.get(s, 0)}


def _located_to_city(rows: pd.DataFrame) -> pd.Series:
    if "location_precision" not in rows:
        return pd.Series(False, index=rows.index)
    return rows["location_precision"] == "city"


def _member_records(rows: pd.DataFrame, extra: tuple[str, ...] = ()) -> list[dict[str, object]]:
    cols = [c for c in ("id", "name_zh", "name_en", "status", "membership", "in_belt", "location_precision", *extra)
            if c in rows.columns]
    # column by column (a row-wise to_dict boxes every value on its own: 10x slower for a big belt)
    values = [rows[c].astype(object).where(rows[c].notna(), None).tolist() for c in cols]
    return [dict(zip(cols, row)) for row in zip(*values)]


#: The columns of the joined projects and parks that corridor_standing reads.
_STANDING_COLUMNS = ("id", "name_zh", "name_en", "status", "location_precision", "investment_cny_100m",
                     "investment_cny_100m_qualifier", "plan_corridor_id", "belt_ids", "belt_ids_possible")


def corridor_standing(layers: Mapping[str, gpd.GeoDataFrame], belt_km: float | None = None, *,
                      radii_km: Mapping[str, float] | None = None,
                      joined_layers: Mapping[str, gpd.GeoDataFrame] | None = None,
                      members: bool = True) -> list[dict[str, object]]:
    """Per corridor: target vs known project investment (亿元) of projects named in the plan, of other projects
    certainly in the belt and of projects possibly in it (kept apart, never added), projects by status, parks
    (named, certainly and possibly in the belt, counted apart), the chains its themes fit, districts crossed
    (WGS84 geometries, lengths geodesic); with ``members``, also every member project and park (``projects``,
    ``parks``: a big register puts hundreds of thousands in a belt).

    The 2021 target is investment to be *completed during 2021*; a project's figure is its total investment as
    reported, so the two are shown side by side, never as progress of one towards the other beyond
    ``share_of_target_known`` (named projects only)."""
    from geo import chain  # geo.chain imports this module

    km = DEFAULT_BELT_KM if belt_km is None else check_belt_km(belt_km)
    j = joined_layers if joined_layers is not None else joined(layers, km, radii_km=radii_km)
    districts = layers["districts"]
    geod = crs.geod()
    out = []
    # only the columns the standing reads: every filter below then copies less (a belt may hold 100k+ records)
    members_of = {name: j[name][[c for c in j[name].columns if c in _STANDING_COLUMNS]] for name in ("projects", "parks")}
    for corridor in layers["corridors"].itertuples():
        projects = corridor_members(members_of["projects"], corridor.id, possible=True)
        parks = corridor_members(members_of["parks"], corridor.id, possible=True)
        groups = {g: projects[projects["membership"].isin(m)] for g, m in MEMBERSHIP_GROUPS.items()}
        named_projects = groups["named"]
        known = {g: known_investment(rows) for g, rows in groups.items()}
        named = known["named"]
        crossed = districts[districts.intersects(corridor.geometry)]
        target = float(corridor.investment_target_2021_cny_100m)
        # not named in this plan and located only to the city: every axis starts at the city centre
        city_only = {name: rows[~rows["membership"].str.startswith("named") & _located_to_city(rows)]
                     for name, rows in (("projects", projects), ("parks", parks))}
        out.append({
            "id": corridor.id,
            "name_zh": corridor.name_zh,
            "name_en": corridor.name_en,
            "theme_zh": corridor.theme_zh,
            "theme_en": corridor.theme_en,
            "themes": [t for t in str(getattr(corridor, "themes", "") or "").split(";") if t],
            "investment_target_2021_cny_100m": target,
            "investment_known_cny_100m": named["total"],
            "investment_known_cny_100m_qualifier": named["qualifier"],
            "projects_with_investment": named["with"],
            "projects_without_investment": named["without"],
            "share_of_target_known": (round(named["total"] / target, 4) if named["total"] is not None and target
                                      else None),
            # other projects certainly in the belt (not named in the plan): kept apart from the named ones
            "investment_in_belt_cny_100m": known["in_belt"]["total"],
            "investment_in_belt_cny_100m_qualifier": known["in_belt"]["qualifier"],
            "projects_in_belt_not_named": len(groups["in_belt"]),
            "projects_in_belt_with_investment": known["in_belt"]["with"],
            "projects_in_belt_without_investment": known["in_belt"]["without"],
            # projects possibly in the belt (located only to a county or the city the belt crosses)
            "investment_possibly_in_belt_cny_100m": known["possibly_in_belt"]["total"],
            "investment_possibly_in_belt_cny_100m_qualifier": known["possibly_in_belt"]["qualifier"],
            "projects_possibly_in_belt_with_investment": known["possibly_in_belt"]["with"],
            "projects_possibly_in_belt_without_investment": known["possibly_in_belt"]["without"],
            "projects_named": len(named_projects),
            "projects_in_belt": int((projects["in_belt"] == "certain").sum()),
            "projects_possibly_in_belt": int((projects["in_belt"] == "possible").sum()),
            "projects_by_status": _status_counts(named_projects),
            "projects_by_status_in_belt": _status_counts(groups["in_belt"]),
            "projects_by_status_possibly_in_belt": _status_counts(groups["possibly_in_belt"]),
            "projects_located_to_city": len(city_only["projects"]),
            **({"projects": _member_records(projects, ("investment_cny_100m", "investment_cny_100m_qualifier"))}
               if members else {}),
            "parks_named": int(parks["membership"].str.startswith("named").sum()),
            "parks_in_belt": int((parks["in_belt"] == "certain").sum()),
            "parks_possibly_in_belt": int((parks["in_belt"] == "possible").sum()),
            "parks_located_to_city": len(city_only["parks"]),
            **({"parks": _member_records(parks)} if members else {}),
            "chains": chain.chains_for_themes(getattr(corridor, "themes", "")),
            "districts_crossed": [{"code": d.code, "name_zh": d.name_zh, "name_en": d.name_en}
                                  for d in crossed.itertuples()],
            "axis_length_km": round(float(geod.geometry_length(corridor.geometry)) / 1000.0, 1),
            "belt_km": km,
            "source": corridor.source,
        })
    return out


def corridor(layers: Mapping[str, gpd.GeoDataFrame], corridor_id: str) -> pd.Series:
    """Return one corridor row by id (NotFoundError naming the known ids otherwise)."""
    c = layers["corridors"]
    hit = c[c["id"] == corridor_id]
    if hit.empty:
        raise NotFoundError(f"unknown corridor {corridor_id!r}; expected one of: {', '.join(c['id'])}",
                            field="corridor")
    return hit.iloc[0]
