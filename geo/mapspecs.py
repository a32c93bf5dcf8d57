"""Spec builders for static maps, one per export kind (all inputs WGS84; drawn by :mod:`geo.render`).

:func:`metro_map` (the whole metro area, optionally with the web map's filters and visible layers),
:func:`corridor_map`, :func:`near_map` (a buffer query), :func:`ranking_map` (any ranked GeoDataFrame with
``id, name_zh, name_en, score, rank, geometry``).

Each spec names the sources its drawn features cite (:func:`cite`: the register rows of the ``source_id``
of every mark, corridor axis and belt drawn), which the map's footer shows by title, kind and date.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.ops

from geo import analysis, citations, crs, style
from geo.errors import ValidationError
from geo.query import id_column
from geo.render import POINT_LAYERS, VISIBLE_DEFAULT, MapSpec, Table, geom_metric
from geo.schema import REGISTER_LAYER
from geo.store import is_spatial


# -- spec builders (one per export kind; all WGS84) ------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _chain_links() -> frozenset[str]:
    """The link ids of the battery chain (``data/chains/new_energy.csv``), read once."""
    from geo import chain

    return frozenset(chain.read_chain()["link_id"])


def point_marks(gdf: gpd.GeoDataFrame, layer: str, role: str = "feature", labels: Iterable[str] | None = None,
                order_start: int = 0) -> gpd.GeoDataFrame:
    """Marks of a point layer's rows (WGS84): layer, status, chain ring, label, names, role, ring order."""
    n = len(gdf)
    links = gdf["chain_link"] if "chain_link" in gdf else pd.Series([None] * n, index=gdf.index)
    out = gpd.GeoDataFrame({
        "id": gdf["id"].to_numpy() if "id" in gdf else np.arange(n),
        "layer": layer,
        "status": gdf["status"].to_numpy() if "status" in gdf else np.array([None] * n, dtype=object),
        "chain": links.isin(_chain_links()).to_numpy(),
        "label": list(labels) if labels is not None else [""] * n,
        "name_zh": gdf["name_zh"].to_numpy() if "name_zh" in gdf else np.array([None] * n, dtype=object),
        "name_en": gdf["name_en"].to_numpy() if "name_en" in gdf else np.array([None] * n, dtype=object),
        "role": role,
        "order": np.arange(order_start, order_start + n),
    }, geometry=gdf.geometry.to_numpy(), crs=crs.WGS84)
    return out


