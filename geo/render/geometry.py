"""Cartographic arithmetic in UTM 49N (EPSG:32649) metres: extents, frames, scale, convergence, clusters and
the fanning-out of co-located marks. No matplotlib.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pyproj
import shapely
import shapely.ops

from geo import crs
from geo.errors import ValidationError

#: The WGS84 box (west, south, east, north) a map can show: within 30° of UTM 49N's central meridian (111°E;
#: scale error under 10 %) and from the equator to 72°N. A wider extent (a low-zoom view) is clipped to it.
DRAWABLE_WGS84: tuple[float, float, float, float] = (81.0, 0.0, 141.0, 72.0)
PT_PER_M = 72.0 / 0.0254  # points per metre of paper


def nice_scale(target_km: float) -> tuple[float, list[float]]:
    """A round scale-bar length (1, 2 or 5 × 10ⁿ km) not above ``target_km``, and its ticks (e.g. 0-10-20-50)."""
    exp = math.floor(math.log10(target_km))
    length = 10.0 ** exp
    for lead in (2.0, 5.0, 10.0):
        if lead * 10.0 ** exp <= target_km:
            length = lead * 10.0 ** exp
    lead = round(length / 10.0 ** math.floor(math.log10(length) + 1e-9))
    fractions = {1: (0, 0.2, 0.5, 1), 2: (0, 0.25, 0.5, 1), 5: (0, 0.2, 0.4, 1)}[lead]
    return length, [round(length * f, 6) for f in fractions]


@dataclass(frozen=True)
class Frame:
    """The map frame: a metric extent (UTM 49N) of the box's shape, and the box on the page in points."""

    x0: float
    y0: float
    x1: float
    y1: float
    box_pt: tuple[float, float, float, float]

    @property
    def metres_per_pt(self) -> float:
        """Map metres per point of paper (the same in x and y)."""
        return (self.x1 - self.x0) / self.box_pt[2]

    @property
    def centre(self) -> tuple[float, float]:
        """The centre in UTM metres."""
        return (self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2


def clip_extent(bounds: Sequence[float]) -> tuple[float, float, float, float] | None:
    """The part of a WGS84 box (west, south, east, north) inside ``DRAWABLE_WGS84``; None if none is, or if
    a bound is not a finite number."""
    try:
        west, south, east, north = (float(v) for v in bounds)
    except (TypeError, ValueError):
        return None
    if not all(math.isfinite(v) for v in (west, south, east, north)):
        return None
    west, east = min(west, east), max(west, east)
    south, north = min(south, north), max(south, north)
    dw, ds, de, dn = DRAWABLE_WGS84
    west, south, east, north = max(west, dw), max(south, ds), min(east, de), min(north, dn)
    if west > east or south > north:
        return None
    return west, south, east, north


def metric_extent(bounds: Sequence[float], min_km: float, pad: float) -> tuple[float, float, float, float]:
    """UTM 49N bounds of a WGS84 box (edges densified), padded by a share of its size, at least ``min_km`` wide.

    The box is first clipped to ``DRAWABLE_WGS84``: beyond it UTM 49N is far from true (and past a pole it
    has no coordinates at all). A box wholly outside it, or not of finite numbers, is a ValidationError."""
    clipped = clip_extent(bounds)
    if clipped is None:
        raise ValidationError(f"the map extent {tuple(bounds)!r} lies outside the area a map can show: lon "
                              f"{DRAWABLE_WGS84[0]:g}..{DRAWABLE_WGS84[2]:g}, lat {DRAWABLE_WGS84[1]:g}.."
                              f"{DRAWABLE_WGS84[3]:g} (WGS84)", field="extent")
    west, south, east, north = clipped
    # the box's outline, a point every ~0.02° (a box may be one point: co-located marks)
    n = int(min(max(east - west, north - south) / 0.02, 4000)) + 2
    t = np.linspace(0.0, 1.0, n)
    lons = np.concatenate([west + (east - west) * t, np.full(n, east), east - (east - west) * t, np.full(n, west)])
    lats = np.concatenate([np.full(n, south), south + (north - south) * t, np.full(n, north), north - (north - south) * t])
    xs, ys = crs.to_metric(lons, lats)
    x0, y0, x1, y1 = float(np.min(xs)), float(np.min(ys)), float(np.max(xs)), float(np.max(ys))
    w, h = max(x1 - x0, 1.0), max(y1 - y0, 1.0)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    w, h = max(w * (1 + 2 * pad), min_km * 1000), max(h * (1 + 2 * pad), min_km * 1000)
    return cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2


def fit_frame(extent: Sequence[float], box_pt: tuple[float, float, float, float]) -> Frame:
    """Grow the metric extent in x or y to the box's shape, so one scale holds in x and y."""
    x0, y0, x1, y1 = extent
    w, h = x1 - x0, y1 - y0
    ratio = box_pt[2] / box_pt[3]
    if w / h < ratio:
        w = h * ratio
    else:
        h = w / ratio
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return Frame(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2, box_pt)


def point_scale_factor(lon: float, lat: float) -> float:
    """UTM 49N point scale factor k at a WGS84 position (map distance = k × true distance)."""
    return float(pyproj.Proj(crs.METRIC_CRS).get_factors(lon, lat).meridional_scale)


def convergence_deg(x: float, y: float) -> float:
    """Angle (degrees, anticlockwise from grid north) of true north at a UTM 49N position."""
    lon, lat = crs.from_metric(x, y)
    nx, ny = crs.to_metric(lon, lat + 0.01)
    return math.degrees(math.atan2(-(nx - x), ny - y))


def clusters(xy: np.ndarray, tol: float, symbol: np.ndarray | None = None, limit: int = 5000) -> list[list[int]]:
    """Groups (row positions) of marks linked by gaps under ``tol`` metres (single linkage, STRtree pairs)."""
    idx = np.flatnonzero(np.ones(len(xy), dtype=bool) if symbol is None else np.asarray(symbol, dtype=bool))
    if len(idx) < 2 or len(idx) > limit:
        return [[int(i)] for i in idx]
    pts = shapely.points(xy[idx])
    left, right = shapely.STRtree(pts).query(pts, predicate="dwithin", distance=tol)
    parent = list(range(len(idx)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in zip(left, right):
        ra, rb = find(int(a)), find(int(b))
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[int, list[int]] = {}
    for i in range(len(idx)):
        groups.setdefault(find(i), []).append(int(idx[i]))
    return list(groups.values())


def spread(xy: np.ndarray, size_pt: np.ndarray, metres_per_pt: float, symbol: np.ndarray | None = None,
           order: Sequence[int] | None = None, max_group: int = 40) -> tuple[np.ndarray, list[tuple]]:
    """Displace marks that would overlap on the page into a ring around their group's centre (UTM metres).

    Marks closer than 1.3 symbol widths are grouped; a group of 2..``max_group`` marks is laid out
    clockwise from the top on a circle just large enough to hold them. Returns the drawn positions and
    the spokes ((true x, y), (drawn x, y)) of the displaced marks.
    """
    out = xy.astype(float).copy()
    if not len(xy):
        return out, []
    sym = np.ones(len(xy), dtype=bool) if symbol is None else np.asarray(symbol, dtype=bool)
    tol = float(np.max(size_pt[sym])) * 1.3 * metres_per_pt if sym.any() else 0.0
    rank = np.asarray(order if order is not None else np.arange(len(xy)))

    def ring(members: list[int]) -> tuple[float, float, float]:
        cx, cy = xy[members].mean(axis=0)
        s = float(np.max(size_pt[members]))
        k = len(members)
        r = 0.0 if k < 2 else max(s * 1.0, s * 1.3 * k / (2 * math.pi))
        return float(cx), float(cy), (r + s / 2) * metres_per_pt

    groups = clusters(xy, tol, sym)
    for _ in range(6):  # merge groups whose rings would overlap, until none do
        rings = [ring(g) for g in groups]
        merged = False
        for a in range(len(groups)):
            for b in range(a + 1, len(groups)):
                if groups[a] and groups[b] and (len(groups[a]) > 1 or len(groups[b]) > 1) and math.hypot(
                        rings[a][0] - rings[b][0], rings[a][1] - rings[b][1]) < rings[a][2] + rings[b][2]:
                    groups[a] = groups[a] + groups[b]
                    groups[b] = []
                    merged = True
        groups = [g for g in groups if g]
        if not merged:
            break
    spokes = []
    for members in groups:
        k = len(members)
        if k < 2 or k > max_group:
            continue
        cx, cy = xy[members].mean(axis=0)
        # clockwise angle from north of each true position around the centre; slots follow it, so spokes do not cross
        cw = {i: (math.pi / 2 - math.atan2(xy[i, 1] - cy, xy[i, 0] - cx)) % (2 * math.pi)
              if math.hypot(xy[i, 0] - cx, xy[i, 1] - cy) > 1e-6 else 0.0 for i in members}
        members.sort(key=lambda i: (round(cw[i], 3), rank[i], i))
        slot = [2 * math.pi * j / k for j in range(k)]
        gap = np.array([[min(abs(cw[i] - a), 2 * math.pi - abs(cw[i] - a)) for a in slot] for i in members])
        shift = min(range(k), key=lambda t: float(sum(gap[j, (j + t) % k] for j in range(k))))
        s = float(np.max(size_pt[members]))
        r = max(s * 1.0, s * 1.3 * k / (2 * math.pi)) * metres_per_pt
        for j, i in enumerate(members):
            ang = math.pi / 2 - slot[(j + shift) % k]
            out[i] = (cx + r * math.cos(ang), cy + r * math.sin(ang))
            spokes.append(((float(xy[i, 0]), float(xy[i, 1])), (float(out[i, 0]), float(out[i, 1]))))
    return out, spokes


def label_spots(geom: shapely.Polygon, metres_per_pt: float, tries: int = 30) -> Iterator[shapely.Point]:
    """Candidate label positions in a polygon (UTM metres): its pole of inaccessibility, then grid points
    inside it at least 8 pt from its edge, nearest the pole first (computed only if the pole is taken)."""
    pole = shapely.ops.polylabel(geom, tolerance=metres_per_pt * 2)
    yield pole
    x0, y0, x1, y1 = geom.bounds
    step = max((x1 - x0), (y1 - y0)) / 8
    xs, ys = np.meshgrid(np.arange(x0 + step / 2, x1, step), np.arange(y0 + step / 2, y1, step))
    pts = shapely.points(xs.ravel(), ys.ravel())
    inner = shapely.buffer(geom, -8 * metres_per_pt, quad_segs=2)
    pts = pts[shapely.contains_xy(inner, xs.ravel(), ys.ravel())] if not inner.is_empty else pts[:0]
    yield from sorted(pts, key=lambda p: p.distance(pole))[:tries]


def simplify_coverage(geoms: Any, tolerance_m: float) -> Any:
    """Simplify polygons that tile the plane together (shapely's coverage simplification, else per polygon)."""
    geoms = np.asarray(geoms)
    if hasattr(shapely, "coverage_simplify") and hasattr(shapely, "coverage_is_valid") and \
            shapely.coverage_is_valid(geoms):
        return shapely.coverage_simplify(geoms, tolerance_m)
    return shapely.simplify(geoms, tolerance_m, preserve_topology=True)


def line_parts(geom: shapely.Geometry) -> list[np.ndarray]:
    """Coordinate arrays of each part of a (multi)line string."""
    parts = geom.geoms if hasattr(geom, "geoms") else [geom]
    return [np.asarray(p.coords) for p in parts if not p.is_empty]


def geom_metric(geom: shapely.Geometry) -> shapely.Geometry:
    """A WGS84 geometry in UTM 49N metres."""
    return gpd.GeoSeries([geom], crs=crs.WGS84).to_crs(crs.METRIC_CRS).iloc[0]


def round_sig(value: float, digits: int = 3) -> float:
    """A number rounded to ``digits`` significant digits."""
    return round(value, -math.floor(math.log10(value)) + digits - 1) if value > 0 else value

