"""A map canvas: one map frame on the sheet, an axes drawing a metric extent (UTM 49N, EPSG:32649) in a box of the
page at one scale in x and y. The main map is a canvas; the detail inset is a second one.

A canvas is drawn in stages, in order (:class:`Stage`): its layers (what the map shows), then its furniture
(scale bar, north arrow, the inset's locator box), then its labels, which avoid everything drawn before them.
Entering an earlier stage is a ``RuntimeError``, so nothing can be drawn under a label placed to avoid it.

What later steps must avoid is kept on the canvas: the boxes of its symbols and texts (``obstacles``, display
pixels) and the drawn features' geometries (``features``, UTM metres: corridor axes, query geometry, marks).
Every text a canvas places is recorded (``labels``) with its box, and must lie inside the frame.
"""

from __future__ import annotations

import enum
from typing import Any

import geopandas as gpd
import shapely

from geo import style
from geo.render.geometry import Frame
from geo.render.sheet import Box, Sheet
from geo.render.spec import LabelFacts


class Stage(enum.IntEnum):
    """The drawing stages of a canvas, in the order they run."""

    NEW = 0
    LAYERS = 1
    FURNITURE = 2
    LABELS = 3


class MapCanvas:
    """One map frame: its axes (``ax``), frame (``frame``: the metric extent and the box in points), what was drawn
    on it and what a later stage must avoid."""

    def __init__(self, sheet: Sheet, box: Box, frame: Frame, *, zorder: float = 0, name: str = "main") -> None:
        self.sheet, self.box, self.frame, self.name = sheet, box, frame, name
        self.k = sheet.k
        ax = sheet.add_axes(box)
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
        self.ax = ax
        self.view = shapely.box(frame.x0, frame.y0, frame.x1, frame.y1)  # what the frame shows (UTM metres)
        self.obstacles: list[Any] = []  # matplotlib Bboxes (display pixels) of symbols and texts
        self.features: list[shapely.Geometry] = []  # drawn features (UTM metres) furniture must not cover
        self.districts: gpd.GeoDataFrame | None = None  # the districts drawn (UTM metres, clipped), for labels
        self.labels: list[LabelFacts] = []
        self.texts: list[str] = []
        self.stage = Stage.NEW

    def enter(self, stage: Stage) -> None:
        """Start a stage; a stage before the current one is a RuntimeError (the drawing order is fixed)."""
        if stage < self.stage:
            raise RuntimeError(f"the {self.name} map is at its {self.stage.name.lower()} stage: "
                               f"{stage.name.lower()} must come before")
        self.stage = stage

    @property
    def mpp(self) -> float:
        """Map metres per point of paper."""
        return self.frame.metres_per_pt

    def fs(self, size: float) -> float:
        """A size in points scaled to the page."""
        return size * self.k

    def extent_of(self, artist: Any) -> Any:
        """An artist's box in display pixels."""
        return artist.get_window_extent(self.sheet.renderer)

    def inside(self, bbox: Any, slack_px: float = 0.0) -> bool:
        """Whether a display box lies wholly inside the frame."""
        bb = self.ax.bbox
        return (bb.x0 - slack_px <= bbox.x0 and bbox.x1 <= bb.x1 + slack_px and
                bb.y0 - slack_px <= bbox.y0 and bbox.y1 <= bb.y1 + slack_px)

    def collisions(self, bbox: Any, others: list[Any] | None = None) -> int:
        """How many obstacles (or ``others``) a display box overlaps."""
        return sum(bbox.overlaps(o) for o in (self.obstacles if others is None else others))

    def keep(self, artist: Any, kind: str, *, obstacle: bool = True, text: str | None = None,
             expand: tuple[float, float] = (1.0, 1.0)) -> Any:
        """Record a text placed on the frame (its box must lie inside it) and, by default, make it an obstacle."""
        box = self.extent_of(artist)
        label = artist.get_text() if text is None else text
        self.labels.append(LabelFacts(label, kind, self.sheet.points(box), self.box))
        self.texts.append(label)
        if obstacle:
            self.obstacles.append(box.expanded(*expand))
        return box

    def metric_box(self, bbox: Any) -> shapely.Polygon:
        """A display box as a polygon in map metres."""
        inv = self.ax.transData.inverted()
        (x0, y0), (x1, y1) = inv.transform([(bbox.x0, bbox.y0), (bbox.x1, bbox.y1)])
        return shapely.box(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))

    def display_box(self, x0: float, y0: float, x1: float, y1: float) -> Any:
        """A box in map metres as a display box."""
        from matplotlib.transforms import Bbox

        return Bbox(self.ax.transData.transform([(x0, y0), (x1, y1)]))