def _concat_marks(parts: Sequence[gpd.GeoDataFrame]) -> gpd.GeoDataFrame | None:
    """The non-empty mark frames as one (WGS84), or None."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return None
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=crs.WGS84)


#: Layers whose records cite a source of the register by ``source_id``, looked up by the ids drawn.
CITING_LAYERS: tuple[str, ...] = ("corridors", *POINT_LAYERS)


def cite(spec: MapSpec, layers: Mapping[str, Any], within: Sequence[float] | None = None) -> MapSpec:
    """Set ``spec.sources``: the register rows cited by what the map draws (marks, corridor axes, belts), only
    what reaches into the WGS84 box ``within`` when given (a view)."""
    drawn: set[object] = set()
    box = shapely.box(*within) if within is not None else None
    for frame in (spec.marks, spec.corridors, spec.faint_corridors, spec.belts):
        if frame is not None and "id" in frame:
            drawn.update(frame["id"] if box is None else frame["id"][frame.intersects(box)])
    source_of: dict[object, object] = {}
    for name in CITING_LAYERS:
        gdf = layers.get(name)
        if gdf is not None and "source_id" in gdf:
            source_of.update(zip(gdf["id"], gdf["source_id"]))
    register = layers.get(REGISTER_LAYER)
    if register is not None and not is_spatial(register):
        spec.sources = citations.cited(register, (source_of.get(i) for i in drawn))
    return spec


def _belts(layers: Mapping[str, gpd.GeoDataFrame], belts: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    """The given belts, or the corridors buffered by the configured belt width (WGS84)."""
    return belts if belts is not None else analysis.corridor_belts(layers["corridors"])


def metro_map(layers: Mapping[str, gpd.GeoDataFrame], *, belts: gpd.GeoDataFrame | None = None,
              filters: Any = None, joined: Mapping[str, gpd.GeoDataFrame] | None = None,
              visible: Iterable[str] | None = None,
              extent: tuple[float, float, float, float] | None = None) -> MapSpec:
    """The whole metro area, or the web map's view: ``filters`` (geo.filters.Filters), ``visible`` layers and,
    when given, the WGS84 box ``extent`` shown (the subtitle then counts what lies inside it)."""
    from geo import filters as flt

    shown = set(VISIBLE_DEFAULT if visible is None else visible)
    unknown = shown - set(VISIBLE_DEFAULT)
    if unknown:
        raise ValidationError(f"unknown layer {min(unknown)!r}; expected one of: {', '.join(VISIBLE_DEFAULT)}",
                              field="layers")
    f = filters if filters is not None else flt.Filters()
    filtered = not f.is_empty()
    if filtered and f.corridor and joined is None:
        joined = analysis.joined(layers)

    def rows(name: str) -> gpd.GeoDataFrame:
        return flt.apply(name, layers, f, joined) if filtered else layers[name]

    belt = _belts(layers, belts)
    corridors = rows("corridors")
    marks = _concat_marks([point_marks(rows(n), n) for n in POINT_LAYERS if n in shown])
    spec = MapSpec("洛阳都市圈产业走廊", "Industrial corridors of the Luoyang metropolitan area", kind="metro",
                   districts=layers["districts"],
                   belts=belt[belt["id"].isin(corridors["id"])] if "belts" in shown else None,
                   corridors=corridors if "corridors" in shown else None, marks=marks, pad=0.02)
    if extent is None:
        counts = {n: len(rows(n)) for n in POINT_LAYERS if n in shown}
        spec.subtitle = " · ".join(f"{style.LAYER_LABELS[n][0]} {c}" for n, c in counts.items())
    else:
        box = shapely.box(*extent)
        counts = {n: int(rows(n).intersects(box).sum()) for n in POINT_LAYERS if n in shown}
        spec.subtitle = "视图内 in view: " + " · ".join(f"{style.LAYER_LABELS[n][0]} {c}" for n, c in counts.items())
        spec.extent, spec.pad, spec.min_extent_km = tuple(extent), 0.0, 1.0
    if filtered:
        spec.title_zh, spec.title_en, spec.kind = "洛阳都市圈产业走廊 · 筛选", "Luoyang industrial corridors, filtered", "filtered"
        spec.subtitle = "筛选 Filters: " + "; ".join(f"{k}={v}" for k, v in f.as_params().items()) + " · " + spec.subtitle
        if f.district:
            d = layers["districts"]
            chosen = d[d["code"].isin(f.district) | d["city_code"].isin(f.district)]
            if extent is None:
                spec.extent, spec.pad = tuple(chosen.total_bounds), 0.15
            spec.focus = shapely.union_all(chosen.geometry.values)
    return cite(spec, layers, within=extent)


def corridor_map(layers: Mapping[str, gpd.GeoDataFrame], corridor_id: str, *, belts: gpd.GeoDataFrame | None = None,
                 joined: Mapping[str, gpd.GeoDataFrame] | None = None) -> MapSpec:
    """One corridor: its axis, belt, the parks and projects named in its plan or inside its belt (numbered)."""
    row = analysis.corridor(layers, corridor_id)
    belt_all = _belts(layers, belts)
    belt = belt_all[belt_all["id"] == corridor_id]
    j = joined if joined is not None else analysis.joined(layers)
    members = {n: analysis.corridor_members(j[n], corridor_id) for n in ("parks", "projects")}
    table_rows, parts, n = [], [], 0
    membership = {"named": "规划", "belt": "带内", "named+belt": "规划+带内"}
    for name in ("parks", "projects"):
        got = members[name]
        labels = [str(n + i + 1) for i in range(len(got))]
        parts.append(point_marks(got, name, labels=labels, order_start=n))
        for i, r in enumerate(got.itertuples()):
            table_rows.append({"n": n + i + 1, "name_zh": r.name_zh, "name_en": r.name_en,
                               "layer": style.TABLE_LAYER_LABELS[name],
                               "status": style.STATUS_LABELS.get(r.status, (r.status,))[0],
                               "membership": membership.get(r.membership, r.membership)})
        n += len(got)
        rest = layers[name][~layers[name]["id"].isin(got["id"])]
        parts.append(point_marks(rest, name, role="context", order_start=10_000))
    km = float(belt["belt_km"].iloc[0]) if len(belt) else None
    target = row.get("investment_target_2021_cny_100m")
    subtitle = [f"主题 {row.get('theme_zh')}"]
    if target is not None and pd.notna(target):
        subtitle.append(f"2021 年投资目标 target {float(target):g} 亿元")
    subtitle.append(f"园区 parks {len(members['parks'])} · 项目 projects {len(members['projects'])}")
    if km:
        subtitle.append(f"产业带 belt ±{km:g} km")
    cols = [("n", "#"), ("name_zh", "名称"), ("name_en", "Name"), ("layer", "类别"), ("status", "状态"),
            ("membership", "归属")]
    notes = ["归属：规划 = 产业带规划点名；带内 = 位于产业带范围内 · membership: named in the plan, or inside the belt"]
    return cite(MapSpec(str(row["name_zh"]), str(row["name_en"]), " · ".join(subtitle), kind="corridor", notes=notes,
                   districts=layers["districts"], belts=belt, corridors=layers["corridors"][layers["corridors"]["id"] == corridor_id],
                   faint_corridors=layers["corridors"][layers["corridors"]["id"] != corridor_id],
                   marks=_concat_marks(parts),
                   table=Table("产业带园区与项目 Parks and projects of the corridor", cols, table_rows, ("n",)),
                   extent=tuple(belt.total_bounds) if len(belt) else tuple(layers["corridors"][layers["corridors"]["id"] == corridor_id].total_bounds),
                   pad=0.04, min_extent_km=30), layers)


def _anchor(geom: shapely.Geometry, query: shapely.Geometry | None, reach_m: float = 0.0) -> shapely.Point:
    """Where a number goes on a non-point feature (WGS84 in and out): on a line, the point ``reach_m`` from
    its point nearest the query, away from the query (clear of the symbols there); else its nearest point."""
    if geom.geom_type == "Point":
        return geom
    if query is None:
        return geom.representative_point()
    g, q = geom_metric(geom), geom_metric(query)
    near = shapely.ops.nearest_points(g, q)[0]
    if reach_m > 0 and g.geom_type in ("LineString", "MultiLineString"):
        ring = near.buffer(reach_m, quad_segs=16).boundary
        hits = [p for p in getattr(shapely.intersection(g, ring), "geoms", [shapely.intersection(g, ring)])
                if p.geom_type == "Point" and not p.is_empty]
        if hits:
            near = max(hits, key=lambda p: p.distance(q))
    return gpd.GeoSeries([near], crs=crs.METRIC_CRS).to_crs(crs.WGS84).iloc[0]


def _km_text(value: float, decimals: int, how: str) -> str:
    """A distance (km) with ``decimals`` decimals, rounded ``down``, ``up`` or to nearest, without trailing zeros."""
    step = 10.0 ** decimals
    v = math.floor(value * step + 1e-9) / step if how == "down" else (
        math.ceil(value * step - 1e-9) / step if how == "up" else round(value, decimals))
    text = f"{v:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def interval_km(lo: float, hi: float) -> str:
    """The distance interval of a hit as text (``0–31``, ``8.5–43``; km): the nearest possible distance rounded
    down and the farthest rounded up (so the text holds the true interval), to 2 decimals under 1 km, 1 under
    10 km, whole km beyond; one figure (2 decimals) when the two are equal (an exact site)."""
    lo, hi = float(lo), float(hi)
    if lo == hi:
        return _km_text(lo, 2, "nearest")
    decimals = 0 if hi >= 10 else 1 if hi >= 1 else 2
    while decimals < 3 and _km_text(lo, decimals, "down") == _km_text(hi, decimals, "up"):
        decimals += 1
    return f"{_km_text(lo, decimals, 'down')}–{_km_text(hi, decimals, 'up')}"


def near_map(layers: Mapping[str, gpd.GeoDataFrame], result: Any, *,
             query_area: shapely.Geometry | None = None) -> MapSpec:
    """A buffer query (geo.query.NearResult): the buffer, the query, its features numbered 1..n with a table of
    their certainty and distance interval; certain hits drawn solid, possible ones hollow. ``query_area``: where
    the query feature may lie (geo.query.QueryEngine.possible_area), drawn in place of its point."""
    q = dict(result.query)
    feats = result.features.reset_index(drop=True)
    radius = float(q.get("radius_km") or 0)
    query_geom, where_zh, where_en = None, "", ""
    if q.get("feature"):
        fid = str(q["feature"])
        layer = str(q.get("feature_layer") or "")
        gdf = layers.get(layer)
        hit = gdf[gdf[id_column(gdf)] == fid] if gdf is not None else None
        if hit is not None and len(hit):
            query_geom = hit.geometry.iloc[0]
            where_zh, where_en = str(hit["name_zh"].iloc[0]), str(hit["name_en"].iloc[0])
            if query_area is not None and not query_area.is_empty and query_area.geom_type != "Point":
                query_geom = query_area  # a stand-in: the query starts from where the feature may lie
        else:
            where_zh = where_en = fid
    elif q.get("polygon"):
        query_geom = shapely.from_geojson(str(q["polygon"]))
        where_zh, where_en = "所绘范围", "the drawn area"
    else:
        query_geom = shapely.Point(float(q["lon"]), float(q["lat"]))
        where_zh = where_en = f"({float(q['lon']):.4f}, {float(q['lat']):.4f}) WGS84"
    ids = set(feats["id"]) if len(feats) else set()
    parts, rows = [], []
    for i, r in enumerate(feats.itertuples()):
        layer = r.layer if r.layer in POINT_LAYERS and r.geometry.geom_type == "Point" else "anchor"
        geom = _anchor(r.geometry, query_geom, reach_m=radius * 1000.0 * 0.45)
        one = gpd.GeoDataFrame({"id": [r.id], "status": [getattr(r, "status", None)],
                                "chain_link": [getattr(r, "chain_link", None)]}, geometry=[geom], crs=crs.WGS84)
        certainty = str(getattr(r, "certainty", None) or "certain")
        lo = float(getattr(r, "distance_min_km", r.distance_km))
        hi = float(getattr(r, "distance_max_km", r.distance_km))
        parts.append(point_marks(one, layer, labels=[str(i + 1)], order_start=i).assign(certainty=certainty))
        rows.append({"n": i + 1, "name_zh": r.name_zh, "name_en": r.name_en,
                     "layer": style.TABLE_LAYER_LABELS.get(r.layer, r.layer),
                     "certainty": style.TABLE_CERTAINTY_LABELS.get(certainty, certainty),
                     "interval": interval_km(lo, hi), "distance_km": round(float(r.distance_km), 2),
                     "distance_min_km": round(lo, 2), "distance_max_km": round(hi, 2)})
    for name in POINT_LAYERS:
        rest = layers[name][~layers[name]["id"].isin(ids)]
        parts.append(point_marks(rest, name, role="context", order_start=10_000))
    summary = getattr(result, "summary", {}) or {}
    invest = summary.get("investment_cny_100m")
    sub = [f"{len(feats)} 个要素 features (geodesic distances)"]
    if "certainty" in feats:
        certain = int(feats["certainty"].eq("certain").sum())
        sub.append(f"确定 {certain} certain · 可能 {len(feats) - certain} possible")
    if q.get("certain_only"):
        sub.append("仅确定 certain only")
    about = "约 about " if summary.get("investment_cny_100m_qualifier") else ""
    sub.append(f"项目投资 investment {about}{invest:g} 亿元" if invest is not None else "项目投资 investment unknown")
    if q.get("input_crs") and q.get("input_crs") != "wgs84":
        sub.append(f"输入坐标 input {str(q['input_crs']).upper()} → WGS84")
    cols = [("n", "#"), ("name_zh", "名称 name_zh"), ("name_en", "name_en"), ("layer", "类别 layer"),
            ("certainty", "确定性"), ("interval", "距离 km")]
    notes = [("距离：最近–最远可能距离 · distance: nearest–farthest possible (km); 可能 possible: 仅部分可能位置在内 "
              "only part of where it may lie is within (e.g. located to a county only)")]
    in_corridors = layers["corridors"]
    spec = MapSpec(f"周边 {radius:g} 公里查询 · {where_zh}", f"Everything within {radius:g} km of {where_en}",
                   " · ".join(sub), kind="near", districts=layers["districts"], corridors=in_corridors,
                   buffer=result.buffer, buffer_km=radius, query=query_geom, marks=_concat_marks(parts),
                   table=Table("查询结果 Query result", cols, rows, ("n", "interval"), len(rows)), notes=notes,
                   extent=tuple(shapely.bounds(result.buffer)), pad=0.04, min_extent_km=5, label_corridors=False)
    return cite(spec, layers)


#: The ranking table's column of the score range: a fixed-width column of geo.render's table (36 pt).
_RANGE_KEY = "membership"


def _ranking_ties(r: pd.DataFrame) -> list[str]:
    """The ties among the shown rows of a ranking ("#5 = #6"), from its ``tied_with`` ids (and those not shown)."""
    if "tied_with" not in r or not len(r):
        return []
    rank_of = dict(zip(r["id"], r["rank"].astype(int)))
    seen: set[str] = set()
    out = []
    for v in r.itertuples():
        tied = [t for t in (v.tied_with if isinstance(v.tied_with, (list, tuple)) else []) if t != v.id]
        if not tied or v.id in seen:
            continue
        group = [v.id, *(t for t in tied if t in rank_of)]
        seen.update(group)
        hidden = len(tied) - (len(group) - 1)
        out.append(" = ".join(f"#{rank_of[g]}" for g in sorted(group, key=rank_of.get))
                   + (f" (+{hidden} 未列出 not listed)" if hidden else ""))
    return out


def ranking_map(layers: Mapping[str, gpd.GeoDataFrame], ranked: gpd.GeoDataFrame, *,
                subject: tuple[str, str] | None = None, surface: gpd.GeoDataFrame | None = None,
                top: int | None = None, empty_because: str | None = None) -> MapSpec:
    """A ranking (columns id, name_zh, name_en, score 0–100, rank, geometry; optional score_min, score_max and
    tied_with, as geo.siting gives them; WGS84): numbered candidates coloured by (expected) score, a table with
    the score range, and a note naming the ties.

    An empty ranking (constraints that exclude every park) is a map of the metro area saying so
    (``empty_because``, as geo.siting gives it)."""
    columns = ("id", "name_zh", "name_en", "score", "rank", "geometry")
    if ranked.empty:
        ranked = gpd.GeoDataFrame({c: pd.Series([], dtype=object) for c in columns[:-1]}, geometry=[],
                                  crs=crs.WGS84)
    missing = [c for c in columns if c not in ranked.columns]
    if missing:
        raise ValidationError(f"a ranking needs the columns id, name_zh, name_en, score, rank, geometry; "
                              f"missing: {', '.join(missing)}", field="ranking")
    r = ranked.sort_values("rank", kind="stable").reset_index(drop=True)
    if top is not None:
        r = r.head(top)
    if r.crs is not None and not r.crs.equals(crs.WGS84):
        r = r.to_crs(crs.WGS84)
    geoms = [g if g.geom_type == "Point" else g.representative_point() for g in r.geometry]
    layer = r["layer"] if "layer" in r else pd.Series(["parks"] * len(r))
    marks = gpd.GeoDataFrame({"id": r["id"], "layer": [v if v in POINT_LAYERS else "parks" for v in layer],
                              "status": r.get("status"), "chain": False,
                              "label": [str(int(v)) for v in r["rank"]], "role": "score",
                              "score": r["score"].astype(float), "order": r["rank"].astype(int)},
                             geometry=geoms, crs=crs.WGS84)
    ranked_ids = set(r["id"])
    context = point_marks(layers["parks"][~layers["parks"]["id"].isin(ranked_ids)], "parks", role="context",
                          order_start=10_000)
    zh, en = subject or ("", "")
    ranged = "score_min" in r and "score_max" in r
    rows = [{"rank": int(v.rank), "name_zh": v.name_zh, "name_en": v.name_en, "score": round(float(v.score), 1)}
            for v in r.itertuples()]
    cols = [("rank", "#"), ("name_zh", "名称 name_zh"), ("name_en", "name_en"), ("score", "得分 score")]
    notes = []
    if ranged:
        for row, lo, hi in zip(rows, r["score_min"], r["score_max"]):
            lo_text, hi_text = f"{np.floor(float(lo)):.0f}", f"{np.ceil(float(hi)):.0f}"  # rounded outward
            row[_RANGE_KEY] = lo_text if lo_text == hi_text else f"{lo_text}–{hi_text}"
        cols.append((_RANGE_KEY, "范围 range"))
        notes.append("得分为期望值（位置在可能范围内随机抽取的平均），范围为可能的最低–最高分 · score: expected "
                     "over where parks and targets may lie (most are located only to a district or the city); "
                     "range: lowest–highest")
    ties = _ranking_ties(r)
    if ties:
        notes.append("并列（定位精度下无法区分）ties (indistinguishable at their precision): " + "; ".join(ties))
    bounds = shapely.bounds(shapely.union_all(geoms)) if geoms else layers["districts"].total_bounds
    kind_of_score = "expected, weighted overlay" if ranged else "weighted overlay"
    subtitle = f"{len(r)} 个候选 candidates · 得分 score 0–100 ({kind_of_score})"
    if not len(r):
        subtitle += f" · 无候选 none: {empty_because or 'no park meets the constraints'}"
    return cite(MapSpec(f"选址排序{' · ' + zh if zh else ''}", f"Site ranking{': ' + en if en else ''}", subtitle,
                   kind="ranking",
                   districts=layers["districts"], corridors=layers["corridors"], surface=surface,
                   marks=_concat_marks([context, marks]),
                   table=Table("排序 Ranking", cols, rows, ("rank", "score", _RANGE_KEY), len(r)), notes=notes,
                   extent=tuple(bounds), pad=0.12, min_extent_km=40, label_corridors=True), layers)


__all__ = ["cite", "corridor_map", "metro_map", "near_map", "point_marks", "ranking_map"]
