"""What a static map shows (:class:`MapSpec`, all WGS84) and what was drawn (:class:`MapFacts`, UTM 49N and WGS84)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from geo import crs

POINT_LAYERS: tuple[str, ...] = ("parks", "projects", "institutions")
VISIBLE_DEFAULT: tuple[str, ...] = ("districts", "belts", "corridors", *POINT_LAYERS)


@dataclass
class Table:
    """A table beside the map: ``(key, header)`` columns, right-aligned keys, rows, and how many rows exist."""

    title: str
    columns: list[tuple[str, str]]
    rows: list[dict[str, Any]]
    numeric: tuple[str, ...] = ()
    total: int | None = None
    #: Whether every row should be shown if the page allows (a key): the legend then takes more columns.
    whole: bool = False


@dataclass
class MapSpec:
    """What one static map shows; every geometry is WGS84 (EPSG:4326) and is drawn in UTM 49N.

    ``marks`` are the point symbols: ``layer`` (parks, projects, institutions, or ``anchor`` for a
    number without a symbol), ``status``, ``chain`` (bool: battery-chain ring), ``label`` (text beside
    the symbol, '' for none), ``role`` (``feature``; ``context`` drawn grey; ``score`` coloured by
    ``score`` 0–100), ``order`` (position in a ring of co-located marks), optionally ``name_zh`` and ``name_en``
    (for the key of a detail inset) and, for the hits of a buffer query, ``certainty`` (``certain`` drawn
    solid; ``possible``, only part of where the record may lie is within the radius, drawn hollow: outline
    only, in the same colour).
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

    @property
    def view(self) -> bool:
        """Whether the map is zoomed to a given box (a browser's view or a ``bbox``): framed exactly, unpadded."""
        return self.extent is not None and self.pad == 0.0


@dataclass
class ScaleBarFacts:
    """The drawn scale bar: its true length, its length in map metres (UTM) and on the page (points), its corner
    (``lower left`` or ``lower right``), its box (UTM 49N metres) and how many drawn features that box covers."""

    length_km: float
    ticks_km: list[float]
    length_map_m: float
    length_pt: float
    scale_factor: float
    start_lonlat: tuple[float, float]
    end_lonlat: tuple[float, float]
    geodesic_m: float
    corner: str = "lower left"
    box_metric: tuple[float, float, float, float] | None = None
    covers: int = 0


@dataclass
class LabelFacts:
    """A text drawn on a map frame (a name, a number, a note): its text, its box and its frame's box (page
    points: left, bottom, width, height), and what it labels (``district``, ``corridor``, ``number``, ``inset``)."""

    text: str
    kind: str
    box_pt: tuple[float, float, float, float]
    frame_pt: tuple[float, float, float, float]


@dataclass
class NorthArrowFacts:
    """Where the north arrow was put: its corner (``upper right`` …), its disc (centre and radius, UTM 49N
    metres) and how many drawn features it covers (0 unless every place on the frame's edge was taken)."""

    corner: str
    centre_metric: tuple[float, float]
    radius_m: float
    covers: int


@dataclass
class InsetFacts:
    """The detail inset: its extent (UTM 49N and WGS84), its box on the page (points), the marks it takes over
    from the main map and how many of them carry a number keyed to the table."""

    extent_metric: tuple[float, float, float, float]
    extent_wgs84: tuple[float, float, float, float]
    box_pt: tuple[float, float, float, float]
    marks: int
    numbered: int


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
    #: Every text drawn on a map frame (main map and inset) with its box: none lies outside its frame.
    labels: list[LabelFacts] = field(default_factory=list)
    north_arrow: NorthArrowFacts | None = None
    inset: InsetFacts | None = None
