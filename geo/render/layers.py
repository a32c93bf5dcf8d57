"""What a map canvas shows, drawn in UTM 49N (EPSG:32649) from the spec's WGS84 layers: the districts as the
offline base, the graticule, the overlays (suitability surface, belts, buffer, corridor axes, query geometry)
and the point marks (fanned out where they would overlap, numbered as the table numbers them).

A layer with more than :data:`DENSITY_FROM` marks (a register of a million projects) is drawn as a density grid
instead, with the overlays (over the districts, under the belts and axes): hexagons about :data:`DENSITY_CELL_PT`
points wide coloured by how many of its features each holds, in classes split at round numbers (1, 2, 5, 10 …),
with a legend row per class that says so and gives the layer's total; a million overlapping symbols would say
nothing (and take minutes to fan out and draw). Those marks never reach the :class:`MarkSet`, so numbering, fanning out and the inset see
only the symbols.

Each layer adds to the legend only what falls inside the canvas's frame, so the legend lists what is drawn.
The inset canvas passes no legend.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import crs, style
from geo.render import labels
from geo.render.artists import add_lines, add_polygons, score_cmap
from geo.render.canvas import MapCanvas, Stage
from geo.render.geometry import geom_metric, line_parts, simplify_coverage, spread
from geo.render.panels import Legend
from geo.render.spec import POINT_LAYERS, MapSpec

# -- marks -------------------------------------------------------------------------------------------------
#: Above this many marks of one point layer, the layer is drawn as a density grid, not one symbol per feature.
DENSITY_FROM = 5_000
#: Width of a density hexagon on the page (points): about 3 mm.
DENSITY_CELL_PT = 9.0
#: Colours of the density classes per layer, light (fewest) to dark, in the layer's hue.
DENSITY_COLORS: dict[str, list[str]] = {
    "projects": ["#fcbba1", "#fb6a4a", "#de2d26", "#a50f15", "#67000d"],
    "parks": ["#dadaeb", "#bcbddc", "#9e9ac8", "#756bb1", "#54278f"],
    "institutions": ["#c6dbef", "#9ecae1", "#6baed6", "#3182bd", "#08519c"],
}


@dataclass
class MarkSet:
    """The spec's marks in UTM 49N with defaults filled (``m``), their coordinates (``xy``, metres) and symbol
    sizes (``size``, points)."""

    m: gpd.GeoDataFrame
    xy: np.ndarray
    size: np.ndarray

    def subset(self, keep: np.ndarray) -> MarkSet:
        """The marks where ``keep`` is true."""
        return MarkSet(self.m[keep].reset_index(drop=True), self.xy[keep], self.size[keep])

    @property
    def symbol(self) -> np.ndarray:
        """Which marks have a symbol (an ``anchor`` is a number only)."""
        return self.m["layer"].ne("anchor").to_numpy()


def dense_layers(marks: gpd.GeoDataFrame | None) -> dict[str, np.ndarray]:
    """Which rows of the spec's marks are drawn as a density grid: per point layer with more than DENSITY_FROM
    plain marks (features or context; not scores or anchors), a boolean mask over ``marks``."""
    if marks is None or len(marks) <= DENSITY_FROM:
        return {}
    role = marks["role"] if "role" in marks else pd.Series("feature", index=marks.index)
    plain = role.isin(["feature", "context"]).to_numpy()
    out = {}
    for layer in POINT_LAYERS:
        sel = plain & marks["layer"].eq(layer).to_numpy()
        if sel.sum() > DENSITY_FROM:
            out[layer] = sel
    return out


def marks_metric(spec: MapSpec, k: float) -> MarkSet | None:
    """The spec's marks in UTM 49N, or None when it has none."""
    marks = spec.marks
    dense = dense_layers(marks)
    if dense:  # drawn as density grids by draw_overlays
        marks = marks[~np.logical_or.reduce(list(dense.values()))]
    if marks is None or marks.empty:
        return None
    m = marks.to_crs(crs.METRIC_CRS).reset_index(drop=True)
    for col, default in (("status", None), ("chain", False), ("label", ""), ("role", "feature"), ("score", np.nan),
                         ("certainty", None), ("name_zh", None), ("name_en", None)):
        if col not in m:
            m[col] = default
    m["chain"] = m["chain"].fillna(False).astype(bool) & m["role"].ne("context")
    size = np.array([style.LAYER_MARKER_PT.get(v, 6.0) for v in m["layer"]]) * k
    size = np.where(m["role"].eq("score"), 8.5 * k, size)
    return MarkSet(m, shapely.get_coordinates(m.geometry.values), size)


