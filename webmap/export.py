"""Exports (``/export/``): static maps (PNG, SVG, PDF) and data downloads (GeoJSON, CSV, GeoPackage).

Both take the main map's permalink parameters, so an "export" link is the permalink with another path:
``layers``, the filters ``corridor``, ``status``, ``chain_link``, ``district``, ``q``, and a buffer query
``qlon``/``qlat`` (or ``qfeature``) with ``qr`` km and ``qlayer``; ``lat``/``lon``/``z`` set the extent only
with ``extent=view``. What is drawn: a buffer query if there is one; else a site ranking if ``industry``
is given (the /site parameters); else the corridor map if ``corridor`` is the only filter and names one
corridor; else the metro area with the filters. Map options: ``title``, ``size`` (A4-landscape,
A4-portrait, A3-landscape, A3-portrait or pixels like 1920x1080), ``dpi`` (50–600, default 300 for
PNG), ``download=1`` for an attachment. Positions are WGS84; maps are drawn in UTM 49N (EPSG:32649).
"""

from __future__ import annotations

import math
from typing import Any

from flask import Blueprint, Response, request

from geo import downloads, filters, mapspecs, render
from geo.errors import ValidationError
from geo.dataset import Dataset as Data
from webmap.data import current_data

bp = Blueprint("export", __name__, url_prefix="/export")

#: The browser viewport assumed when ``extent=view`` turns a permalink's zoom into an extent (CSS px).
VIEW_PX = (1280, 800)


def _args() -> dict[str, Any]:
    return request.args.to_dict(flat=False)


def _one(name: str) -> str | None:
    value = request.args.get(name)
    return value.strip() if value and value.strip() else None


def _has_query() -> bool:
    return _one("qr") is not None and (_one("qfeature") is not None or
                                       (_one("qlon") is not None and _one("qlat") is not None))


def _near(data: Data):
    """Run the permalink's buffer query (qlon/qlat or qfeature, qr km, qlayer, crs)."""
    layer = _one("qlayer")
    return data.engine.near(radius_km=_one("qr"), lon=_one("qlon") if not _one("qfeature") else None,
                            lat=_one("qlat") if not _one("qfeature") else None, feature=_one("qfeature"),
                            system=_one("crs") or "wgs84",
                            layer=layer.split(",") if layer and layer != "all" else None)


def _site(data: Data):
    """Run the /site ranking of the request (industry, weights, constraints, top)."""
    try:
        from geo import siting
        from webmap.api import site_args
    except ImportError:  # pragma: no cover - siting ships with the app
        raise ValidationError("site selection is not available yet", field="industry") from None
    return siting.rank_parks(data.layers, engine=data.engine, **site_args(request.args))


def _visible() -> list[str] | None:
    raw = _one("layers")
    return [v.strip() for v in raw.split(",") if v.strip()] if raw is not None else None


def view_extent(lat: object, lon: object, z: object) -> tuple[float, float, float, float]:
    """The WGS84 box a browser of ``VIEW_PX`` CSS pixels shows at a Web Mercator zoom level."""
    try:
        la, lo, zoom = float(lat), float(lon), float(z)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValidationError("extent=view needs numbers lat, lon and z", field="z") from None
    if not (-85 < la < 85 and -180 <= lo <= 180 and 0 <= zoom <= 22):
        raise ValidationError(f"expected -85 < lat < 85, -180 <= lon <= 180, 0 <= z <= 22; got {la}, {lo}, {zoom}",
                              field="z")
    m_per_px = 156543.03392 * math.cos(math.radians(la)) / 2 ** zoom
    half_w, half_h = VIEW_PX[0] / 2 * m_per_px, VIEW_PX[1] / 2 * m_per_px
    dlon, dlat = half_w / (111_320 * math.cos(math.radians(la))), half_h / 110_574
    return lo - dlon, la - dlat, lo + dlon, la + dlat


def build_spec(data: Data) -> render.MapSpec:
    """The map the request asks for (see the module docstring), from the app's layers (WGS84)."""
    layers = data.layers
    if _has_query():
        return mapspecs.near_map(layers, _near(data))
    if _one("industry"):
        result = _site(data)
        surface = None
        if request.args.get("surface") in ("1", "true", "yes"):
            from geo import siting

            surface = siting.suitability_surface(layers, industry_id=result.industry["id"],
                                                 weights=request.args.get("weights") or None)
        return mapspecs.ranking_map(layers, result.ranking, surface=surface,
                                  subject=(str(result.industry["name_zh"]), str(result.industry["name_en"])))
    wanted = filters.Filters.from_mapping(_args())
    filters.validate(wanted, layers)
    if len(wanted.corridor) == 1 and wanted.as_params().keys() == {"corridor"}:
        return mapspecs.corridor_map(layers, wanted.corridor[0], belts=data.belts, joined=data.joined)
    spec = mapspecs.metro_map(layers, belts=data.belts, filters=wanted, joined=data.joined, visible=_visible())
    if (_one("extent") or "auto") == "view":
        spec.extent, spec.pad, spec.min_extent_km = view_extent(_one("lat"), _one("lon"), _one("z")), 0.0, 1.0
    elif _one("extent") not in (None, "auto"):
        raise ValidationError(f"unknown extent {_one('extent')!r}; expected auto or view", field="extent")
    return spec


def _attach(resp: Response, filename: str) -> Response:
    how = "attachment" if request.args.get("download") in ("1", "true", "yes") else "inline"
    resp.headers["Content-Disposition"] = f'{how}; filename="{filename}"'
    return resp


@bp.get("/map.<fmt>")
def map_file(fmt: str) -> Response:
    """The map of the permalink's state as PNG, SVG or PDF (title, legend, scale bar, north arrow, sources)."""
    kind = render.format_of(None, fmt)
    data = current_data()
    spec = build_spec(data)
    default_dpi = 300 if kind == "png" else 150
    body, facts = render.render_bytes(spec, kind, size=_one("size") or "A4-landscape",
                                      dpi=_one("dpi") or default_dpi, title=_one("title"))
    resp = Response(body, mimetype=render.MIMETYPES[kind])
    resp.headers["X-Map-Scale"] = f"1:{facts.scale_denominator:.0f}"
    resp.headers["X-Map-Scale-Bar-Km"] = f"{facts.scale_bar.length_km:g}"
    resp.headers["X-Map-CRS"] = facts.crs
    return _attach(resp, f"luoyang-{spec.kind}.{kind}")


@bp.get("/data.<fmt>")
def data_file(fmt: str) -> Response:
    """Data of the permalink's state: a layer (``layer=``, with the filters), the buffer query, or a ranking."""
    key = downloads.check_format(fmt)
    data = current_data()
    if _has_query():
        body, mimetype, name = downloads.near_download(_near(data), key)
    elif _one("industry"):
        result = _site(data)
        body, mimetype, name = downloads.ranking_download(result.ranking, key, f"site-{result.industry['id']}",
                                                          industry=result.industry, weights=result.weights)
    elif _one("layer"):
        wanted = filters.Filters.from_mapping(_args())
        body, mimetype, name = downloads.layer_download(data.layers, str(_one("layer")), key, wanted=wanted,
                                                        joined=data.joined, belts=data.belts)
    else:
        raise ValidationError("give layer=<name>, a buffer query (qlon and qlat, or qfeature, with qr) or industry",
                              field="layer")
    return _attach(Response(body, mimetype=mimetype), name)
