"""The sheet a map is drawn on: one matplotlib ``Figure`` on an Agg canvas (no pyplot), laid out in points from
the page's lower left; text sizes grow a little on A3."""

from __future__ import annotations

from typing import Any

from geo.render.page import Page

#: A box on the page: left, bottom, width, height (points).
Box = tuple[float, float, float, float]
#: The page's margin (points).
MARGIN_PT = 0.36 * 72


class Sheet:
    """A page-sized figure (``fig``), its size in points (``W``, ``H``) and its text scale (``k``)."""

    def __init__(self, page: Page) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.page = page
        self.fig = Figure(figsize=(page.width_in, page.height_in), dpi=page.dpi)
        FigureCanvasAgg(self.fig)
        self.W, self.H = page.width_in * 72, page.height_in * 72
        self.k = 1.15 if page.paper == "A3" else 1.0

    def fs(self, size: float) -> float:
        """A size in points scaled to the page (A3 a little larger)."""
        return size * self.k

    def add_axes(self, box: Box) -> Any:
        """An axes at a box given in page points."""
        left, bottom, w, h = box
        return self.fig.add_axes((left / self.W, bottom / self.H, w / self.W, h / self.H))

    @property
    def renderer(self) -> Any:
        """The Agg renderer (text extents are measured with it, in display pixels)."""
        return self.fig.canvas.get_renderer()

    def points(self, bbox: Any) -> Box:
        """A display-pixel box (matplotlib ``Bbox``) in page points: left, bottom, width, height."""
        f = 72.0 / self.fig.dpi
        return (float(bbox.x0) * f, float(bbox.y0) * f, float(bbox.width) * f, float(bbox.height) * f)
