"""Site selection: rank parks (and hexagonal areas) for an industry, with the reasons.

A weighted-overlay suitability model. Each criterion turns a fact of the data into a 0–1 score
by a stated function; the score is ``100 × Σ wᵢ·sᵢ / Σ wᵢ`` over the criteria that apply.

====================  =============================================================================
criterion (weight)    score function
====================  =============================================================================
theme (3)             park themes vs the industry's themes: 1 if the park has the industry's primary
                      theme, 0.5 if it shares another of its themes, else 0
corridor (2)          the same rule for the themes of the corridor(s) the park belongs to (named in
                      the plan, or inside the belt by location)
chain (2)             chain neighbours (projects and firms of the same, upstream or downstream chain
                      links, or of a related industry) within ``chain_km`` (15 km): min(1, n / 3)
talent (1)            geodesic distance d to the nearest university or college:
                      1 if d <= 5 km, falling linearly to 0 at 60 km
anchor (1)            geodesic distance d to the industry's anchor project: max(0, 1 - d / 80 km);
                      not applied when the industry has no anchor
status (1)            operating 1, under construction 0.75, planned 0.5, unknown 0.4, exploratory 0.25
====================  =============================================================================

Hard constraints (within X km of a point or feature, inside/outside districts, inside corridors,
minimum status) filter the candidates first; if they leave nothing, the result says which
constraint did it. Ranking is deterministic: by score, then theme score, then status, then id.
Distances are geodesic on the WGS84 ellipsoid; every position in and out is WGS84 (EPSG:4326).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import analysis, chain, crs
from geo.errors import NotFoundError, ValidationError
from geo.query import QueryEngine
from geo.style import STATUS_LABELS

INDUSTRIES_CSV = Path(__file__).resolve().parents[1] / "data" / "industries.csv"
DEFAULT_WEIGHTS: dict[str, float] = {"theme": 3.0, "corridor": 2.0, "chain": 2.0, "talent": 1.0, "anchor": 1.0,
                                     "status": 1.0}
CRITERIA_LABELS: dict[str, tuple[str, str]] = {
    "theme": ("园区主题", "park theme"),
    "corridor": ("产业带主题", "corridor theme"),
    "chain": ("产业链邻近", "chain neighbours"),
    "talent": ("人才", "talent"),
    "anchor": ("龙头项目", "anchor project"),
    "status": ("园区状态", "park status"),
}
STATUS_SCORES: dict[str, float] = {"operating": 1.0, "under_construction": 0.75, "planned": 0.5, "unknown": 0.4,
                                   "exploratory": 0.25}
CHAIN_KM = 15.0
CHAIN_SATURATION = 3
TALENT_FULL_KM, TALENT_ZERO_KM = 5.0, 60.0
ANCHOR_ZERO_KM = 80.0
HEX_KM = 6.0  # distance between hexagon centres for the suitability surface
TALENT_KINDS = ("university", "college")


@dataclass(frozen=True)
class Constraints:
    """Hard constraints on the candidates; empty fields constrain nothing."""

    within_km: float | None = None
    of_feature: str | None = None
    lon: float | None = None
    lat: float | None = None
    system: str = "wgs84"
    districts: tuple[str, ...] = ()
    exclude_districts: tuple[str, ...] = ()
    corridors: tuple[str, ...] = ()
    min_status: str | None = None


@dataclass
class SiteResult:
    """A ranking: the candidates (WGS84) with score, breakdown and reasons, and what was asked."""

    industry: dict[str, object]
    weights: dict[str, float]
    ranking: gpd.GeoDataFrame
    constraints: list[dict[str, object]] = field(default_factory=list)
    empty_because: str | None = None


def read_industries(path: Path = INDUSTRIES_CSV) -> pd.DataFrame:
    """The industry catalogue (bilingual), one row per industry id."""
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    return table.set_index("id", drop=False)


def industry(industry_id: str, path: Path = INDUSTRIES_CSV) -> pd.Series:
    """One industry of the catalogue; unknown ids raise NotFoundError listing the known ones."""
    table = read_industries(path)
    if industry_id not in table.index:
        raise NotFoundError(f"unknown industry {industry_id!r}; expected one of: {', '.join(table.index)}",
                            field="industry")
    return table.loc[industry_id]


def parse_weights(text: str | Mapping[str, object] | None) -> dict[str, float]:
    """Weights from ``theme=2,chain=1`` (or a mapping) over the defaults; each must be a number >= 0."""
    weights = dict(DEFAULT_WEIGHTS)
    if not text:
        return weights
    items = text.items() if isinstance(text, Mapping) else [p.partition("=")[::2] for p in str(text).split(",") if p]
    for key, value in items:
        key = str(key).strip()
        if key not in weights:
            raise ValidationError(f"unknown criterion {key!r}; expected one of: {', '.join(weights)}", field="weights")
        try:
            number = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ValidationError(f"weight of {key} must be a number >= 0, got {value!r}", field="weights") from None
        if not math.isfinite(number) or number < 0:
            raise ValidationError(f"weight of {key} must be a number >= 0, got {value!r}", field="weights")
        weights[key] = number
    if sum(weights.values()) <= 0:
        raise ValidationError("at least one weight must be > 0", field="weights")
    return weights


def _themes(text: object) -> list[str]:
    return [t for t in str(text or "").split(";") if t]


def theme_score(candidate_themes: list[str], industry_themes: list[str]) -> float:
    """1 if the primary industry theme is present, 0.5 if another one is, else 0."""
    if not industry_themes:
        return 0.0
    if industry_themes[0] in candidate_themes:
        return 1.0
    return 0.5 if set(industry_themes[1:]) & set(candidate_themes) else 0.0


def status_score(status: object) -> float:
    """The status criterion (operating over planned)."""
    return STATUS_SCORES.get(str(status), STATUS_SCORES["unknown"])


def talent_score(distance_km: np.ndarray) -> np.ndarray:
    """1 within 5 km of a university, linearly down to 0 at 60 km."""
    return np.clip(1 - (distance_km - TALENT_FULL_KM) / (TALENT_ZERO_KM - TALENT_FULL_KM), 0, 1)


def anchor_score(distance_km: np.ndarray) -> np.ndarray:
    """1 at the anchor project, linearly down to 0 at 80 km."""
    return np.clip(1 - distance_km / ANCHOR_ZERO_KM, 0, 1)


def chain_score(count: np.ndarray) -> np.ndarray:
    """min(1, neighbours / 3)."""
    return np.minimum(1.0, count / CHAIN_SATURATION)


def _distances_km(lon: np.ndarray, lat: np.ndarray, targets: gpd.GeoDataFrame) -> np.ndarray:
    """Geodesic km from each (lon, lat) to each target point: shape (n, m)."""
    if len(targets) == 0:
        return np.full((len(lon), 0), np.inf)
    tx, ty = targets.geometry.x.to_numpy(), targets.geometry.y.to_numpy()
    d = crs.geodesic_distance_m(lon[:, None], lat[:, None], tx[None, :], ty[None, :])
    return np.asarray(d, dtype=float).reshape(len(lon), len(tx)) / 1000.0


class _Neighbours:
    """Chain actors of an industry: projects and firms, each labelled same / upstream / downstream / related."""

    def __init__(self, layers: Mapping[str, gpd.GeoDataFrame], ind: pd.Series) -> None:
        links = _themes(ind["chain_links"])
        related = set(_themes(ind["related_industries"]))
        positions = {}
        if ind["chain"]:
            table = chain.read_chain(ind["chain"])
            positions = dict(zip(table["link_id"], table["position"]))
        lo = min((positions[link] for link in links if link in positions), default=None)
        hi = max((positions[link] for link in links if link in positions), default=None)
        rows = []
        for name in ("projects", "institutions"):
            gdf = layers[name]
            for rec in gdf.itertuples():
                link = getattr(rec, "chain_link", None)
                kind = None
                if isinstance(link, str) and link in positions and lo is not None:
                    kind = "same" if link in links else ("upstream" if positions[link] < lo else
                                                         "downstream" if positions[link] > hi else "same")
                elif name == "projects" and isinstance(getattr(rec, "industry", None), str) and rec.industry in related:
                    kind = "related"
                if kind and rec.location_precision != "city":  # a city-centre placeholder is no neighbour
                    rows.append({"id": rec.id, "name_zh": rec.name_zh, "relation": kind, "geometry": rec.geometry})
        self.actors = gpd.GeoDataFrame(rows, geometry="geometry", crs=crs.WGS84) if rows else \
            gpd.GeoDataFrame({"id": [], "name_zh": [], "relation": []}, geometry=[], crs=crs.WGS84)

    def counts(self, lon: np.ndarray, lat: np.ndarray, radius_km: float) -> list[dict[str, int]]:
        """Per point, the neighbours within ``radius_km`` by relation."""
        d = _distances_km(lon, lat, self.actors)
        relations = self.actors["relation"].to_numpy()
        out = []
        for row in d:
            near = relations[row <= radius_km]
            out.append({r: int((near == r).sum()) for r in ("same", "upstream", "downstream", "related")
                        if (near == r).any()})
        return out


def _corridor_themes(layers: Mapping[str, gpd.GeoDataFrame]) -> dict[str, list[str]]:
    return {r.id: _themes(r.themes) for r in layers["corridors"].itertuples()}


def _score_points(layers: Mapping[str, gpd.GeoDataFrame], ind: pd.Series, lon: np.ndarray, lat: np.ndarray,
                  park_themes: list[list[str]] | None, corridor_ids: list[list[str]], statuses: list[str] | None,
                  weights: Mapping[str, float], chain_km: float) -> tuple[np.ndarray, list[dict[str, dict]]]:
    """Score candidate points; return (scores 0-100, per-candidate breakdown)."""
    ind_themes = _themes(ind["themes"])
    c_themes = _corridor_themes(layers)
    inst = layers["institutions"]
    talent_sites = inst[inst["kind"].isin(TALENT_KINDS) & (inst["location_precision"] != "city")]
    talent_d = _distances_km(lon, lat, talent_sites)
    nearest_talent = talent_d.argmin(axis=1) if talent_d.shape[1] else None
    anchor_id = ind["anchor_project_id"]
    anchor = layers["projects"][layers["projects"]["id"] == anchor_id] if anchor_id else None
    anchor_d = _distances_km(lon, lat, anchor)[:, 0] if anchor is not None and len(anchor) else None
    neighbour_counts = _Neighbours(layers, ind).counts(lon, lat, chain_km)
    n = len(lon)
    crit: dict[str, np.ndarray] = {}
    crit["theme"] = np.array([theme_score(t, ind_themes) for t in park_themes]) if park_themes is not None else None
    crit["corridor"] = np.array([max([theme_score(c_themes[c], ind_themes) for c in cs], default=0.0)
                                 for cs in corridor_ids])
    crit["chain"] = chain_score(np.array([sum(c.values()) for c in neighbour_counts], dtype=float))
    crit["talent"] = talent_score(talent_d.min(axis=1)) if talent_d.shape[1] else np.zeros(n)
    crit["anchor"] = anchor_score(anchor_d) if anchor_d is not None else None
    crit["status"] = np.array([status_score(s) for s in statuses]) if statuses is not None else None
    applied = {k: v for k, v in crit.items() if v is not None and weights.get(k, 0) > 0}
    total_w = sum(weights[k] for k in applied)
    if total_w <= 0:
        raise ValidationError("no weighted criterion applies; give a weight > 0 to one of: "
                              + ", ".join(k for k, v in crit.items() if v is not None), field="weights")
    scores = sum(weights[k] * v for k, v in applied.items()) / total_w * 100.0
    breakdown = []
    for i in range(n):
        facts: dict[str, dict] = {}
        for k, v in crit.items():
            entry = {"score": None if v is None else round(float(v[i]), 3), "weight": weights.get(k, 0.0),
                     "applied": k in applied}
            if k == "chain":
                entry["neighbours"] = neighbour_counts[i]
                entry["within_km"] = chain_km
            elif k == "talent" and nearest_talent is not None:
                j = nearest_talent[i]
                entry["nearest"] = talent_sites.iloc[j]["name_zh"]
                entry["distance_km"] = round(float(talent_d[i, j]), 2)
            elif k == "anchor" and anchor_d is not None:
                entry["anchor"] = anchor.iloc[0]["name_zh"]
                entry["distance_km"] = round(float(anchor_d[i]), 2)
            elif k == "corridor":
                entry["corridors"] = corridor_ids[i]
            facts[k] = entry
        breakdown.append(facts)
    return np.round(scores, 2), breakdown


def _reason(ind: pd.Series, rec: Mapping[str, object], facts: Mapping[str, dict], layers) -> tuple[str, str]:
    """A sentence in Chinese and one in English saying why the candidate scores as it does."""
    names = {r.id: (r.name_zh, r.name_en) for r in layers["corridors"].itertuples()}
    fitting = {c for c, themes in _corridor_themes(layers).items() if theme_score(themes, _themes(ind["themes"]))}
    zh, en = [], []
    if facts["theme"]["score"]:
        zh.append(f"园区主题契合{ind['name_zh']}")
        en.append(f"park themes fit {ind['name_en'].lower()}")
    for c in facts["corridor"].get("corridors", []):
        if c in fitting:  # name only the belts whose theme fits the industry
            zh.append(f"在{names[c][0]}内")
            en.append(f"in the {names[c][1]}")
    nb = facts["chain"].get("neighbours", {})
    if nb:
        labels = {"same": ("同环节", "same-link"), "upstream": ("上游", "upstream"),
                  "downstream": ("下游", "downstream"), "related": ("相关产业", "related")}
        zh.append(f"{facts['chain']['within_km']:g} km 内有" + "、".join(f"{v} 家{labels[k][0]}企业或项目"
                                                                      for k, v in nb.items()))
        en.append(f"within {facts['chain']['within_km']:g} km: " + ", ".join(f"{v} {labels[k][1]}"
                                                                          for k, v in nb.items()) + " firms/projects")
    if "distance_km" in facts["anchor"]:
        zh.append(f"距龙头项目{facts['anchor']['anchor']} {facts['anchor']['distance_km']:.1f} km")
        en.append(f"{facts['anchor']['distance_km']:.1f} km from the anchor project")
    if "distance_km" in facts["talent"]:
        zh.append(f"距{facts['talent']['nearest']} {facts['talent']['distance_km']:.1f} km")
        en.append(f"{facts['talent']['distance_km']:.1f} km from the nearest university")
    status = rec.get("status")
    if status:
        zh.append(f"状态: {STATUS_LABELS.get(str(status), (status,))[0]}")
        en.append(f"status: {str(status).replace('_', ' ')}")
    if rec.get("location_precision") == "city":
        zh.append("位置仅知到城市, 距离为近似")
        en.append("location known only to the city, distances approximate")
    return "；".join(zh), "; ".join(en)


def _apply_constraints(layers, engine: QueryEngine, parks: gpd.GeoDataFrame, joined_parks: gpd.GeoDataFrame,
                       c: Constraints) -> tuple[gpd.GeoDataFrame, list[dict[str, object]], str | None]:
    """Filter candidate parks by the hard constraints; report what each constraint left."""
    steps: list[dict[str, object]] = []
    keep = parks
    empty_because = None

    def step(name: str, mask: pd.Series, detail: str) -> None:
        nonlocal keep, empty_because
        before = len(keep)
        keep = keep[mask.reindex(keep.index, fill_value=False).to_numpy()]
        steps.append({"constraint": name, "detail": detail, "before": before, "after": len(keep)})
        if before and not len(keep) and empty_because is None:
            empty_because = f"{name} ({detail}) excluded all {before} remaining parks"

    if c.within_km is not None:
        target = {"feature": c.of_feature} if c.of_feature else {"lon": c.lon, "lat": c.lat, "system": c.system}
        if not c.of_feature and (c.lon is None or c.lat is None):
            raise ValidationError("within_km needs a feature (of) or lon and lat", field="within_km")
        near = engine.near(radius_km=c.within_km, layer="parks", **target)
        where = c.of_feature or f"({c.lon}, {c.lat}) {c.system}"
        inside = parks["id"].isin(near.features["id"]) | (parks["id"] == c.of_feature)  # a park is 0 km from itself
        step("within_km", inside, f"within {c.within_km:g} km of {where}")
    if c.districts:
        step("district", _in_districts(layers, parks, joined_parks, c.districts), "in " + ",".join(c.districts))
    if c.exclude_districts:
        step("exclude_district", ~_in_districts(layers, parks, joined_parks, c.exclude_districts),
             "not in " + ",".join(c.exclude_districts))
    if c.corridors:
        known = set(layers["corridors"]["id"])
        for cid in c.corridors:
            if cid not in known:
                raise ValidationError(f"unknown corridor {cid!r}; expected one of: {', '.join(sorted(known))}",
                                      field="corridor")
        members = set()
        for cid in c.corridors:
            members |= set(analysis.corridor_members(joined_parks, cid)["id"])
        step("corridor", parks["id"].isin(members), "in " + ",".join(c.corridors))
    if c.min_status:
        if c.min_status not in STATUS_SCORES:
            raise ValidationError(f"unknown status {c.min_status!r}; expected one of: {', '.join(STATUS_SCORES)}",
                                  field="min_status")
        floor = STATUS_SCORES[c.min_status]
        step("min_status", parks["status"].map(status_score) >= floor, f"status at least {c.min_status}")
    return keep, steps, empty_because


def _in_districts(layers, parks, joined_parks, codes: tuple[str, ...]) -> pd.Series:
    d = layers["districts"]
    known = set(d["code"]) | set(d["city_code"])
    for code in codes:
        if code not in known:
            raise ValidationError(f"unknown district {code!r}; expected a county or city code of the districts layer",
                                  field="district")
    city_of = dict(zip(d["code"], d["city_code"]))
    named = parks["district_code"]
    return named.isin(codes) | named.map(city_of).isin(codes)


def rank_parks(layers: Mapping[str, gpd.GeoDataFrame], *, industry_id: str, top: int | None = None,
               weights: Mapping[str, float] | str | None = None, constraints: Constraints | None = None,
               chain_km: float = CHAIN_KM, engine: QueryEngine | None = None,
               joined: Mapping[str, gpd.GeoDataFrame] | None = None) -> SiteResult:
    """Rank the parks for an industry (scores 0–100 with breakdown and bilingual reasons), WGS84.

    ``joined`` (``geo.analysis.joined``, as a ``Dataset`` holds it) carries the configured belts; without
    it the default belt width is used."""
    ind = industry(industry_id)
    w = parse_weights(weights) if not isinstance(weights, Mapping) else parse_weights(dict(weights))
    if top is not None and (not isinstance(top, int) or top < 1):
        raise ValidationError(f"top must be a whole number >= 1, got {top!r}", field="top")
    if not (0 < chain_km <= 100):
        raise ValidationError(f"chain_km must be in (0, 100], got {chain_km!r}", field="chain_km")
    engine = engine or QueryEngine(layers)
    parks = layers["parks"]
    joined = (joined or analysis.joined(layers))["parks"]
    candidates, steps, empty_because = _apply_constraints(layers, engine, parks, joined, constraints or Constraints())
    info = {"id": ind["id"], "name_zh": ind["name_zh"], "name_en": ind["name_en"], "themes": _themes(ind["themes"])}
    if candidates.empty:
        empty = gpd.GeoDataFrame({"id": [], "rank": [], "score": []}, geometry=[], crs=crs.WGS84)
        return SiteResult(info, w, empty, steps, empty_because or "there are no parks in the store")
    j = joined.set_index("id").loc[candidates["id"]]
    corridor_ids = [sorted({*(b for b in str(r.belt_ids).split(";") if b and r.location_precision != "city"),
                            *([r.plan_corridor_id] if isinstance(r.plan_corridor_id, str) else [])})
                    for r in j.itertuples()]
    lon, lat = candidates.geometry.x.to_numpy(), candidates.geometry.y.to_numpy()
    scores, breakdown = _score_points(layers, ind, lon, lat, [_themes(t) for t in candidates["themes"]],
                                      corridor_ids, list(candidates["status"]), w, chain_km)
    out = candidates[["id", "name_zh", "name_en", "kind", "status", "district_code", "location_precision",
                      "themes", "geometry"]].copy()
    out["score"] = scores
    out["breakdown"] = breakdown
    out["theme_score"] = [b["theme"]["score"] for b in breakdown]
    out["status_rank"] = out["status"].map(status_score)
    reasons = [_reason(ind, rec, facts, layers) for rec, facts in zip(out.to_dict("records"), breakdown)]
    out["reason_zh"], out["reason_en"] = [r[0] for r in reasons], [r[1] for r in reasons]
    out = out.sort_values(["score", "theme_score", "status_rank", "id"], ascending=[False, False, False, True],
                          kind="stable").drop(columns=["theme_score", "status_rank"])
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    if top is not None:
        out = out.head(top)
    return SiteResult(info, w, gpd.GeoDataFrame(out.reset_index(drop=True), geometry="geometry", crs=crs.WGS84),
                      steps, None)


def hex_grid(area: shapely.Geometry, spacing_km: float = HEX_KM) -> gpd.GeoDataFrame:
    """Pointy hexagons (WGS84) with centres ``spacing_km`` apart, built in UTM 49N, whose centres lie in ``area``."""
    area_m = gpd.GeoSeries([area], crs=crs.WGS84).to_crs(crs.METRIC_CRS).iloc[0]
    x0, y0, x1, y1 = area_m.bounds
    d = spacing_km * 1000.0
    r = d / math.sqrt(3)  # circumradius
    xs, ys = [], []
    for row, y in enumerate(np.arange(y0, y1 + d, d * math.sqrt(3) / 2)):
        offset = d / 2 if row % 2 else 0.0
        for x in np.arange(x0 - offset, x1 + d, d):
            xs.append(x)
            ys.append(y)
    centres = shapely.points(xs, ys)
    inside = shapely.contains_xy(area_m, xs, ys)
    centres = centres[inside]
    angles = np.deg2rad(np.arange(30, 390, 60))
    ring = np.column_stack([np.cos(angles), np.sin(angles)]) * r
    polys = [shapely.Polygon(ring + np.array([c.x, c.y])) for c in centres]
    grid = gpd.GeoDataFrame({"cell": np.arange(len(polys))}, geometry=polys, crs=crs.METRIC_CRS)
    grid["centre"] = gpd.GeoSeries(centres, crs=crs.METRIC_CRS).to_crs(crs.WGS84).values
    return grid.to_crs(crs.WGS84)


def suitability_surface(layers: Mapping[str, gpd.GeoDataFrame], *, industry_id: str,
                        weights: Mapping[str, float] | str | None = None, spacing_km: float = HEX_KM,
                        chain_km: float = CHAIN_KM, belts: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Hexagons over the metro area (WGS84) scored like parks, without the park-only criteria (theme, status).

    ``belts`` are the corridor belts of the configured width (default width without them)."""
    ind = industry(industry_id)
    w = parse_weights(weights) if not isinstance(weights, Mapping) else parse_weights(dict(weights))
    if not (1 <= spacing_km <= 50):
        raise ValidationError(f"spacing_km must be in [1, 50], got {spacing_km!r}", field="spacing_km")
    area = shapely.union_all(layers["districts"].geometry.values)
    grid = hex_grid(area, spacing_km)
    centres = gpd.GeoDataFrame(geometry=grid["centre"].values, crs=crs.WGS84)
    belts = belts if belts is not None else analysis.corridor_belts(layers["corridors"])
    corridor_ids = [[b for b in s.split(";") if b] for s in analysis.belts_of(centres, belts)]
    lon, lat = centres.geometry.x.to_numpy(), centres.geometry.y.to_numpy()
    scores, _ = _score_points(layers, ind, lon, lat, None, corridor_ids, None, w, chain_km)
    out = gpd.GeoDataFrame({"cell": grid["cell"], "score": scores, "corridors": [";".join(c) for c in corridor_ids]},
                           geometry=grid.geometry.values, crs=crs.WGS84)
    return out
