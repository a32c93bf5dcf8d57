"""The detail inset of a metro map: where marks crowd (6 or more that would overlap at the main map's scale, at
several places), a second canvas shows them larger, numbered, with a key table in the panel naming each; the
main map keeps a locator box. Extents in UTM 49N (EPSG:32649) metres.

A metro map zoomed to a view (``bbox=`` or ``extent=view``: a spec framed exactly, :attr:`MapSpec.view`) needs no
inset: when it shows at most ``MAX_VIEW_KEY`` symbols, each is numbered on the map itself and the same key names
them (:func:`view_key`); with more, the map is drawn as before (no numbers, an inset where marks crowd).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from geo import style
from geo.render.geometry import Frame, clusters, fit_frame, spread
from geo.render.layers import MarkSet
from geo.render.sheet import Box
from geo.render.spec import POINT_LAYERS, MapSpec, Table

#: Map kinds that get a detail inset.
INSET_KINDS: tuple[str, ...] = ("metro", "filtered")
#: The key's columns: number, names, layer, status.
KEY_COLUMNS: list[tuple[str, str]] = [("n", "#"), ("name_zh", "名称"), ("name_en", "Name"), ("layer", "类别"),
                                      ("status", "状态")]
KEY_TITLE = "详图 A 要素 · Features in detail A"
#: The key of a zoomed view's own marks.
VIEW_KEY_TITLE = "图中要素 · Features on the map"
#: Most symbols a zoomed view numbers and names in its key (beyond, numbers would not be readable).
MAX_VIEW_KEY = 40
#: The smallest inset side (points) the panel's free space must offer, else the inset goes in a map corner.
MIN_PANEL_INSET_PT = 120.0


@dataclass
class InsetPlan:
    """A planned inset: its extent (UTM metres), the marks it takes over from the main map (``hide``), the number
    of each mark in the key ('' for none) and the key table (None when the spec has a table of its own)."""

    extent: tuple[float, float, float, float]
    hide: np.ndarray
    numbers: np.ndarray
    key: Table | None


def plan(spec: MapSpec, ms: MarkSet | None, frame: Frame) -> InsetPlan | None:
    """The inset around the largest crowd of marks at this frame's scale (metro maps only), or None."""
    if spec.kind not in INSET_KINDS or ms is None or not len(ms.xy):
        return None
    xy, size = ms.xy, ms.size
    groups = clusters(xy, float(size.max()) * 1.3 * frame.metres_per_pt, ms.symbol)
    # worth a detail only if the marks sit at several places (within 10 m they are one place: a ring will do)
    groups = [g for g in groups if len(g) >= 6 and len({(round(x / 10), round(y / 10)) for x, y in xy[g]}) >= 2]
    big = max(groups, key=len, default=[])
    if not big:
        return None
    (gx0, gy0), (gx1, gy1) = xy[big].min(axis=0), xy[big].max(axis=0)
    side = max(gx1 - gx0, gy1 - gy0, 4500.0) * 1.6
    cx, cy = (gx0 + gx1) / 2, (gy0 + gy1) / 2
    extent = (cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)
    hide = shapely.contains_xy(shapely.box(*extent), xy[:, 0], xy[:, 1])
    numbers, key = key_table(ms, hide) if spec.table is None else (ms.m["label"].fillna("").astype(str).to_numpy(),
                                                                   None)
    return InsetPlan(extent, hide, numbers, key)


def view_key(spec: MapSpec, ms: MarkSet | None, frame: Frame) -> tuple[np.ndarray, Table] | None:
    """Numbers for the symbols inside the frame of a zoomed metro view and the key naming them, when there are
    1 to ``MAX_VIEW_KEY`` of them and the marks have names (else None: the map is drawn without numbers)."""
    if spec.kind not in INSET_KINDS or not spec.view or spec.table is not None or ms is None:
        return None
    inside = shapely.contains_xy(shapely.box(frame.x0, frame.y0, frame.x1, frame.y1), ms.xy[:, 0], ms.xy[:, 1])
    n = int((inside & ms.symbol).sum())
    if not 0 < n <= MAX_VIEW_KEY:
        return None
    numbers, key = key_table(ms, inside, VIEW_KEY_TITLE)
    return None if key is None else (numbers, key)


