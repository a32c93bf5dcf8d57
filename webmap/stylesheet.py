"""The colours of :mod:`geo.style` as CSS custom properties (``GET /app/style.css``), so that the web pages and
the printed maps share one definition of the status, corridor, layer and query colours.

Every colour is a ``#rrggbb`` constant of ``geo.style``, checked before it is written, so nothing but those
constants reaches the stylesheet. The variables (on ``:root``):

- ``--cm-status-<status>``: one per status of ``geo.schema.STATUSES`` (``operating``, ``under_construction`` …);
- ``--cm-corridor-<id>`` (``luo-gong`` …) and ``--cm-corridor-other``;
- ``--cm-layer-<layer>``: the colour of a layer's buffer-query hits (``parks``, ``projects`` …);
- ``--cm-query``: the buffer and query point; ``--cm-possible-area``: a stand-in's possible area;
- ``--cm-context``, ``--cm-institution``, ``--cm-chain-ring``, ``--cm-label``, ``--cm-sea``,
  ``--cm-district-fill``, ``--cm-district-fill-other``, ``--cm-district-edge``, ``--cm-city-edge``;
- ``--cm-score-0`` … ``--cm-score-3``: the suitability ramp, low to high;
- ``--cm-ink``, ``--cm-ink-muted``: the pages' text and secondary text.

A translucent fill mixes a variable: ``color-mix(in srgb, var(--cm-possible-area) 6%, transparent)``. No page
stylesheet (``static/app/*.css``) writes a colour of ``geo.style`` as a literal (``tests/webmap/test_css_colours.py``).

Pages link it before their own stylesheets and write ``background: var(--cm-status-planned)``.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache

from flask import Blueprint, Response, request

from geo import style

bp = Blueprint("stylesheet", __name__)

_HEX = re.compile(r"#[0-9a-fA-F]{6}")
_NAME = re.compile(r"[a-z0-9_-]+")


def variables() -> dict[str, str]:
    """The custom properties (name without ``--cm-``, and a ``#rrggbb`` colour), in a stable order."""
    out: dict[str, str] = {}
    out.update({f"status-{s}": c for s, c in style.STATUS_COLORS.items()})
    out.update({f"corridor-{cid}": c for cid, c in style.CORRIDOR_COLORS.items()})
    out["corridor-other"] = style.OTHER_CORRIDOR_COLOR
    out.update({f"layer-{layer}": c for layer, c in style.LAYER_COLORS.items()})
    out.update({"query": style.QUERY_COLOR, "possible-area": style.POSSIBLE_AREA_COLOR,
                "context": style.CONTEXT_COLOR, "institution": style.INSTITUTION_COLOR,
                "chain-ring": style.CHAIN_RING_COLOR, "label": style.LABEL_COLOR, "sea": style.SEA_COLOR,
                "district-fill": style.DISTRICT_FILL, "district-fill-other": style.DISTRICT_FILL_OTHER,
                "district-edge": style.DISTRICT_EDGE, "city-edge": style.CITY_EDGE})
    out.update({f"score-{i}": c for i, c in enumerate(style.SCORE_COLORS)})
    out.update({"ink": style.INK_COLOR, "ink-muted": style.MUTED_INK_COLOR})
    return out


@lru_cache(maxsize=1)
def stylesheet() -> str:
    """The stylesheet's text: one ``:root`` rule of custom properties."""
    lines = ["/* 洛阳都市圈产业走廊地图 · colours of geo.style (shared with the printed maps) */", ":root {"]
    for name, color in variables().items():
        if not (_NAME.fullmatch(name) and _HEX.fullmatch(color)):
            raise ValueError(f"geo.style: {name!r} = {color!r} is not a name and a #rrggbb colour")
        lines.append(f"  --cm-{name}: {color.lower()};")
    lines.append("}")
    return "\n".join(lines) + "\n"


@bp.get("/app/style.css")
def style_css() -> Response:
    """The colours of ``geo.style`` as CSS custom properties (cacheable; revalidated by its ETag)."""
    text = stylesheet()
    etag = hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]
    resp = Response(text, mimetype="text/css")
    resp.set_etag(etag)
    resp.headers["Cache-Control"] = "public, max-age=300"
    return resp.make_conditional(request)