def density_classes(top: int, most: int = 5) -> list[tuple[int, int]]:
    """At most ``most`` count classes from 1 to ``top``, split at round numbers (1, 2, 5, 10, 20, 50 …) spaced
    evenly on a log scale: 96 gives 1, 2–4, 5–19, 20–49, 50–96."""
    top = max(int(top), 1)
    nice = [m * 10 ** e for e in range(len(str(top)) + 1) for m in (1, 2, 5)]
    edges = [1]
    for target in np.geomspace(1, top, most + 1)[1:-1]:
        edge = min(nice, key=lambda n: abs(math.log(n) - math.log(target)))
        if edges[-1] < edge <= top:
            edges.append(edge)
    return [(lo, (edges[i + 1] - 1) if i + 1 < len(edges) else top) for i, lo in enumerate(edges)]


def draw_density(c: MapCanvas, layer: str, xy: np.ndarray, add: Any) -> None:
    """One layer's features (UTM metres) as hexagons coloured by count (classes of :func:`density_classes`) over
    the frame, and the legend rows that say so (with the layer's total in the frame)."""
    f = c.frame
    inside = (xy[:, 0] >= f.x0) & (xy[:, 0] <= f.x1) & (xy[:, 1] >= f.y0) & (xy[:, 1] <= f.y1)
    pts = xy[inside]
    if not len(pts):
        return
    cell_m = DENSITY_CELL_PT * f.metres_per_pt
    nx = max(4, round((f.x1 - f.x0) / cell_m))
    ny = max(2, round((f.y1 - f.y0) / (cell_m * math.sqrt(3))))
    hb = c.ax.hexbin(pts[:, 0], pts[:, 1], gridsize=(nx, ny), extent=(f.x0, f.x1, f.y0, f.y1), mincnt=1,
                     linewidths=0, zorder=2.05)
    counts = np.asarray(hb.get_array(), dtype=float)
    classes = density_classes(int(counts.max()) if len(counts) else 1)
    ramp = DENSITY_COLORS.get(layer, DENSITY_COLORS["projects"])
    colors = [ramp[int(i)] for i in np.linspace(1 if len(classes) < 3 else 0, len(ramp) - 1, len(classes)).round()]
    which = np.searchsorted([hi for _, hi in classes], counts, side="left").clip(0, len(classes) - 1)
    hb.set_array(None)
    hb.set_facecolor([colors[i] for i in which])
    hb.set_edgecolor("none")
    hb.set_alpha(0.9)
    zh, en = style.LAYER_LABELS[layer]
    km = f"{cell_m / 1000.0:.2g}"
    for i, ((lo, hi), color) in enumerate(zip(classes, colors)):
        span = f"{lo:,}–{hi:,}" if hi > lo else f"{lo:,}"
        head_zh = f"{zh}密度（图中 {len(pts):,} 个，每六边形）" if i == 0 else f"{zh}密度"
        head_en = f"{en}: {len(pts):,} as density, per {km} km hexagon" if i == 0 else f"{en} per hexagon"
        add("patch", f"{head_zh} {span}", f"{head_en}: {span}", "layers", fc=color, alpha=0.9, ec="none")


def face(r: Any) -> Any:
    """The fill colour of a mark: grey for context, by score, by status, or the institutions' grey."""
    if r.role == "context":
        return style.CONTEXT_COLOR
    if r.role == "score":
        return score_cmap()(float(r.score) / 100.0) if pd.notna(r.score) else style.CONTEXT_COLOR
    return style.INSTITUTION_COLOR if r.layer == "institutions" else style.status_color(r.status)


@dataclass
class DrawnMarks:
    """What :func:`draw_marks` drew: the marks inside the frame, whether any were fanned out, and how many symbols."""

    shown: gpd.GeoDataFrame
    spread: bool
    symbols: int