def key_table(ms: MarkSet, hide: np.ndarray, title: str = KEY_TITLE) -> tuple[np.ndarray, Table | None]:
    """Numbers for the symbols where ``hide`` is true (the inset's: parks, then projects, then institutions, as
    listed) and the key naming them, titled ``title``; no key when the marks have no names."""
    m = ms.m
    numbers = np.full(len(m), "", dtype=object)
    if m["name_zh"].isna().all() and m["name_en"].isna().all():
        return numbers, None
    rank = {layer: i for i, layer in enumerate(POINT_LAYERS)}
    chosen = [i for i in np.flatnonzero(hide & ms.symbol)]
    chosen.sort(key=lambda i: (rank.get(m.at[i, "layer"], len(rank)), int(m.at[i, "order"]) if "order" in m else i))
    rows = []
    for n, i in enumerate(chosen, start=1):
        numbers[i] = str(n)
        r = m.loc[i]
        status = r["status"] if isinstance(r["status"], str) else None
        rows.append({"n": n, "name_zh": _text(r["name_zh"], r["id"]), "name_en": _text(r["name_en"], ""),
                     "layer": style.TABLE_LAYER_LABELS.get(r["layer"], r["layer"]),
                     "status": style.STATUS_LABELS[status][0] if status in style.STATUS_LABELS else "—"})
    return numbers, Table(title, list(KEY_COLUMNS), rows, ("n",), whole=True)


def _text(value: object, default: object) -> str:
    return str(value) if isinstance(value, str) and value else str(default)


def box(map_box: Box, frame: Frame, free: Box | None, xy: np.ndarray, land: shapely.Geometry) -> Box:
    """Where the inset goes (page points): the panel's free space if it offers ``MIN_PANEL_INSET_PT`` each way,
    else the emptier of the map's lower-right and upper-left corners (fewest marks, least land)."""
    if free is not None and free[2] >= MIN_PANEL_INSET_PT and free[3] >= MIN_PANEL_INSET_PT:
        s = min(free[2], free[3])
        return (free[0], free[1] + free[3] - s, free[2], s)
    s, pad = min(map_box[2] * 0.32, map_box[3] * 0.45), 8.0
    corners = [(map_box[0] + map_box[2] - s - pad, map_box[1] + pad),
               (map_box[0] + pad, map_box[1] + map_box[3] - s - pad)]
    mpp = frame.metres_per_pt

    def score(corner: tuple[float, float]) -> float:
        left, bottom = corner
        rect = shapely.box(frame.x0 + (left - map_box[0]) * mpp, frame.y0 + (bottom - map_box[1]) * mpp,
                           frame.x0 + (left + s - map_box[0]) * mpp, frame.y0 + (bottom + s - map_box[1]) * mpp)
        marks = float(shapely.contains_xy(rect, xy[:, 0], xy[:, 1]).sum())
        return 10.0 * marks + 3.0 * shapely.intersection(rect, land).area / rect.area

    left, bottom = min(corners, key=score)
    return (left, bottom, s, s)


def spreads(ms: MarkSet, inset: InsetPlan, where: Box) -> bool:
    """Whether the inset, drawn in ``where``, fans out co-located marks (its legend row is needed)."""
    frame = fit_frame(inset.extent, where)
    inside = shapely.contains_xy(shapely.box(frame.x0, frame.y0, frame.x1, frame.y1), ms.xy[:, 0], ms.xy[:, 1])
    sub = ms.subset(inside)
    if not len(sub.xy):
        return False
    _, spokes = spread(sub.xy, sub.size, frame.metres_per_pt, symbol=sub.symbol)
    return bool(spokes)
