"""Matplotlib primitives of the static maps: shapely geometries as path and line collections, text with a halo
that stays text in SVG/PDF, the score ramp, and rough text metrics (points) for laying out labels and tables.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

import numpy as np
import shapely

from geo import style
from geo.fonts import text_width_em
from geo.render.geometry import line_parts


def mpl_path(geom: shapely.Geometry) -> Any:
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

    paths = [mpl_path(g) for g in geoms if g is not None and not g.is_empty]
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
        for xy in line_parts(g):
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


def move_text(t: Any, x: float, y: float) -> None:
    """Move a halo text and its halo."""
    t.set_position((x, y))
    t.halo.set_position((x, y))


def remove_text(t: Any) -> None:
    """Remove a halo text and its halo."""
    t.halo.remove()
    t.remove()


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