def draw_marks(c: MapCanvas, ms: MarkSet, numbers: np.ndarray | None = None) -> DrawnMarks:
    """Point symbols (parks squares, projects circles, institutions diamonds), fanned out and numbered: each
    mark's ``label``, or ``numbers`` (text per mark, '' for none) when given."""
    c.enter(Stage.LAYERS)
    m, xy, size = ms.m, ms.xy, ms.size
    ax, mpp = c.ax, c.mpp
    order = m["order"].to_numpy() if "order" in m else np.arange(len(m))
    shown, spokes = spread(xy, size, mpp, symbol=ms.symbol, order=order)
    if spokes:
        for (x0, y0), (x1, y1) in spokes:
            ax.plot([x0, x1], [y0, y1], color="#555555", linewidth=0.45, zorder=4)
        ax.scatter([s[0][0] for s in spokes], [s[0][1] for s in spokes], s=1.8 ** 2, c="#222222", zorder=4.1,
                   linewidths=0)
    colours = np.array([face(r) for r in m.itertuples()], dtype=object)
    possible = m["certainty"].eq("possible").to_numpy() & m["role"].eq("feature").to_numpy()
    for layer in ("parks", "institutions", "projects"):
        for role, z in (("context", 4.4), ("feature", 5.0), ("score", 5.0)):
            sel = (m["layer"].eq(layer) & m["role"].eq(role)).to_numpy()
            if not sel.any():
                continue
            marker = style.LAYER_MARKERS[layer]
            solid, hollow = sel & ~possible, sel & possible
            ring = solid & m["chain"].to_numpy()
            if ring.any():
                ax.scatter(shown[ring, 0], shown[ring, 1], marker=marker, s=(size[ring] + 2.8) ** 2,
                           c=style.CHAIN_RING_COLOR, linewidths=0, zorder=z)
            if solid.any():
                ax.scatter(shown[solid, 0], shown[solid, 1], marker=marker, s=size[solid] ** 2,
                           c=list(colours[solid]), edgecolors="white", linewidths=0.6, zorder=z + 0.1)
            if hollow.any():
                _hollow(c, shown[hollow], marker, size[hollow], list(colours[hollow]), m["chain"].to_numpy()[hollow], z)
    inside = shapely.contains_xy(c.view, shown[:, 0], shown[:, 1]) if len(shown) else np.zeros(0, dtype=bool)
    from matplotlib.transforms import Bbox

    disp = ax.transData.transform(shown) if len(shown) else np.zeros((0, 2))
    px = c.sheet.fig.dpi / 72.0
    for (dx, dy), s, ok, sym in zip(disp, size, inside, ms.symbol):
        if ok and sym:
            half = (s / 2 + 1) * px
            c.obstacles.append(Bbox([[dx - half, dy - half], [dx + half, dy + half]]))
    for (x0, y0), (x1, y1) in spokes:  # a ring's spokes: labels keep off them (a box per few points of spoke)
        a, b = ax.transData.transform([(x0, y0), (x1, y1)])
        n = max(1, int(math.hypot(*(b - a)) / (6 * px)))
        for t0, t1 in zip(np.linspace(0, 1, n + 1)[:-1], np.linspace(0, 1, n + 1)[1:]):
            p0, p1 = a + (b - a) * t0, a + (b - a) * t1
            c.obstacles.append(Bbox([np.minimum(p0, p1), np.maximum(p0, p1)]))
    c.features.extend(shapely.points(shown[inside & ms.symbol]).tolist() if len(shown) else [])
    text = m["label"].fillna("").astype(str).to_numpy() if numbers is None else np.asarray(numbers, dtype=object)
    labels.number_marks(c, text, ms.symbol, xy, shown, size, inside)
    return DrawnMarks(m[inside].reset_index(drop=True), bool(spokes), int((m["layer"].ne("anchor") & inside).sum()))


