"""Site selection: rank parks (and hexagonal areas) for an industry, with the reasons, over distance intervals.

A weighted-overlay suitability model. Each criterion turns a fact of the data into a 0–1 score
by a stated function; the score is ``100 × Σ wᵢ·sᵢ / Σ wᵢ`` over the criteria that apply.

====================  =============================================================================
criterion (weight)    score function
====================  =============================================================================
theme (3)             park themes vs the industry's themes: 1 if the park has the industry's primary
                      theme ("fits"), 0.5 if it shares only another of its themes ("shares a related
                      theme"), else 0
corridor (2)          the same rule for the themes of the corridor(s) the park belongs to: named in
                      the plan, or inside the belt by location (certainly, or only possibly: see below)
chain (2)             chain neighbours (projects and firms of the same, upstream or downstream chain
                      links, or of a related industry) within ``chain_km`` (15 km): min(1, n / 3)
talent (1)            geodesic distance d to the nearest university or college:
                      1 if d <= 5 km, falling linearly to 0 at 60 km
anchor (1)            geodesic distance d to the industry's anchor project: max(0, 1 - d / 80 km);
                      not applied when the industry has no anchor
status (1)            operating 1, under construction 0.75, planned 0.5, unknown 0.4, exploratory 0.25
====================  =============================================================================

**Intervals, not points.** Most records are located only to a county or to the city; the point drawn
is a stand-in (``geo.possible``). Every location-based criterion is therefore scored over where the
park and its targets may really lie, their *possible areas* (a site's point, a street's or town's
circle, the county polygon, the city's counties):

- a distance is an interval ``[distance_min_km, distance_max_km]``: the nearest points of the two
  possible areas (0 when they overlap) and the farthest pair (taken over the vertices of both convex
  hulls, where it lies), both geodesic on the WGS84 ellipsoid. The nearest university is the interval
  ``[min over sites of their minima, min over sites of their maxima]``;
- each score function falls with distance, so a criterion's ``score_min`` is its score at the far end
  and ``score_max`` at the near end. A chain neighbour is *certain* when its farthest possible distance
  is within ``chain_km`` and *possible* when its nearest is: the count lies between the two. A park is
  certainly in a belt when all its possible area is (``belt_ids`` of ``geo.analysis.joined``), possibly
  when only part is (``belt_ids_possible``);
- the park's ``score_min`` / ``score_max`` is the weighted combination of the criteria's lows / highs;
- the ranking uses the **expected** score, ``score``: the mean over :data:`MC_DRAWS` joint draws of
  every position, each record drawn uniformly in its possible area (UTM 49N, where the distances of a
  draw are measured; its scale error is below 0.1% over the region), independently of the others. The
  draws are seeded (:data:`geo.possible.MC_SEED` and the record, for a target; the possible area itself, for a
  candidate), so an answer is reproducible and does not depend on which other parks are candidates.
  Each criterion's expectation is clipped to its range, so ``score_min <= score <= score_max``;
- a record located only to the city is kept (as a talent site, the anchor, a neighbour, a candidate):
  its possible area is the whole city, so its interval is wide and it is rarely *certainly* anything.

**Ties.** Parks whose expected score and range are equal (to 0.01) *tie*: ``tied_with`` lists the other
ids and ``tie_rank`` is their shared (best) rank; ``rank`` stays the position in the list (then theme
score, status, id). Parks that are indistinguishable at their precision (the same possible area and the
same non-distance facts) always tie, since a candidate's draws are seeded by its possible area.

**Reasons** (``reason_zh``, ``reason_en``) state a distance exactly (``3.2 km``) only when both ends are
sites; otherwise as the interval rounded outward to whole km, saying how the two are located
("距河南科技大学 0–31 km（两者均仅定位到区县）"). Theme wording follows the score: 1 "fits", 0.5 "shares a
related theme". The breakdown keeps ``distance_km`` (between the points drawn) with
``distance_km_basis`` saying whether those are sites or stand-ins.

Hard constraints (within X km of a point or feature, inside/outside districts, inside corridors,
minimum status) filter the candidates first; if they leave nothing, the result says which
constraint did it, in Chinese and English, naming districts and corridors. ``within_km`` keeps the
parks that *may* lie within the distance (``engine.near``: certain and possible hits); the step
detail says how many only possibly do, and each row's ``within_certainty`` which it is. A district
constraint goes by the park's ``district_code`` (a park located only to the city is in no county); a
corridor constraint keeps the parks named in the plan or certainly in the belt, as
``geo.analysis.corridor_members`` does (the step detail counts those only possibly in it).
Ranking is deterministic: by expected score, then theme score, then status, then id.
Distances are geodesic on the WGS84 ellipsoid (per draw: UTM 49N metres); every position in and out is
WGS84 (EPSG:4326).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import analysis, chain, crs, possible
from geo.errors import NotFoundError, ValidationError
from geo.possible import MC_DRAWS, PairIntervals, Place
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
#: Scores (and their ranges) equal to this many decimals tie.
TIE_DECIMALS = 2
#: How a record is located, for reasons: the level of its possible area in Chinese and English.
LEVEL_LABELS: dict[str, tuple[str, str]] = {"district": ("区县", "a district"), "city": ("城市", "the city"),
                                            "street": ("街道", "a street"), "town": ("乡镇", "a town")}
#: The constraints by name in Chinese, for the messages.
CONSTRAINT_LABELS: dict[str, str] = {"within_km": "距离", "district": "行政区", "exclude_district": "排除行政区",
                                     "corridor": "产业带", "min_status": "最低状态"}


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
    """A ranking: the candidates (WGS84) with score, range, breakdown and reasons, and what was asked.

    ``empty_because`` is bilingual ("中文 · English"); ``empty_because_zh`` / ``empty_because_en`` hold the parts."""

    industry: dict[str, object]
    weights: dict[str, float]
    ranking: gpd.GeoDataFrame
    constraints: list[dict[str, object]] = field(default_factory=list)
    empty_because: str | None = None
    empty_because_zh: str | None = None
    empty_because_en: str | None = None


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


# -- possible areas, their distance intervals and random draws ------------------------------------------
@dataclass
class _Targets:
    """The records one criterion measures distance to: ids, names, possible areas and draws (UTM 49N)."""

    ids: list[str]
    names: list[str]
    places: list[Place]
    draws: np.ndarray  # (targets, draws, 2)
    relation: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))

    @classmethod
    def of(cls, engine: QueryEngine, rows: Sequence[tuple[str, str, str]], relation: Sequence[str] = ()) -> _Targets:
        """Targets from (layer, id, name_zh) rows; each drawn with a seed of its layer and id."""
        places = [Place.of(engine, layer, rid) for layer, rid, _ in rows]
        draws = (np.stack([p.draws(f"{layer}:{rid}") for p, (layer, rid, _) in zip(places, rows)])
                 if rows else np.zeros((0, MC_DRAWS, 2)))
        return cls([r[1] for r in rows], [r[2] for r in rows], places, draws, np.array(list(relation), dtype=object))

    def __len__(self) -> int:
        return len(self.ids)


class _Neighbours:
    """Chain actors of an industry: projects and firms, each labelled same / upstream / downstream / related.

    Records located only to the city are kept: their possible area is the whole city, so they are at most
    *possible* neighbours."""

    def __init__(self, layers: Mapping[str, gpd.GeoDataFrame], ind: pd.Series) -> None:
        links = _themes(ind["chain_links"])
        related = set(_themes(ind["related_industries"]))
        positions = {}
        if ind["chain"]:
            table = chain.read_chain(ind["chain"])
            positions = dict(zip(table["link_id"], table["position"]))
        lo = min((positions[link] for link in links if link in positions), default=None)
        hi = max((positions[link] for link in links if link in positions), default=None)
        self.rows: list[tuple[str, str, str]] = []
        self.relations: list[str] = []
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
                if kind and rec.geometry is not None and rec.geometry.geom_type == "Point":
                    self.rows.append((name, str(rec.id), str(rec.name_zh)))
                    self.relations.append(kind)


RELATIONS = ("same", "upstream", "downstream", "related")


def _corridor_themes(layers: Mapping[str, gpd.GeoDataFrame]) -> dict[str, list[str]]:
    """The themes of each corridor, by id."""
    return {r.id: _themes(r.themes) for r in layers["corridors"].itertuples()}


@dataclass
class _Scored:
    """Scores of the candidates (0–100: expected, lowest, highest), per-candidate breakdown (JSON-ready) and
    what the reasons need (the possible areas and distance intervals, metres)."""

    score: np.ndarray
    score_min: np.ndarray
    score_max: np.ndarray
    breakdown: list[dict[str, dict]]
    extra: list[dict[str, object]]


def _km(metres: float) -> float:
    """Metres as km, rounded to 10 m."""
    return round(float(metres) / 1000.0, 2)


class _Scorer:
    """The criteria of one industry: its targets' possible areas and draws, built once per ranking."""

    def __init__(self, layers: Mapping[str, gpd.GeoDataFrame], ind: pd.Series, engine: QueryEngine,
                 chain_km: float, belts: gpd.GeoDataFrame | None) -> None:
        self.ind_themes = _themes(ind["themes"])
        self.c_themes = _corridor_themes(layers)
        self.chain_km = chain_km
        inst = layers["institutions"]
        talent = inst[inst["kind"].isin(TALENT_KINDS) & (inst.geometry.geom_type == "Point")]
        self.talent = _Targets.of(engine, [("institutions", str(r.id), str(r.name_zh)) for r in talent.itertuples()])
        anchor_id = ind["anchor_project_id"]
        projects = layers["projects"]
        hit = projects[projects["id"] == anchor_id] if anchor_id else projects.iloc[:0]
        self.anchor = (_Targets.of(engine, [("projects", str(r.id), str(r.name_zh)) for r in hit.head(1).itertuples()])
                       if len(hit) else None)
        nb = _Neighbours(layers, ind)
        self.chain = _Targets.of(engine, nb.rows, nb.relations)
        belts = belts if belts is not None else analysis.corridor_belts(layers["corridors"])
        self.belts_m = dict(zip(belts["id"], belts.geometry.to_crs(crs.METRIC_CRS).values))
        self.intervals = PairIntervals()

    @staticmethod
    def _per_draw(cands: np.ndarray, targets: _Targets, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Distances (m, UTM 49N) of each draw, shape (candidates, targets, draws), kept within the intervals."""
        diff = cands[:, None, :, :] - targets.draws[None, :, :, :]
        d = np.hypot(diff[..., 0], diff[..., 1])
        return np.clip(d, lo[:, :, None], hi[:, :, None])

    def score(self, places: Sequence[Place], seeds: Sequence[str], park_themes: list[list[str]] | None,
              statuses: list[str] | None, certain: list[list[str]], maybe: list[list[str]],
              weights: Mapping[str, float]) -> _Scored:
        """Score candidates (WGS84 possible areas) over the intervals and the draws; the lows, highs, expectations."""
        n = len(places)
        draws = np.stack([p.draws(s) for p, s in zip(places, seeds)]) if n else np.zeros((0, MC_DRAWS, 2))
        exp: dict[str, np.ndarray | None] = {}
        low: dict[str, np.ndarray | None] = {}
        high: dict[str, np.ndarray | None] = {}
        facts: list[dict[str, dict]] = [{} for _ in range(n)]
        extra: list[dict[str, object]] = [{"park": p} for p in places]

        # theme and status: facts without distance
        if park_themes is not None:
            exp["theme"] = np.array([theme_score(t, self.ind_themes) for t in park_themes])
            for i, t in enumerate(park_themes):
                s = exp["theme"][i]
                facts[i]["theme"] = {"match": "primary" if s == 1 else "related" if s else "none",
                                     "shared": [x for x in self.ind_themes if x in t]}
        else:
            exp["theme"] = None
        low["theme"] = high["theme"] = exp["theme"]

        # corridor: certainly in (named, or all of the possible area in the belt), possibly in (part of it)
        c_lo, c_hi, c_exp = np.zeros(n), np.zeros(n), np.zeros(n)
        for i in range(n):
            sure = max((theme_score(self.c_themes.get(c, []), self.ind_themes) for c in certain[i]), default=0.0)
            extra_belts = [(b, theme_score(self.c_themes.get(b, []), self.ind_themes)) for b in maybe[i]]
            best = max([sure, *(s for _, s in extra_belts)])
            per_draw = np.full(MC_DRAWS, sure)
            for b, s in extra_belts:
                if s > sure and b in self.belts_m:
                    inside = shapely.contains_xy(self.belts_m[b], draws[i, :, 0], draws[i, :, 1])
                    per_draw = np.maximum(per_draw, np.where(inside, s, 0.0))
            c_lo[i], c_hi[i], c_exp[i] = sure, best, float(np.clip(per_draw.mean(), sure, best))
            facts[i]["corridor"] = {"corridors": list(certain[i]), "corridors_possible": list(maybe[i])}
        exp["corridor"], low["corridor"], high["corridor"] = c_exp, c_lo, c_hi

        # chain neighbours: certain (farthest within chain_km) and possible (nearest within chain_km)
        reach = self.chain_km * 1000.0
        m = len(self.chain)
        if m:
            lo, hi = self.intervals.between(places, self.chain.places)
            sure, can = hi <= reach, lo <= reach
            counts = np.zeros((n, MC_DRAWS))
            by_relation = np.zeros((n, len(RELATIONS)))
            for a in range(0, n, 64):
                d = self._per_draw(draws[a:a + 64], self.chain, lo[a:a + 64], hi[a:a + 64])
                within = ((d <= reach) | sure[a:a + 64, :, None]) & can[a:a + 64, :, None]
                counts[a:a + 64] = within.sum(axis=1)
                for r, rel in enumerate(RELATIONS):
                    by_relation[a:a + 64, r] = within[:, self.chain.relation == rel, :].sum(axis=1).mean(axis=1)
            low["chain"] = chain_score(sure.sum(axis=1).astype(float))
            high["chain"] = chain_score(can.sum(axis=1).astype(float))
            exp["chain"] = np.clip(chain_score(counts).mean(axis=1), low["chain"], high["chain"])
        else:
            sure = can = np.zeros((n, 0), dtype=bool)
            by_relation = np.zeros((n, len(RELATIONS)))
            low["chain"] = high["chain"] = exp["chain"] = np.zeros(n)
        for i in range(n):
            rel = self.chain.relation
            facts[i]["chain"] = {
                "within_km": self.chain_km,
                "neighbours": {r: int((can[i] & (rel == r)).sum()) for r in RELATIONS if (can[i] & (rel == r)).any()},
                "neighbours_certain": {r: int((sure[i] & (rel == r)).sum()) for r in RELATIONS
                                       if (sure[i] & (rel == r)).any()},
                "count_min": int(sure[i].sum()), "count_max": int(can[i].sum()),
                "count_expected": round(float(by_relation[i].sum()), 2)}
            unsure = [self.chain.places[j] for j in np.flatnonzero(can[i] & ~sure[i])]
            extra[i]["chain_levels"] = sorted({p.precision for p in [places[i], *unsure] if not p.exact})

        # talent and anchor: distance to the nearest of some targets
        for name, targets, score_fn in (("talent", self.talent, talent_score), ("anchor", self.anchor, anchor_score)):
            if targets is None:
                exp[name] = low[name] = high[name] = None
                continue
            if not len(targets):
                exp[name] = low[name] = high[name] = np.zeros(n)
                continue
            lo, hi = self.intervals.between(places, targets.places)
            nearest = np.zeros((n, MC_DRAWS))
            for a in range(0, n, 64):
                nearest[a:a + 64] = self._per_draw(draws[a:a + 64], targets, lo[a:a + 64], hi[a:a + 64]).min(axis=1)
            d_lo, d_hi = lo.min(axis=1), hi.min(axis=1)
            high[name], low[name] = score_fn(d_lo / 1000.0), score_fn(d_hi / 1000.0)
            exp[name] = np.clip(score_fn(nearest / 1000.0).mean(axis=1), low[name], high[name])
            order = np.arange(len(targets))
            for i in range(n):
                j = int(np.lexsort((order, lo[i], hi[i]))[0])  # surely within the least farthest distance
                k = int(np.lexsort((order, hi[i], lo[i]))[0])  # possibly the nearest
                park, target = places[i], targets.places[j]
                stand_in = float(crs.geodesic_distance_m(park.lon, park.lat, target.lon, target.lat))
                entry: dict[str, object] = {
                    "anchor_id" if name == "anchor" else "nearest_id": targets.ids[j],
                    "anchor" if name == "anchor" else "nearest": targets.names[j],
                    "distance_min_km": _km(d_lo[i]), "distance_max_km": _km(d_hi[i]),
                    "distance_km": _km(stand_in),
                    "distance_km_basis": "sites" if park.exact and target.exact else "stand-in points",
                    "target_located_to_zh": target.located_zh, "target_located_to_en": target.located_en}
                if name == "talent":
                    entry["nearest_distance_min_km"], entry["nearest_distance_max_km"] = _km(lo[i, j]), _km(hi[i, j])
                    if k != j and lo[i, k] < lo[i, j]:
                        entry["maybe_nearer"] = {"id": targets.ids[k], "name_zh": targets.names[k],
                                                 "distance_min_km": _km(lo[i, k]), "distance_max_km": _km(hi[i, k])}
                        extra[i]["talent_k"] = (targets.names[k], targets.places[k], lo[i, k], hi[i, k])
                facts[i][name] = entry
                extra[i][name] = (targets.names[j], target, lo[i, j], hi[i, j])
        if statuses is not None:
            exp["status"] = np.array([status_score(s) for s in statuses])
        else:
            exp["status"] = None
        low["status"] = high["status"] = exp["status"]

        applied = {k: v for k, v in exp.items() if v is not None and weights.get(k, 0) > 0}
        total_w = sum(weights[k] for k in applied)
        if total_w <= 0:
            raise ValidationError("no weighted criterion applies; give a weight > 0 to one of: "
                                  + ", ".join(k for k, v in exp.items() if v is not None), field="weights")

        def total(values: Mapping[str, np.ndarray | None]) -> np.ndarray:
            return sum(weights[k] * values[k] for k in applied) / total_w * 100.0  # type: ignore[operator]

        s_lo, s_hi = np.round(total(low), 2), np.round(total(high), 2)
        s_exp = np.clip(np.round(total(exp), 2), s_lo, s_hi)
        breakdown = []
        for i in range(n):
            out: dict[str, dict] = {}
            for k in ("theme", "corridor", "chain", "talent", "anchor", "status"):
                v = exp[k]
                entry = {"score": None if v is None else round(float(v[i]), 3),
                         "score_min": None if v is None else round(float(low[k][i]), 3),  # type: ignore[index]
                         "score_max": None if v is None else round(float(high[k][i]), 3),  # type: ignore[index]
                         "weight": weights.get(k, 0.0), "applied": k in applied}
                entry.update(facts[i].get(k, {}))
                out[k] = entry
            breakdown.append(out)
        return _Scored(s_exp, s_lo, s_hi, breakdown, extra)


# -- reasons --------------------------------------------------------------------------------------------
def distance_text(lo_m: float, hi_m: float, exact: bool) -> str:
    """A distance as the data supports it: ``3.2 km`` between two sites, else the interval rounded outward
    to whole km (``0–31 km``)."""
    if exact:
        return f"{lo_m / 1000.0:.1f} km"
    return f"{math.floor(lo_m / 1000.0)}–{max(math.ceil(hi_m / 1000.0), math.floor(lo_m / 1000.0) + 1)} km"


def located_note(park: Place, target: Place, target_name: str) -> tuple[str, str] | None:
    """How coarsely a park and a target are located ("两者均仅定位到区县" / "both located only to a district"),
    or None when both are sites."""
    if park.exact and target.exact:
        return None
    level = {p.precision: LEVEL_LABELS.get(p.precision, (p.precision, p.precision)) for p in (park, target)}
    if not park.exact and not target.exact and park.precision == target.precision:
        zh, en = level[park.precision]
        return f"两者均仅定位到{zh}", f"both located only to {en}"
    zh_parts, en_parts = [], []
    if not park.exact:
        zh_parts.append(f"园区仅定位到{level[park.precision][0]}")
        en_parts.append(f"the park located only to {level[park.precision][1]}")
    if not target.exact:
        zh_parts.append(f"{target_name}仅定位到{level[target.precision][0]}")
        en_parts.append(f"{target_name} located only to {level[target.precision][1]}")
    return "，".join(zh_parts), ", ".join(en_parts)


def _distance_phrase(park: Place, name: str, target: Place, lo: float, hi: float,
                     what_zh: str = "", what_en: str = "") -> tuple[str, str]:
    """"距{what}{name} 0–31 km（…）" and "within 0–31 km of {what} {name} (…)"; exact between two sites."""
    exact = park.exact and target.exact
    rng = distance_text(lo, hi, exact)
    note = located_note(park, target, name)
    zh = f"距{what_zh}{name} {rng}" + (f"（{note[0]}）" if note else "")
    of = f"{what_en} {name}".strip()
    en = (f"{rng} from {of}" if exact else f"within {rng} of {of}") + (f" ({note[1]})" if note else "")
    return zh, en


def _reason(ind: pd.Series, rec: Mapping[str, object], facts: Mapping[str, dict], extra: Mapping[str, object],
            layers: Mapping[str, gpd.GeoDataFrame]) -> tuple[str, str]:
    """A sentence in Chinese and one in English saying why the candidate scores as it does, never stating a
    distance more precisely than the data supports."""
    names = {r.id: (r.name_zh, r.name_en) for r in layers["corridors"].itertuples()}
    ind_themes = _themes(ind["themes"])
    c_themes = _corridor_themes(layers)
    park: Place = extra["park"]  # type: ignore[assignment]
    zh, en = [], []
    theme = facts["theme"]
    if theme.get("match") == "primary":
        zh.append(f"园区主题契合{ind['name_zh']}")
        en.append(f"park themes fit {ind['name_en'].lower()}")
    elif theme.get("match") == "related":
        shared = ", ".join(theme.get("shared", []))
        zh.append(f"园区与{ind['name_zh']}有相关主题（{shared}），但无其主要主题（{ind_themes[0]}）")
        en.append(f"park shares a related theme with {ind['name_en'].lower()} ({shared}), "
                  f"not its primary theme ({ind_themes[0]})")
    for key, zh_pre, en_pre in (("corridors", "在", "in the"), ("corridors_possible", "可能在", "possibly in the")):
        for c in facts["corridor"].get(key, []):
            s = theme_score(c_themes.get(c, []), ind_themes)
            if s and c in names:  # name only the belts whose theme fits the industry
                zh.append(f"{zh_pre}{names[c][0]}内" + ("（相关主题）" if s < 1 else ""))
                en.append(f"{en_pre} {names[c][1]}" + (" (a related theme)" if s < 1 else ""))
    ch = facts["chain"]
    if ch.get("neighbours"):
        labels = {"same": ("同环节", "same-link"), "upstream": ("上游", "upstream"),
                  "downstream": ("下游", "downstream"), "related": ("相关产业", "related")}
        sure = ch.get("neighbours_certain", {})

        def count(r: str) -> str:
            a, b = sure.get(r, 0), ch["neighbours"][r]
            return f"{a}" if a == b else f"{a}–{b}"

        coarse: list[str] = extra.get("chain_levels", [])  # type: ignore[assignment]
        levels = [LEVEL_LABELS.get(v, (v, v)) for v in coarse]
        ranged = ch["count_min"] != ch["count_max"] and levels
        zh.append(f"{ch['within_km']:g} km 内有 " + "、".join(f"{count(k)} 家{labels[k][0]}" for k in ch["neighbours"])
                  + "企业或项目" + (f"（仅定位到{'或'.join(z for z, _ in levels)}，数目为可能范围）" if ranged else ""))
        en.append(f"within {ch['within_km']:g} km: "
                  + ", ".join(f"{count(k)} {labels[k][1]}" for k in ch["neighbours"]) + " firms/projects"
                  + (f" (a range: located only to {' or '.join(e for _, e in levels)})" if ranged else ""))
    if "anchor" in extra:
        name, target, lo, hi = extra["anchor"]  # type: ignore[misc]
        z, e = _distance_phrase(park, name, target, lo, hi, "龙头项目", "the anchor project")
        zh.append(z)
        en.append(e)
    if "talent" in extra:
        name, target, lo, hi = extra["talent"]  # type: ignore[misc]
        z, e = _distance_phrase(park, name, target, lo, hi)
        if "talent_k" in extra:
            k_name, k_place, k_lo, k_hi = extra["talent_k"]  # type: ignore[misc]
            note = located_note(park, k_place, k_name)
            rng = distance_text(k_lo, k_hi, park.exact and k_place.exact)
            z += f"，{k_name}可能更近（{rng}" + (f"，{note[0]}" if note else "") + "）"
            e += f"; {k_name} may be nearer ({rng}" + (f", {note[1]}" if note else "") + ")"
        zh.append(z)
        en.append(e)
    status = rec.get("status")
    if status:
        zh.append(f"状态: {STATUS_LABELS.get(str(status), (status,))[0]}")
        en.append(f"status: {str(status).replace('_', ' ')}")
    if not park.exact:
        zh.append(f"园区{park.located_zh}")
        en.append(f"park {park.located_en}")
    return "；".join(zh), "; ".join(en)


# -- constraints ----------------------------------------------------------------------------------------
def _district_names(layers: Mapping[str, gpd.GeoDataFrame], codes: Sequence[str]) -> tuple[str, str]:
    """Districts (or cities) by name in Chinese and English, with their codes: "栾川县 Luanchuan County (410324)"."""
    d = layers["districts"]
    zh, en = [], []
    for code in codes:
        row = d[d["code"] == code]
        if len(row):
            n_zh, n_en = str(row["name_zh"].iloc[0]), str(row["name_en"].iloc[0])
        else:
            city = d[d["city_code"] == code]
            n_zh = str(city["city_zh"].iloc[0]) if len(city) and "city_zh" in city else code
            n_en = str(city["city_en"].iloc[0]) if len(city) and "city_en" in city else code
        zh.append(n_zh)
        en.append(f"{n_zh} {n_en} ({code})")
    return "、".join(zh), ", ".join(en)


def _corridor_names(layers: Mapping[str, gpd.GeoDataFrame], ids: Sequence[str]) -> tuple[str, str]:
    """Corridors by name in Chinese and English, with their ids."""
    c = layers["corridors"].set_index("id")
    zh = [str(c.loc[i, "name_zh"]) if i in c.index else i for i in ids]
    en = [f"{c.loc[i, 'name_zh']} {c.loc[i, 'name_en']} ({i})" if i in c.index else i for i in ids]
    return "、".join(zh), ", ".join(en)


def _apply_constraints(layers, engine: QueryEngine, parks: gpd.GeoDataFrame, joined_parks: gpd.GeoDataFrame,
                       c: Constraints) -> tuple[gpd.GeoDataFrame, list[dict[str, object]], tuple[str, str] | None,
                                            dict[str, str]]:
    """Filter candidate parks by the hard constraints; report what each constraint left (in Chinese and English),
    why nothing is left if so, and each park's certainty of lying within ``within_km``."""
    steps: list[dict[str, object]] = []
    keep = parks
    empty_because: tuple[str, str] | None = None
    certainty: dict[str, str] = {}

    def step(name: str, mask: pd.Series, detail: str, detail_zh: str, **more: object) -> None:
        nonlocal keep, empty_because
        before = len(keep)
        keep = keep[mask.reindex(keep.index, fill_value=False).to_numpy()]
        steps.append({"constraint": name, "detail": detail, "detail_zh": detail_zh, "before": before,
                      "after": len(keep), **more})
        if before and not len(keep) and empty_because is None:
            empty_because = (f"{CONSTRAINT_LABELS.get(name, name)}（{detail_zh}）排除了剩余的全部 {before} 个园区",
                             f"{name} ({detail}) excluded all {before} remaining parks")

    if c.within_km is not None:
        target = {"feature": c.of_feature} if c.of_feature else {"lon": c.lon, "lat": c.lat, "system": c.system}
        if not c.of_feature and (c.lon is None or c.lat is None):
            raise ValidationError("within_km needs a feature (of) or lon and lat", field="within_km")
        near = engine.near(radius_km=c.within_km, layer="parks", **target)
        certainty = dict(zip(near.features["id"], near.features["certainty"]))
        if c.of_feature:
            certainty[c.of_feature] = possible.CERTAIN  # a park is 0 km from itself
            _, row = engine.feature(c.of_feature)
            where, where_zh = f"{row.get('name_zh')} {row.get('name_en')} ({c.of_feature})", str(row.get("name_zh"))
        else:
            where = where_zh = f"({c.lon}, {c.lat}) {c.system}"
        inside = parks["id"].isin(list(certainty))
        maybe = int(sum(certainty.get(i) == possible.POSSIBLE for i in keep["id"]))
        step("within_km", inside,
             f"within {c.within_km:g} km of {where}" + (f"; {maybe} only possibly" if maybe else ""),
             f"距{where_zh} {c.within_km:g} km 内" + (f"，其中 {maybe} 个仅可能在内" if maybe else ""), possible=maybe)
    if c.districts:
        zh, en = _district_names(layers, c.districts)
        step("district", _in_districts(layers, parks, joined_parks, c.districts), f"in {en}", f"在{zh}内")
    if c.exclude_districts:
        zh, en = _district_names(layers, c.exclude_districts)
        step("exclude_district", ~_in_districts(layers, parks, joined_parks, c.exclude_districts),
             f"not in {en}", f"不在{zh}内")
    if c.corridors:
        known = set(layers["corridors"]["id"])
        for cid in c.corridors:
            if cid not in known:
                raise ValidationError(f"unknown corridor {cid!r}; expected one of: {', '.join(sorted(known))}",
                                      field="corridor")
        members: set[str] = set()
        maybe_ids: set[str] = set()
        for cid in c.corridors:
            members |= set(analysis.corridor_members(joined_parks, cid)["id"])
            if "belt_ids_possible" in joined_parks:
                maybe_ids |= set(analysis.corridor_members(joined_parks, cid, possible=True)["id"])
        maybe = len((maybe_ids - members) & set(keep["id"]))
        zh, en = _corridor_names(layers, c.corridors)
        step("corridor", parks["id"].isin(members),
             f"in {en}: named in the plan or certainly in the belt"
             + (f"; {maybe} more only possibly" if maybe else ""),
             f"在{zh}内：规划点名或确定在带内" + (f"，另有 {maybe} 个仅可能在内" if maybe else ""), possible=maybe)
    if c.min_status:
        if c.min_status not in STATUS_SCORES:
            raise ValidationError(f"unknown status {c.min_status!r}; expected one of: {', '.join(STATUS_SCORES)}",
                                  field="min_status")
        floor = STATUS_SCORES[c.min_status]
        step("min_status", parks["status"].map(status_score) >= floor, f"status at least {c.min_status}",
             f"状态不低于{STATUS_LABELS.get(c.min_status, (c.min_status,))[0]}")
    return keep, steps, empty_because, certainty


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


def _ties(ranked: pd.DataFrame) -> tuple[list[list[str]], list[int]]:
    """For rows in rank order: the ids each ties with (equal expected score and range) and the shared rank."""
    key = list(zip(*(ranked[c].round(TIE_DECIMALS) for c in ("score", "score_min", "score_max"))))
    ids = list(ranked["id"])
    groups: dict[tuple, list[int]] = {}
    for i, k in enumerate(key):
        groups.setdefault(k, []).append(i)
    tied = [[ids[j] for j in groups[k] if j != i] for i, k in enumerate(key)]
    return tied, [groups[k][0] + 1 for k in key]


def rank_parks(layers: Mapping[str, gpd.GeoDataFrame], *, industry_id: str, top: int | None = None,
               weights: Mapping[str, float] | str | None = None, constraints: Constraints | None = None,
               chain_km: float = CHAIN_KM, engine: QueryEngine | None = None,
               joined: Mapping[str, gpd.GeoDataFrame] | None = None,
               belts: gpd.GeoDataFrame | None = None) -> SiteResult:
    """Rank the parks for an industry (expected scores 0–100 with their range, breakdown, ties and bilingual
    reasons), WGS84.

    ``joined`` (``geo.analysis.joined``, as a ``Dataset`` holds it) carries the configured belts' certain and
    possible members, and ``belts`` their polygons (``Dataset.belts``, for the expectation of possible
    members); without them the default belt width is used."""
    ind = industry(industry_id)
    w = parse_weights(weights) if not isinstance(weights, Mapping) else parse_weights(dict(weights))
    if top is not None and (not isinstance(top, int) or top < 1):
        raise ValidationError(f"top must be a whole number >= 1, got {top!r}", field="top")
    if not (0 < chain_km <= 100):
        raise ValidationError(f"chain_km must be in (0, 100], got {chain_km!r}", field="chain_km")
    engine = engine or QueryEngine(layers)
    parks = layers["parks"]
    joined = (joined or analysis.joined(layers))["parks"]
    candidates, steps, empty_because, certainty = _apply_constraints(layers, engine, parks, joined,
                                                                     constraints or Constraints())
    info = {"id": ind["id"], "name_zh": ind["name_zh"], "name_en": ind["name_en"], "themes": _themes(ind["themes"])}
    if candidates.empty:
        empty = gpd.GeoDataFrame({"id": [], "rank": [], "score": [], "score_min": [], "score_max": []},
                                 geometry=[], crs=crs.WGS84)
        zh, en = empty_because or ("库中没有园区", "there are no parks in the store")
        return SiteResult(info, w, empty, steps, f"{zh} · {en}", zh, en)
    j = joined.set_index("id").loc[candidates["id"]]

    def ids(value: object) -> list[str]:
        return [b for b in str(value or "").split(";") if b and b != "nan"]

    certain = [sorted({*ids(r.belt_ids), *([r.plan_corridor_id] if isinstance(r.plan_corridor_id, str) else [])})
               for r in j.itertuples()]
    maybe = [sorted(set(ids(getattr(r, "belt_ids_possible", ""))) - set(cs)) for r, cs in zip(j.itertuples(), certain)]
    places = [Place.of(engine, "parks", pid) for pid in candidates["id"]]
    scorer = _Scorer(layers, ind, engine, chain_km, belts)
    scored = scorer.score(places, [p.key for p in places], [_themes(t) for t in candidates["themes"]],
                          list(candidates["status"]), certain, maybe, w)
    out = candidates[["id", "name_zh", "name_en", "kind", "status", "district_code", "location_precision",
                      "themes", "geometry"]].copy()
    out["score"] = scored.score
    out["score_min"] = scored.score_min
    out["score_max"] = scored.score_max
    out["breakdown"] = scored.breakdown
    out["located_to_zh"] = [p.located_zh for p in places]
    out["located_to_en"] = [p.located_en for p in places]
    if certainty:
        out["within_certainty"] = [certainty.get(i, possible.POSSIBLE) for i in out["id"]]
    out["theme_score"] = [b["theme"]["score"] for b in scored.breakdown]
    out["status_rank"] = out["status"].map(status_score)
    reasons = [_reason(ind, rec, facts, extra, layers)
               for rec, facts, extra in zip(out.to_dict("records"), scored.breakdown, scored.extra)]
    out["reason_zh"], out["reason_en"] = [r[0] for r in reasons], [r[1] for r in reasons]
    out = out.sort_values(["score", "theme_score", "status_rank", "id"], ascending=[False, False, False, True],
                          kind="stable").drop(columns=["theme_score", "status_rank"])
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    out["tied_with"], out["tie_rank"] = _ties(out)
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
                        chain_km: float = CHAIN_KM, belts: gpd.GeoDataFrame | None = None,
                        engine: QueryEngine | None = None) -> gpd.GeoDataFrame:
    """Hexagons over the metro area (WGS84) scored like parks, without the park-only criteria (theme, status):
    the expected score at the centre (a site) and its range over where the targets may lie.

    ``belts`` are the corridor belts of the configured width (default width without them)."""
    ind = industry(industry_id)
    w = parse_weights(weights) if not isinstance(weights, Mapping) else parse_weights(dict(weights))
    if not (1 <= spacing_km <= 50):
        raise ValidationError(f"spacing_km must be in [1, 50], got {spacing_km!r}", field="spacing_km")
    area = shapely.union_all(layers["districts"].geometry.values)
    grid = hex_grid(area, spacing_km)
    centres = gpd.GeoDataFrame(geometry=grid["centre"].values, crs=crs.WGS84)
    belts = belts if belts is not None else analysis.corridor_belts(layers["corridors"])
    certain_belts, _ = analysis.belts_of(centres, belts)  # a centre is a point: certainly in a belt or not
    corridor_ids = [[b for b in s.split(";") if b] for s in certain_belts]
    places = [Place.site(float(p.x), float(p.y)) for p in centres.geometry.values]
    scorer = _Scorer(layers, ind, engine or QueryEngine(layers), chain_km, belts)
    scored = scorer.score(places, [p.key for p in places], None, None, corridor_ids, [[] for _ in places], w)
    return gpd.GeoDataFrame({"cell": grid["cell"], "score": scored.score, "score_min": scored.score_min,
                             "score_max": scored.score_max, "corridors": [";".join(c) for c in corridor_ids]},
                            geometry=grid.geometry.values, crs=crs.WGS84)
