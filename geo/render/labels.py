"""Labels of a map canvas, each kept wholly inside its frame: the numbers beside the marks (keyed to the table),
the corridors' short names along their axes, and the county names (Chinese over English).

Numbers are part of the marks' layer (they are placed with the symbols, and what comes later avoids them); the
names are the canvas's last stage: each goes to the first candidate position inside the frame that collides with
nothing drawn (symbols, numbers, scale bar, north arrow, inset), or is left off.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import shapely

from geo import style
from geo.render.artists import halo_text, move_text, remove_text
from geo.render.canvas import MapCanvas, Stage
from geo.render.geometry import label_spots, line_parts

#: Directions (unit vectors) a number may take from its mark, tried after the preferred one.
_COMPASS = [(math.cos(a), math.sin(a)) for a in np.radians(np.arange(0, 360, 45) + 45)]


def _align(ux: float, uy: float) -> tuple[str, str]:
    """Text alignment for a label offset in direction (ux, uy): its near side faces the anchor."""
    ha = "left" if ux > 0.38 else "right" if ux < -0.38 else "center"
    va = "bottom" if uy > 0.38 else "top" if uy < -0.38 else "center"
    return ha, va


# -- numbers beside the marks ----------------------------------------------------------------------------
def number_marks(c: MapCanvas, text: np.ndarray, symbol: np.ndarray, true_xy: np.ndarray, shown: np.ndarray,
                 size: np.ndarray, inside: np.ndarray) -> int:
    """Numbers beside the marks inside the frame: outward from a ring's centre, else to the upper right, else
    the first other direction that keeps the number inside the frame; a number of a line or area (an anchor,
    no symbol) sits in a small white disc. Returns how many were placed."""
    c.enter(Stage.LAYERS)
    placed = 0
    for i in np.flatnonzero((text != "") & ~symbol & inside):
        t = c.ax.text(shown[i, 0], shown[i, 1], str(text[i]), ha="center", va="center", fontsize=c.fs(6.2),
                      color="#111111", zorder=7,
                      bbox={"boxstyle": "circle,pad=0.18", "facecolor": "white", "edgecolor": "#555555",
                            "linewidth": 0.5})
        box = c.extent_of(t)
        if not c.inside(box):  # nudge it in by its overflow
            bb = c.ax.bbox
            dx = max(bb.x0 - box.x0, 0) - max(box.x1 - bb.x1, 0)
            dy = max(bb.y0 - box.y0, 0) - max(box.y1 - bb.y1, 0)
            px = c.sheet.fig.dpi / 72.0
            t.set_position((shown[i, 0] + dx / px * c.mpp, shown[i, 1] + dy / px * c.mpp))
            box = c.extent_of(t)
        if c.inside(box):
            c.keep(t, "number")
            placed += 1
        else:
            t.remove()
    for i in np.flatnonzero((text != "") & symbol & inside):
        dx, dy = shown[i] - true_xy[i]
        d = math.hypot(dx, dy)
        first = (dx / d, dy / d) if d > 0 else (0.75, 0.66)
        tries = [first, *sorted(_COMPASS, key=lambda u: -(u[0] * first[0] + u[1] * first[1]))]
        off = size[i] / 2 + 1.8
        for ux, uy in tries:
            ha, va = _align(ux, uy)
            t = halo_text(c.ax, shown[i, 0], shown[i, 1], str(text[i]), 2.0, xytext=(ux * off, uy * off), ha=ha,
                          va=va, fontsize=c.fs(6.4), color="#111111", zorder=7)
            if c.inside(c.extent_of(t)):
                c.keep(t, "number")
                placed += 1
                break
            remove_text(t)
    return placed


# -- corridor names ------------------------------------------------------------------------------------------
def _tangent(line: shapely.LineString, at: float) -> tuple[float, float]:
    """The unit direction of a line at a distance along it (metres)."""
    a = line.interpolate(max(at - 1.0, 0.0))
    b = line.interpolate(min(at + 1.0, line.length))
    d = math.hypot(b.x - a.x, b.y - a.y) or 1.0
    return (b.x - a.x) / d, (b.y - a.y) / d


def _corridor_spots(c: MapCanvas, geom: shapely.Geometry) -> Iterable[tuple[float, float, float, float, float]]:
    """Candidate places for a corridor's name (x, y, direction ux, uy, offset in points): beyond the axis's far
    end, then beside it; then, where the end is off the map, beside the axis's visible part nearest its end."""
    parts = line_parts(geom)
    if not parts:
        return
    xy = parts[-1]
    (x1, y1), (x0, y0) = xy[-1], xy[-2]
    d = math.hypot(x1 - x0, y1 - y0) or 1.0
    ux, uy = (x1 - x0) / d, (y1 - y0) / d
    if shapely.contains_xy(c.view, x1, y1):
        for dx, dy in ((ux, uy), (-uy, ux), (uy, -ux)):
            for off in (6.0, 16.0, 28.0):
                yield x1, y1, dx, dy, off
    whole = shapely.line_merge(geom) if geom.geom_type == "MultiLineString" else geom
    if whole.geom_type != "LineString":
        whole = shapely.LineString(xy)
    margin = 4 * c.mpp
    inner = shapely.box(c.frame.x0 + margin, c.frame.y0 + margin, c.frame.x1 - margin, c.frame.y1 - margin)
    seen = shapely.intersection(whole, inner)
    pieces = [p for p in getattr(seen, "geoms", [seen]) if p.geom_type == "LineString" and not p.is_empty]
    if not pieces:
        return
    piece = max(pieces, key=lambda p: whole.project(shapely.Point(p.coords[-1])))  # the one nearest the far end
    for share in (0.0, 0.15, 0.3, 0.5, 0.7, 0.85):
        at = whole.project(piece.interpolate(piece.length * (1 - share)))
        p = whole.interpolate(at)
        tx, ty = _tangent(whole, at)
        for dx, dy in ((-ty, tx), (ty, -tx)):
            for off in (5.0, 12.0):
                yield p.x, p.y, dx, dy, off