def _hollow(c: MapCanvas, xy: np.ndarray, marker: str, size: np.ndarray, colors: list[Any], chain: np.ndarray,
            z: float) -> None:
    """Hollow marks (possible hits): the outline only, in the mark's colour, on a thin white halo; the battery
    chain as a dark outer outline."""
    lw = style.HOLLOW_MARK_LW * c.k
    if chain.any():
        c.ax.scatter(xy[chain, 0], xy[chain, 1], marker=marker, s=(size[chain] + 2 * lw + 1.6) ** 2,
                     facecolors="none", edgecolors=style.CHAIN_RING_COLOR, linewidths=0.9, zorder=z)
    c.ax.scatter(xy[:, 0], xy[:, 1], marker=marker, s=size ** 2, facecolors="none", edgecolors="white",
                 linewidths=lw + 1.2, zorder=z + 0.05)
    c.ax.scatter(xy[:, 0], xy[:, 1], marker=marker, s=size ** 2, facecolors="none", edgecolors=colors,
                 linewidths=lw, zorder=z + 0.1)


def mark_legend(legend: Legend, m: pd.DataFrame, spread_any: bool) -> None:
    """Legend rows for the marks drawn: shapes, chain ring, context, certainty, score, statuses, rings, numbers."""
    for layer in POINT_LAYERS:
        if m["layer"].eq(layer).any():
            zh, en = style.LAYER_LABELS[layer]
            color = style.INSTITUTION_COLOR if layer == "institutions" else "#7d7d7d"
            legend.add("marker", zh, en, "layers", marker=style.LAYER_MARKERS[layer], color=color,
                       size=style.LAYER_MARKER_PT[layer])
    if m["chain"].any():
        legend.add("marker", "电池产业链", "Battery chain (dark ring)", "layers", marker="o", color="#ffffff", size=6,
                   ring=True)
    if m["role"].eq("context").any():
        legend.add("marker", "范围外", "Outside the query / corridor", "layers", marker="o", color=style.CONTEXT_COLOR,
                   size=6)
    hits = m[m["role"].eq("feature") & m["layer"].isin(POINT_LAYERS)]["certainty"]
    if hits.eq("certain").any():
        zh, en = style.CERTAINTY_LABELS["certain"]
        legend.add("marker", zh, f"{en.capitalize()} (solid)", "query", marker="o", color="#7d7d7d", size=6)
    if hits.eq("possible").any():
        zh, en = style.CERTAINTY_LABELS["possible"]
        legend.add("marker", zh, f"{en.capitalize()} (hollow)", "query", marker="o", color="#7d7d7d", size=6,
                   hollow=True)
    if m["role"].eq("score").any():
        legend.add("ramp", "适宜性得分", "Suitability score 0–100 (number = rank)", "score", alpha=1.0)
    drawn = m[m["role"].eq("feature") & m["layer"].isin(["parks", "projects"])]
    for status in style.STATUS_COLORS:
        if drawn["status"].eq(status).any():
            zh, en = style.STATUS_LABELS[status]
            legend.add("marker", zh, en, "status", marker="o", color=style.STATUS_COLORS[status], size=6)
    if spread_any:
        spoke_legend(legend)
    if m["label"].astype(str).ne("").any() and not m["role"].eq("score").any():
        legend.add("number", "编号见表", "Numbers refer to the table", "layers")


def spoke_legend(legend: Legend) -> None:
    """The legend row of marks fanned out round their common place."""
    legend.add("spoke", "同址要素环形错开", "Co-located features fanned out", "layers")


