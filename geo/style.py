"""Shared map style: colours and bilingual labels of statuses, corridors and layers (CRS-free constants).

Used by the static maps (``geo.render``) and, once wired, by the Folium maps (``webmap.maps``), so the
printed map and the web map share one legend. Colours are hex strings; labels are ``(zh, en)`` pairs.
"""

from __future__ import annotations

from geo.schema import STATUSES

STATUS_COLORS: dict[str, str] = {
    "operating": "#1a9850",
    "under_construction": "#f28e2b",
    "planned": "#4e79a7",
    "exploratory": "#b07aa1",
    "unknown": "#8c8c8c",
}
STATUS_LABELS: dict[str, tuple[str, str]] = {
    "operating": ("运营", "operating"),
    "under_construction": ("在建", "under construction"),
    "planned": ("规划", "planned"),
    "exploratory": ("探索", "exploratory"),
    "unknown": ("未知", "unknown"),
}
CORRIDOR_COLORS: dict[str, str] = {
    "luo-ji-jiao": "#d62728",
    "luo-gong": "#1f77b4",
    "luo-mian": "#2ca02c",
    "luo-ru": "#ff7f0e",
}
#: Short names of the corridors for map labels (the full names are in the layer).
CORRIDOR_SHORT: dict[str, tuple[str, str]] = {
    "luo-ji-jiao": ("洛济焦", "Luo–Ji–Jiao"),
    "luo-gong": ("洛巩", "Luo–Gong"),
    "luo-mian": ("洛渑", "Luo–Mian"),
    "luo-ru": ("洛汝", "Luo–Ru"),
}
LAYER_LABELS: dict[str, tuple[str, str]] = {
    "districts": ("行政区", "Districts"),
    "belts": ("产业带范围", "Corridor belts"),
    "corridors": ("产业带轴线", "Corridor axes"),
    "parks": ("园区", "Parks"),
    "projects": ("项目", "Projects"),
    "institutions": ("高校与企业", "Institutions"),
}
#: Short layer names for table cells.
TABLE_LAYER_LABELS: dict[str, str] = {"parks": "园区", "projects": "项目", "institutions": "高校企业",
                                      "corridors": "产业带", "districts": "区县"}
OTHER_CORRIDOR_COLOR = "#7f7f7f"

# -- static-map cartography (geo.render) ---------------------------------------------------------
SEA_COLOR = "#dfe8ee"  # outside the districts (as the web map's background)
DISTRICT_FILL = "#f4f1ea"
DISTRICT_FILL_OTHER = "#fbfaf7"  # counties outside Luoyang city (the neighbours the belts reach)
DISTRICT_EDGE = "#9a9a9a"
CITY_EDGE = "#6f6f6f"
LABEL_COLOR = "#4a4a4a"
INSTITUTION_COLOR = "#555555"
CHAIN_RING_COLOR = "#222222"
QUERY_COLOR = "#c51b7d"  # buffer outline and query point
CONTEXT_COLOR = "#b8b8b8"  # features outside a query, drawn for context
SCORE_COLORS: list[str] = ["#fff7bc", "#fec44f", "#d95f0e", "#993404"]  # suitability 0–100 (as /site)
#: Matplotlib marker of each point layer: parks squares, projects circles, institutions diamonds.
LAYER_MARKERS: dict[str, str] = {"parks": "s", "projects": "o", "institutions": "D"}
#: Marker size (points) of each point layer at print scale.
LAYER_MARKER_PT: dict[str, float] = {"parks": 7.0, "projects": 6.0, "institutions": 5.5}
BELT_ALPHA = 0.09
#: How sure a buffer-query hit is (``geo.query``'s ``certainty``): ``certain`` drawn solid, ``possible`` (only
#: part of where the record may lie is within the radius: a stand-in at a county seat) drawn hollow.
CERTAINTY_LABELS: dict[str, tuple[str, str]] = {
    "certain": ("确定在范围内", "certainly within"),
    "possible": ("可能在范围内", "possibly within"),
}
#: Short certainty labels for table cells.
TABLE_CERTAINTY_LABELS: dict[str, str] = {"certain": "确定", "possible": "可能"}
#: Outline width (points) of a hollow mark (a possible hit) at print scale.
HOLLOW_MARK_LW = 1.4
#: Colour of each layer's buffer-query hits on the web map (solid when certain, outline only when possible).
LAYER_COLORS: dict[str, str] = {"parks": "#7b3294", "projects": "#c00000", "institutions": "#2166ac",
                                "corridors": "#555555", "districts": "#555555"}
#: Outline of a selected stand-in's possible area on the web map (dashed).
POSSIBLE_AREA_COLOR = "#e6550d"

# -- ink of the web pages (their text, rules and chart strokes), shared through /app/style.css ----------------
#: The main text colour (pages, charts, labels of features); the same dark grey as the chain ring.
INK_COLOR = "#222222"
#: Secondary text (notes, captions, ticks, English under Chinese); the same grey as the institutions' marks.
MUTED_INK_COLOR = "#555555"

assert set(STATUS_COLORS) == set(STATUSES) == set(STATUS_LABELS)


def corridor_color(corridor_id: str) -> str:
    """The display colour of a corridor (grey for one without its own)."""
    return CORRIDOR_COLORS.get(corridor_id, OTHER_CORRIDOR_COLOR)


def status_color(status: object) -> str:
    """The display colour of a status (the 'unknown' grey for anything else)."""
    return STATUS_COLORS.get(status, STATUS_COLORS["unknown"]) if isinstance(status, str) else STATUS_COLORS["unknown"]


def layer_color(layer: object) -> str:
    """The colour of a layer's buffer-query hits (the projects' red for anything else)."""
    return LAYER_COLORS.get(layer, LAYER_COLORS["projects"]) if isinstance(layer, str) else LAYER_COLORS["projects"]


def bilingual(pair: tuple[str, str], sep: str = " ") -> str:
    """A ``(zh, en)`` label as one string."""
    return f"{pair[0]}{sep}{pair[1]}"
