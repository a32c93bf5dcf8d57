"""Drawing a :class:`~geo.render.spec.MapSpec` on a page, in one fixed order, and writing it as PNG, SVG or PDF.

The order (each step needs what the ones before it drew):

1. plan: the page layout, the main frame (UTM 49N) and either, on a metro map zoomed to a view with at most
   ``inset.MAX_VIEW_KEY`` symbols in its frame, their numbers and the key naming them, or, on a metro map where
   marks crowd, the detail inset and its key (a key is a table, so the layout is planned again with it);
2. the main canvas's layers: base, graticule, overlays, marks (with their numbers); the legend collects what
   falls inside the frame;
3. the panel is measured, the inset placed (in the panel's free space, else a map corner) and the panel drawn;
4. the inset canvas: its layers, scale bar, title and county labels;
5. the main canvas's furniture (the inset's locator, the scale bar in the lower corner with fewer drawn features
   and never over the inset, the north arrow in a free corner) and then its labels (corridor and county names),
   which avoid everything drawn;
6. the page's title and footer.

The stages of each canvas are enforced by :class:`~geo.render.canvas.MapCanvas` (a label cannot be placed
before what it must avoid). A lock keeps one map at a time per process: matplotlib's rcParams (fonts, SVG/PDF
options) are process-wide.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import threading
from typing import IO, Any

import numpy as np
import pandas as pd
import shapely

from geo import crs
from geo.fonts import font_families
from geo.render import furniture, inset, labels, layers
from geo.render.canvas import MapCanvas, Stage
from geo.render.furniture import CRS_NOTE
from geo.render.geometry import PT_PER_M, Frame, fit_frame, metric_extent
from geo.render.page import Page, check_text, format_of, parse_page
from geo.render.panels import Legend, Panel, layout
from geo.render.sheet import Box, Sheet
from geo.render.spec import InsetFacts, MapFacts, MapSpec, Table

_LOCK = threading.Lock()


class Renderer:
    """Draws one spec on one sheet (see the module docstring for the order)."""

    def __init__(self, spec: MapSpec, page: Page, title: str | None, date: str) -> None:
        self.spec, self.title, self.date = spec, title, date
        self.sheet = Sheet(page)
        self.legend = Legend()
        self.source_entries, self.source_lines = furniture.sources_footer(self.sheet, spec.sources)

    @property
    def fig(self) -> Any:
        """The matplotlib figure."""
        return self.sheet.fig

    def plan(self) -> tuple[Box, Box, Frame, layers.MarkSet | None, inset.InsetPlan | None, Table | None,
                            np.ndarray | None]:
        """The map and panel boxes, the main frame, the marks, the inset (if any), the panel's table and, on a
        zoomed view with few marks, their numbers (keyed to the table, which then names them)."""
        spec, sheet = self.spec, self.sheet
        marks = layers.marks_metric(spec, sheet.k)
        bounds = spec.extent or tuple(spec.districts.total_bounds)  # type: ignore[union-attr]
        extent = metric_extent(bounds, spec.min_extent_km, spec.pad)
        map_box, panel_box = layout(sheet, len(self.source_lines), spec.table)
        frame = fit_frame(extent, map_box)
        if (keyed := inset.view_key(spec, marks, frame)) is not None:
            # room for the key; the frame narrows with the map box, so what it shows is numbered again
            wide = map_box, panel_box, frame
            map_box, panel_box = layout(sheet, len(self.source_lines), keyed[1])
            frame = fit_frame(extent, map_box)
            keyed = inset.view_key(spec, marks, frame)
            if keyed is not None:
                return map_box, panel_box, frame, marks, None, keyed[1], keyed[0]
            map_box, panel_box, frame = wide
        detail = inset.plan(spec, marks, frame)
        if detail is None or detail.key is None:
            return map_box, panel_box, frame, marks, detail, spec.table, None
        map_box, panel_box = layout(sheet, len(self.source_lines), detail.key)  # room for the key
        frame = fit_frame(extent, map_box)
        detail = inset.plan(spec, marks, frame) or detail
        return map_box, panel_box, frame, marks, detail, detail.key or spec.table, None

    def draw(self) -> MapFacts:
        """Draw the whole page; return the facts."""
        spec, sheet, legend = self.spec, self.sheet, self.legend
        map_box, panel_box, frame, marks, detail, table, numbers = self.plan()
        main = MapCanvas(sheet, map_box, frame)
        layers.draw_base(main, spec, legend)
        layers.draw_graticule(main)
        to_label = layers.draw_overlays(main, spec, legend)
        seen: list[pd.DataFrame] = []
        spread_any = False
        symbols = 0
        if marks is not None:
            drawn = layers.draw_marks(main, marks.subset(~detail.hide) if detail else marks, numbers=numbers)
            seen.append(drawn.shown)
            spread_any, symbols = drawn.spread, drawn.symbols
            if detail is not None:
                seen.append(marks.m[detail.hide])
            layers.mark_legend(legend, pd.concat(seen, ignore_index=True), spread_any)
        if detail is not None and detail.key is not None:
            legend.add("number", "编号见详图 A 要素表", "Numbers in detail A refer to its table", "layers", text="1")
        if numbers is not None:
            legend.add("number", "编号见图中要素表", "Numbers refer to the table of features", "layers", text="1")

        panel = Panel(sheet, panel_box)
        inset_facts = None
        avoid = []
        if detail is not None and marks is not None:
            land = shapely.union_all(main.districts.geometry.values) if main.districts is not None \
                else shapely.Polygon()
            where = inset.box(map_box, frame, panel.free_box(legend, spec.notes, table), marks.xy, land)
            if not legend.has("spoke") and inset.spreads(marks, detail, where):
                layers.spoke_legend(legend)
                where = inset.box(map_box, frame, panel.free_box(legend, spec.notes, table), marks.xy, land)
            panel.draw(legend, spec.notes, table)
            detail_canvas = self.draw_inset(detail, marks, where)
            main.obstacles.append(detail_canvas.ax.bbox.frozen())
            avoid.append(detail_canvas.ax.bbox.frozen())
            symbols += int((detail.hide & marks.symbol).sum())
            inset_facts = self.inset_facts(detail, detail_canvas)
            furniture.inset_locator(main, detail.extent)
        else:
            panel.draw(legend, spec.notes, table)
            detail_canvas = None

        bar = furniture.scale_bar(main, avoid=avoid)
        gamma, north = furniture.north_arrow(main)
        labels.corridor_labels(main, to_label)
        labels.district_labels(main)

        texts = furniture.title(sheet, spec, self.title, map_box)
        texts += furniture.footer(sheet, self.source_lines, self.date, map_box, panel_box)
        canvases = [main] + ([detail_canvas] if detail_canvas is not None else [])
        for c in canvases:
            c.ax.set_xlabel("")
            c.ax.set_ylabel("")
        facts = self.facts(main, bar, gamma, map_box, table, panel.table_rows, symbols)
        facts.north_arrow, facts.inset = north, inset_facts
        facts.labels = [label for c in canvases for label in c.labels]
        facts.texts = [t for t in [*panel.texts, *texts, *(t for c in canvases for t in c.texts)] if t]
        return facts

    def draw_inset(self, detail: inset.InsetPlan, marks: layers.MarkSet, where: Box) -> MapCanvas:
        """The detail inset (labelled A, its marks numbered as its key), with its own scale bar and county names."""
        spec = self.spec
        c = MapCanvas(self.sheet, where, fit_frame(detail.extent, where), zorder=5, name="inset")
        layers.draw_base(c, spec, None)
        layers.draw_overlays(c, spec, None, detail=True)
        layers.draw_marks(c, marks, numbers=detail.numbers)
        furniture.scale_bar(c, compact=True)
        furniture.inset_title(c, int((detail.hide & marks.symbol).sum()))
        labels.district_labels(c)
        return c

    @staticmethod
    def inset_facts(detail: inset.InsetPlan, c: MapCanvas) -> InsetFacts:
        """Where the inset went and what it shows."""
        f = c.frame
        lon, lat = crs.from_metric(np.array([f.x0, f.x1, f.x0, f.x1]), np.array([f.y0, f.y0, f.y1, f.y1]))
        return InsetFacts((f.x0, f.y0, f.x1, f.y1),
                          (float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())), c.box,
                          int(detail.hide.sum()), int((detail.numbers != "").sum()))

    def facts(self, main: MapCanvas, bar: Any, north: float, map_box: Box, table: Table | None, table_rows: int,
              symbols: int) -> MapFacts:
        """What was drawn, for the caller and the tests."""
        f, page = main.frame, self.sheet.page
        lon, lat = crs.from_metric(np.array([f.x0, f.x1, f.x0, f.x1]), np.array([f.y0, f.y0, f.y1, f.y1]))
        total = (table.total if table.total is not None else len(table.rows)) if table else 0
        assert main.stage == Stage.LABELS
        return MapFacts(
            format="", size=page.name, page_in=(page.width_in, page.height_in), page_pt=(self.sheet.W, self.sheet.H),
            dpi=page.dpi, pixels=page.pixels, title=self.title or self.spec.title_zh,
            extent_metric=(f.x0, f.y0, f.x1, f.y1),
            extent_wgs84=(float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())),
            map_box_pt=map_box, metres_per_pt=f.metres_per_pt,
            scale_denominator=f.metres_per_pt / bar.scale_factor * PT_PER_M, scale_bar=bar,
            north_convergence_deg=north, legend=self.legend.texts(), table_rows=table_rows,
            table_total=total, marks=symbols, date=self.date, sources=list(self.source_entries))


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
        r = Renderer(spec, page, text, day)
        facts = r.draw()
        facts.format = kind
        _save(r.fig, out, kind, page, facts)
    return facts


def _literal_texts(fig: Any) -> None:
    """Make sure no text of the figure is parsed as mathtext (each was made under ``text.parse_math: False``)."""
    from matplotlib.text import Text

    for t in fig.findobj(Text):
        t.set_parse_math(False)


def extent_text(facts: MapFacts) -> str:
    """The drawn frame's WGS84 box as ``west,south,east,north`` (degrees, 6 decimals)."""
    return ",".join(f"{v:.6f}" for v in facts.extent_wgs84)