# -- base ----------------------------------------------------------------------------------------------------
def draw_base(c: MapCanvas, spec: MapSpec, legend: Legend | None) -> None:
    """Districts (light fill, grey borders; Luoyang's counties a shade darker) and city borders."""
    c.enter(Stage.LAYERS)
    if spec.districts is None:
        return
    d = spec.districts.to_crs(crs.METRIC_CRS)
    f = c.frame
    # simplify to a quarter point at this scale, as one coverage (shared borders stay shared)
    d = d.set_geometry(simplify_coverage(d.geometry.values, 0.25 * f.metres_per_pt))
    pad = 20 * f.metres_per_pt  # clip what lies outside the frame (an inset would draw whole counties)
    near = shapely.box(f.x0 - pad, f.y0 - pad, f.x1 + pad, f.y1 + pad)
    d = d[d.intersects(near)]
    d = d.set_geometry(shapely.intersection(d.geometry.values, near))
    luoyang = d["city_code"].astype(str).eq("410300").to_numpy()
    add_polygons(c.ax, d.geometry.values, facecolor=list(np.where(luoyang, style.DISTRICT_FILL,
                                                                   style.DISTRICT_FILL_OTHER)),
                 edgecolor=style.DISTRICT_EDGE, linewidth=0.4, zorder=1)
    cities = d.dissolve(by="city_code").boundary.values
    add_lines(c.ax, cities, color=style.CITY_EDGE, linewidth=0.9, zorder=1.5)
    c.districts = d
    if legend is None:
        return
    seen = d.intersects(c.view).to_numpy()
    if (seen & luoyang).any():
        legend.add("patch", "洛阳市区县", "Luoyang counties", "base", fc=style.DISTRICT_FILL, ec=style.DISTRICT_EDGE)
    if (seen & ~luoyang).any():
        legend.add("patch", "邻近区县", "Neighbouring counties", "base", fc=style.DISTRICT_FILL_OTHER,
                   ec=style.DISTRICT_EDGE)
    if any(g is not None and g.intersects(c.view) for g in cities):
        legend.add("line", "市界", "City boundary", "base", color=style.CITY_EDGE, lw=0.9)


def draw_graticule(c: MapCanvas) -> None:
    """Light meridians and parallels at round degrees, labelled outside the frame's bottom and left edges (in
    the page's margin, not on the map).

    Lines are drawn within ``GRATICULE_REACH_DEG`` of UTM 49N's central meridian (further out, a huge frame
    reaches round the globe); labels sit where a line crosses the frame's edge, found along the edge."""
    from geo.render.furniture import GRATICULE_CENTRE_LON, GRATICULE_REACH_DEG

    c.enter(Stage.LAYERS)
    f, ax = c.frame, c.ax
    t = np.linspace(0.0, 1.0, 201)
    bx, by = f.x0 + (f.x1 - f.x0) * t, np.full_like(t, f.y0)  # bottom edge, west to east
    ly, lx = f.y0 + (f.y1 - f.y0) * t, np.full_like(t, f.x0)  # left edge, south to north
    ex = np.concatenate([bx, np.full_like(t, f.x1), bx, lx])
    ey = np.concatenate([by, ly, np.full_like(t, f.y1), ly])
    lon_c, lat_c = crs.from_metric(ex, ey)  # the frame's outline (on a large map the parallels bend)
    ok = np.isfinite(lon_c) & np.isfinite(lat_c)
    if not ok.any():
        return
    cm = GRATICULE_CENTRE_LON
    lon0 = max(float(lon_c[ok].min()), cm - GRATICULE_REACH_DEG)
    lon1 = min(float(lon_c[ok].max()), cm + GRATICULE_REACH_DEG)
    lat0, lat1 = max(float(lat_c[ok].min()), -89.0), min(float(lat_c[ok].max()), 89.0)
    steps = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0)
    step = next((s for s in steps if (lon1 - lon0) / s <= 5), steps[-1])
    digits = 0 if step >= 1 else 1 if step >= 0.1 and round(step, 1) == step else 2
    fs, off, keep = c.fs(5.6), 2.5 * f.metres_per_pt, 10 * f.metres_per_pt
    line = {"color": "#8c9aa5", "linewidth": 0.3, "alpha": 0.55, "zorder": 1.8, "linestyle": (0, (4, 3))}
    b_lon, _ = crs.from_metric(bx, by)
    _, l_lat = crs.from_metric(lx, ly)

    def crossing(value: float, along: np.ndarray, at: np.ndarray) -> float | None:
        """Where on an edge the graticule line ``value`` crosses it (the edge's values must increase)."""
        if not (np.isfinite(along).all() and (np.diff(along) > 0).all() and along[0] <= value <= along[-1]):
            return None
        return float(np.interp(value, along, at))

    for lon in np.arange(math.ceil(lon0 / step) * step, lon1, step):
        lats = np.linspace(max(lat0 - 0.1, -89.5), min(lat1 + 0.1, 89.5), 60)
        x, y = crs.to_metric(np.full_like(lats, lon), lats)
        ax.plot(x, y, **line)
        xb = crossing(float(lon), b_lon, bx)
        if xb is not None and f.x0 + keep < xb < f.x1 - keep:
            shown = ((lon + 180.0) % 360.0) - 180.0
            ax.text(xb, f.y0 - off, f"{abs(shown):.{digits}f}°{'E' if shown >= 0 else 'W'}", ha="center",
                    va="top", fontsize=fs, color="#666666", clip_on=False)
    for lat in np.arange(math.ceil(lat0 / step) * step, lat1, step):
        lons = np.linspace(lon0 - 0.1, lon1 + 0.1, 60)
        x, y = crs.to_metric(lons, np.full_like(lons, lat))
        ax.plot(x, y, **line)
        yl = crossing(float(lat), l_lat, ly)
        if yl is not None and f.y0 + keep < yl < f.y1 - keep:
            ax.text(f.x0 - off, yl, f"{abs(lat):.{digits}f}°{'N' if lat >= 0 else 'S'}", ha="right",
                    va="center", rotation=90, fontsize=fs, color="#666666", clip_on=False, rotation_mode="anchor")