def corridor_labels(c: MapCanvas, rows: Iterable[Any]) -> None:
    """Each corridor's short name in its colour: the first place (see :func:`_corridor_spots`) inside the frame
    that collides with nothing, else the inside place with the fewest collisions, else none."""
    c.enter(Stage.LABELS)
    for row in rows:
        zh, en = style.CORRIDOR_SHORT.get(row.id, (row.name_zh, ""))
        best: tuple[int, Any, Any] | None = None
        for x, y, dx, dy, off in _corridor_spots(c, row.geometry):
            ha, va = _align(dx, dy)
            t = halo_text(c.ax, x, y, f"{zh}\n{en}" if en else zh, 2.4, xytext=(dx * off, dy * off), ha=ha, va=va,
                          fontsize=c.fs(7.2), linespacing=1.05, multialignment=ha if ha != "center" else "center",
                          color=style.corridor_color(row.id), zorder=6)
            box = c.extent_of(t)
            if not c.inside(box):
                remove_text(t)
                continue
            hits = c.collisions(box)
            if best is None or hits < best[0]:
                if best is not None:
                    remove_text(best[1])
                best = (hits, t, box)
            else:
                remove_text(t)
            if hits == 0:
                break
        if best is not None:
            c.keep(best[1], "corridor")


# -- county names --------------------------------------------------------------------------------------------
def district_labels(c: MapCanvas) -> None:
    """County labels (Chinese over English) at each polygon's visual centre, or the nearest free spot inside it;
    a label that would leave the frame or collide with a symbol or another label is left off."""
    c.enter(Stage.LABELS)
    d = c.districts
    if d is None:
        return
    mpp = c.mpp
    parts = [(row, shapely.intersection(row.geometry, c.view)) for row in d.itertuples()]
    parts = [(r, g) for r, g in parts if not g.is_empty and g.area > 0]
    parts.sort(key=lambda rg: -rg[1].area)
    zs, es = c.fs(6.6), c.fs(5.0)
    for row, geom in parts:
        if geom.geom_type != "Polygon":
            geom = max(getattr(geom, "geoms", [geom]), key=lambda g: g.area)
        side = math.sqrt(geom.area) / mpp
        if geom.geom_type != "Polygon" or side < zs * 2.0:
            continue
        show_en = side > zs * 5.5
        items = [halo_text(c.ax, 0, 0, row.name_zh, 1.6, ha="center", va="bottom" if show_en else "center",
                           fontsize=zs, color=style.LABEL_COLOR, zorder=3)]
        if show_en:
            items.append(halo_text(c.ax, 0, 0, row.name_en, 1.4, ha="center", va="top", fontsize=es,
                                   color="#7a7a7a", zorder=3))
        for p in label_spots(geom, mpp):
            move_text(items[0], p.x, p.y + (0.3 * mpp if show_en else 0))
            if show_en:
                move_text(items[1], p.x, p.y - 0.3 * mpp)
            boxes = [c.extent_of(t) for t in items]
            grown = [b.expanded(1.1, 1.2) for b in boxes]
            if all(c.inside(b) for b in grown) and not any(c.collisions(b) for b in grown):
                for t in items:
                    c.keep(t, "district", expand=(1.1, 1.2))
                break
        else:
            for t in items:
                remove_text(t)
