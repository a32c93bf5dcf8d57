"""Static maps (PNG, SVG, PDF) of the WGS84 layers, drawn in UTM 49N (EPSG:32649) with matplotlib's Agg canvas.

``render_map(spec, out, fmt, size, dpi, title)`` draws a :class:`MapSpec` on a page (A4/A3 landscape or
portrait, or pixels such as ``1920x1080``): the title, the map frame with the districts as the offline
base, a graticule, a scale bar of round kilometres (true at the map's centre: the UTM point scale factor is
applied), a north arrow (true north, rotated by the grid convergence, in a corner free of features), a legend
of what is drawn inside the frame, an optional table beside the map, and a footer with the sources, the CRS
and the date. Every label lies inside its frame. Where marks crowd on a metro map, a detail inset shows them
larger, numbered, with a key table naming each.

The footer names the sources the drawn features cite (``MapSpec.sources``: rows of the register, set by
:mod:`geo.mapspecs`) by title, publisher, kind and date (a related item: its own title, undated), never by
file name; bilingual titles when they fit in ``MAX_SOURCE_LINES`` lines, else Chinese titles, else the
first sources and how many more.

The parts, one module each:

- :mod:`~geo.render.page`: pages, formats and the limits of what a client may ask;
- :mod:`~geo.render.spec`: what to draw (:class:`MapSpec`, :class:`Table`) and what was drawn (:class:`MapFacts`);
- :mod:`~geo.render.geometry`: cartographic arithmetic in UTM metres (extents, frames, scale, fanning out);
- :mod:`~geo.render.artists`: matplotlib primitives (polygons, lines, haloed text, text metrics);
- :mod:`~geo.render.sheet`: the page-sized figure;
- :mod:`~geo.render.canvas`: a map frame drawn in enforced stages (the main map; the inset is a second one);
- :mod:`~geo.render.layers`: base, graticule, overlays and marks;
- :mod:`~geo.render.labels`: numbers, corridor and county names, kept inside the frame;
- :mod:`~geo.render.furniture`: scale bar, north arrow, inset locator, title, footer;
- :mod:`~geo.render.panels`: the page layout, the legend and the table;
- :mod:`~geo.render.inset`: planning the detail inset and its key;
- :mod:`~geo.render.renderer`: the drawing order, and writing the file.

The spec builders, one per export kind, are in :mod:`geo.mapspecs`.

No pyplot: each map is its own ``Figure`` on a ``FigureCanvasAgg`` (the Agg backend, without switching the
process-wide backend); SVG and PDF come from matplotlib's vector backends. A lock keeps one map at a
time per process, since matplotlib's rcParams (fonts, SVG/PDF options) are process-wide.
"""

from __future__ import annotations

from geo import style
from geo.render.artists import (
    add_lines,
    add_polygons,
    fit_text,
    halo_text,
    mpl_path,
    score_cmap,
    text_width_em,
    wrap_text,
)
from geo.render.canvas import MapCanvas, Stage
from geo.render.furniture import (
    BOUNDARY_CREDIT,
    CRS_NOTE,
    GRATICULE_CENTRE_LON,
    GRATICULE_REACH_DEG,
    MAX_SOURCE_LINES,
    NO_SOURCES,
    SOURCES_LABEL,
)
from geo.render.geometry import (
    DRAWABLE_WGS84,
    PT_PER_M,
    Frame,
    clip_extent,
    clusters,
    convergence_deg,
    fit_frame,
    geom_metric,
    metric_extent,
    nice_scale,
    point_scale_factor,
    simplify_coverage,
    spread,
)
from geo.render.page import (
    DPI_RANGE,
    FORMATS,
    MAX_PAGE_PIXELS,
    MAX_TEXT_CHARS,
    MIMETYPES,
    PAGE_MM,
    PIXEL_RANGE,
    SIZES,
    SLIDE_DPI,
    Page,
    check_text,
    format_of,
    parse_dpi,
    parse_page,
)
from geo.render.panels import SECTIONS, Legend, LegendItem
from geo.render.renderer import Renderer, extent_text, render_bytes, render_map
from geo.render.sheet import MARGIN_PT
from geo.render.spec import (
    POINT_LAYERS,
    VISIBLE_DEFAULT,
    InsetFacts,
    LabelFacts,
    MapFacts,
    MapSpec,
    NorthArrowFacts,
    ScaleBarFacts,
    Table,
)

__all__ = ["BOUNDARY_CREDIT", "CRS_NOTE", "DPI_RANGE", "DRAWABLE_WGS84", "FORMATS", "GRATICULE_CENTRE_LON",
           "GRATICULE_REACH_DEG", "MARGIN_PT", "MAX_PAGE_PIXELS", "MAX_SOURCE_LINES", "MAX_TEXT_CHARS", "MIMETYPES",
           "NO_SOURCES", "PAGE_MM", "PIXEL_RANGE", "POINT_LAYERS", "PT_PER_M", "SECTIONS", "SIZES", "SLIDE_DPI",
           "SOURCES_LABEL", "VISIBLE_DEFAULT", "Frame", "InsetFacts", "LabelFacts", "Legend", "LegendItem",
           "MapCanvas", "MapFacts", "MapSpec", "NorthArrowFacts", "Page", "Renderer", "ScaleBarFacts", "Stage",
           "Table", "add_lines", "add_polygons", "check_text", "clip_extent", "clusters", "convergence_deg",
           "extent_text", "fit_frame", "fit_text", "format_of", "geom_metric", "halo_text", "metric_extent",
           "mpl_path", "nice_scale", "parse_dpi", "parse_page", "point_scale_factor", "render_bytes", "render_map",
           "score_cmap", "simplify_coverage", "spread", "style", "text_width_em", "wrap_text"]