# -- overlays ------------------------------------------------------------------------------------------------
def _seen(c: MapCanvas, geoms: Any) -> np.ndarray:
    """Which geometries (UTM metres) reach into the frame."""
    arr = np.asarray(list(geoms), dtype=object)
    return shapely.intersects(arr, c.view) if len(arr) else np.zeros(0, dtype=bool)


def draw_overlays(c: MapCanvas, spec: MapSpec, legend: Legend | None, *, detail: bool = False) -> list[Any]:
    """Suitability surface, belts, buffer, corridor axes and the query geometry; returns the corridor axes
    (UTM metres) to label. A detail (the inset) draws no belts or focus outline and labels no axis."""
    c.enter(Stage.LAYERS)
    ax = c.ax
    add = legend.add if legend is not None else (lambda *a, **k: None)
    if spec.surface is not None and len(spec.surface):
        cmap = score_cmap()
        s = spec.surface.to_crs(crs.METRIC_CRS)
        add_polygons(ax, s.geometry.values, facecolor=[cmap(v / 100.0) for v in s["score"].fillna(0)],
                     alpha=0.45, linewidth=0, zorder=2)
        if _seen(c, s.geometry.values).any():
            add("ramp", "适宜性面", "Suitability surface (0–100)", "score", alpha=0.45)
    for layer, sel in dense_layers(spec.marks).items():  # a layer too big for one symbol per feature
        pts = spec.marks.geometry.values[sel]
        x, y = crs.to_metric(shapely.get_x(pts), shapely.get_y(pts))
        draw_density(c, layer, np.column_stack([x, y]), add)
    if spec.belts is not None and len(spec.belts) and not detail:
        b = spec.belts.to_crs(crs.METRIC_CRS)
        colors = [style.corridor_color(i) for i in b["id"]]
        geoms = list(b.geometry.values)
        shared = shapely.union_all([shapely.intersection(a, o) for i, a in enumerate(geoms) for o in geoms[i + 1:]]) \
            if len(geoms) > 1 else shapely.Polygon()
        own = [shapely.difference(g, shared) for g in geoms]  # overlaps get one neutral tint, not a colour mix
        add_polygons(ax, own, facecolor=colors, alpha=style.BELT_ALPHA, linewidth=0, zorder=2.1)
        add_polygons(ax, [shared], facecolor="#8a8a8a", alpha=style.BELT_ALPHA * 1.2, linewidth=0, zorder=2.1)
        add_lines(ax, b.boundary.values, color=colors, alpha=0.55, linewidth=0.6, zorder=2.2)
        seen = _seen(c, geoms)
        if seen.any():
            shown = [col for col, ok in zip(colors, seen) if ok]
            km = float(spec.belts["belt_km"].iloc[0]) if "belt_km" in spec.belts else None
            one = shown[0] if len(set(shown)) == 1 else "#9a9a9a"
            add("patch", "产业带范围", "Corridor belt" + (f" ±{km:g} km" if km else ""), "corridors", fc=one,
                alpha=0.25, ec=one)
        if not shared.is_empty and shared.intersects(c.view):
            add("patch", "多带重叠", "Belts overlap", "corridors", fc="#8a8a8a", alpha=0.2, ec="none")
    if spec.focus is not None and not detail:
        outline = geom_metric(spec.focus).boundary
        add_lines(ax, [outline], color="#444444", linewidth=1.6, zorder=2.35)
        if outline.intersects(c.view):
            add("patch", "筛选区县", "Selected districts", "base", fc="none", ec="#444444", lw=1.6)
    if spec.buffer is not None:
        g = geom_metric(spec.buffer)
        add_polygons(ax, [g], facecolor=style.QUERY_COLOR, alpha=0.06, linewidth=0, zorder=2.3)
        add_lines(ax, [g.boundary], color=style.QUERY_COLOR, linewidth=1.1, linestyle=(0, (5, 3)), zorder=2.4)
        c.features.append(g.boundary)
        if g.intersects(c.view):
            km = f" {spec.buffer_km:g} km" if spec.buffer_km else ""
            add("patch", f"缓冲区{km}", f"Buffer{km} (geodesic)", "query", fc=style.QUERY_COLOR, alpha=0.12,
                ec=style.QUERY_COLOR, ls=(0, (3, 2)))
    if spec.faint_corridors is not None and len(spec.faint_corridors):
        faint = spec.faint_corridors.to_crs(crs.METRIC_CRS)
        for row in faint.itertuples():
            for xy in line_parts(row.geometry):
                ax.plot(xy[:, 0], xy[:, 1], color=style.corridor_color(row.id), linewidth=1.3, alpha=0.4,
                        zorder=2.5, solid_capstyle="round")
        c.features.extend(faint.geometry.values)
        if _seen(c, faint.geometry.values).any():
            add("line", "其他产业带", "Other corridors", "corridors", color="#9a9a9a", lw=1.3, alpha=0.6)
    to_label = []
    if spec.corridors is not None:
        axes = spec.corridors.to_crs(crs.METRIC_CRS)
        for row, seen in zip(axes.itertuples(), _seen(c, axes.geometry.values)):
            color = style.corridor_color(row.id)
            for xy in line_parts(row.geometry):
                ax.plot(xy[:, 0], xy[:, 1], color="white", linewidth=4.0, zorder=2.6, solid_capstyle="round",
                        solid_joinstyle="round")
                ax.plot(xy[:, 0], xy[:, 1], color=color, linewidth=2.4, zorder=2.7, solid_capstyle="round",
                        solid_joinstyle="round")
            c.features.append(row.geometry)
            if seen:
                add("line", row.name_zh, row.name_en, "corridors", color=color, lw=2.4)
                if spec.label_corridors and not detail:
                    to_label.append(row)
    if spec.query is not None:
        draw_query(c, geom_metric(spec.query), add)
    return to_label