def _save(fig: Any, out: str | os.PathLike[str] | IO[bytes], kind: str, page: Page, facts: MapFacts) -> None:
    """Write the figure: PNG through Pillow as RGB with its dpi and text chunks (title, extent, CRS, scale),
    SVG/PDF through matplotlib (no timestamps)."""
    _literal_texts(fig)
    if kind == "png":
        from PIL import Image
        from PIL.PngImagePlugin import PngInfo

        fig.canvas.draw()
        rgba = np.asarray(fig.canvas.buffer_rgba())
        info = PngInfo()
        info.add_itxt("Title", facts.title)
        info.add_text("Software", "Luoyang industrial-corridor map (geo.render)")
        info.add_text("Extent", f"{extent_text(facts)} (WGS84 west,south,east,north)")
        info.add_text("CRS", CRS_NOTE)
        info.add_text("Scale", f"1:{facts.scale_denominator:.0f}")
        Image.fromarray(np.ascontiguousarray(rgba[..., :3]), "RGB").save(
            out, format="PNG", dpi=(page.dpi, page.dpi), compress_level=6, pnginfo=info)
        facts.pixels = (int(rgba.shape[1]), int(rgba.shape[0]))
        return
    meta: dict[str, Any] = {"Title": facts.title, "Creator": "Luoyang industrial-corridor map (geo.render)"}
    if kind == "pdf":
        meta.update({"CreationDate": None, "Subject": CRS_NOTE, "Keywords": f"extent {extent_text(facts)} WGS84"})
    else:
        meta.update({"Date": facts.date, "Description": CRS_NOTE})
    fig.savefig(out, format=kind, dpi=page.dpi, metadata=meta)


def render_bytes(spec: MapSpec, fmt: str, **kwargs: Any) -> tuple[bytes, MapFacts]:
    """Render to memory; return the file's bytes and the facts."""
    buf = io.BytesIO()
    facts = render_map(spec, buf, fmt, **kwargs)
    return buf.getvalue(), facts