def draw_query(c: MapCanvas, g: shapely.Geometry, add: Any) -> None:
    """The query point (a star), line (dashed) or area (outlined), in UTM metres."""
    ax = c.ax
    seen = g.intersects(c.view)
    if g.geom_type == "Point":
        ax.scatter([g.x], [g.y], marker="*", s=c.fs(14) ** 2, c=style.QUERY_COLOR, edgecolors="white",
                   linewidths=0.8, zorder=8)
        c.features.append(g.buffer(c.fs(7) * c.mpp))
        if seen:
            add("marker", "查询点", "Query point", "query", marker="*", color=style.QUERY_COLOR, size=11)
    elif g.geom_type in ("LineString", "MultiLineString"):
        for xy in line_parts(g):
            ax.plot(xy[:, 0], xy[:, 1], color=style.QUERY_COLOR, linewidth=1.0, zorder=2.8, linestyle=(0, (2, 2)))
        c.features.append(g)
        if seen:
            add("line", "查询要素", "Query feature", "query", color=style.QUERY_COLOR, lw=1.0, ls=(0, (2, 2)))
    else:
        add_lines(ax, [g.boundary], color=style.QUERY_COLOR, linewidth=1.4, zorder=2.8)
        c.features.append(g.boundary)
        if seen:
            add("patch", "查询范围", "Query area", "query", fc="none", ec=style.QUERY_COLOR)
