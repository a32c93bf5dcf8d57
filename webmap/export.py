"""Exports (``/export/``): static maps (PNG, SVG, PDF) and data downloads (GeoJSON, CSV, GeoPackage).

Both take the main map's permalink parameters, so an "export" link is the permalink with another path:
``layers``, the filters ``corridor``, ``status``, ``chain_link``, ``district``, ``q``, and a buffer query
``qlon``/``qlat`` (or ``qfeature``) with ``qr`` km and ``qlayer``. The map shows its subject's own extent
(``extent=auto``, the default) or the browser's view (``extent=view``): the box ``bbox=west,south,east,north``
(WGS84 degrees, as Leaflet's ``map.getBounds()`` gives it; ``bbox`` alone implies ``extent=view``), else the
permalink's ``lat``/``lon``/``z`` in a browser of ``VIEW_PX``; either way the part of it a UTM 49N map can draw
(``geo.render.DRAWABLE_WGS84``), for every kind of map. What is
drawn: a buffer query if there is one; else a site ranking if ``industry`` is given (the /site parameters);
else the corridor map if ``corridor`` is the only filter and names one corridor; else the metro area with
the filters. Map options: ``title`` (at most 200 characters, no control characters; drawn literally, as
every text), ``size`` (A4-landscape, A4-portrait, A3-landscape, A3-portrait or pixels like 1920x1080, each
side 320..8000), ``dpi`` (50–600, default 300 for PNG), at most 40 Mpx per map (the limits are
``geo.render``'s ``DPI_RANGE``, ``PIXEL_RANGE``, ``MAX_PAGE_PIXELS``, ``MAX_TEXT_CHARS``), ``download=1`` for
an attachment (an SVG is always one: shown inline it could run script). Errors name the parameter as sent
(``qr``, not the query engine's ``radius_km``). Positions are WGS84; maps are drawn in UTM 49N (EPSG:32649).
A map's response says what it shows: ``X-Map-Extent`` (the drawn frame, WGS84 ``west,south,east,north``),
``X-Map-Scale``, ``X-Map-Scale-Bar-Km`` and ``X-Map-CRS``; a PNG carries the extent in its text chunks too.

This module only reads the request (:func:`map_subject`, :func:`data_subject`) and builds the response: what
a map or a download holds is :mod:`geo.exports`' plan, the one ``run.py export`` uses too.
"""

from __future__ import annotations

import math
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from datetime import date
from typing import Any

from flask import Blueprint, Response, request

from geo import downloads, exports, filters, formats, params, render
from geo.dataset import Dataset as Data
from geo.errors import ValidationError
from geo.params import SYSTEMS
from geo.query import QueryEngine
from webmap.api import data_as_of, request_args

bp = Blueprint("export", __name__, url_prefix="/export")

#: The browser viewport assumed when ``extent=view`` turns a permalink's zoom into an extent (CSS px).
VIEW_PX = (1280, 800)
#: Web Mercator (Leaflet's EPSG:3857): the sphere's radius (m), the tile size (px) and the latitude limit.
MERCATOR_R = 6378137.0
TILE_PX = 256
MAX_VIEW_LAT = 85.0511287798
MAX_VIEW_Z = 22
#: Values of ``download`` (yes: an attachment).
DOWNLOAD_VALUES = ("0", "1", "true", "false", "yes", "no")
#: What the buffer query's parameters are called in ``geo.query`` and in an export's URL (errors name the latter).
QUERY_PARAMS: dict[str, str] = {"radius_km": "qr", "lon": "qlon", "lat": "qlat", "feature": "qfeature",
                                "layer": "qlayer", "system": "crs"}


def _args() -> dict[str, Any]:
    return request.args.to_dict(flat=False)


def _one(name: str) -> str | None:
    value = request.args.get(name)
    return value.strip() if value and value.strip() else None


def _has_query() -> bool:
    """Whether the permalink holds a buffer query: ``qr`` with ``qfeature`` or both ``qlon`` and ``qlat``.

    The map writes these together; one without the others is refused (naming what is missing) rather
    than ignored, so that a bad ``qr`` or ``qlon`` is never silently dropped."""
    certain = _one("qcertain")
    if certain not in (None, "true", "false"):
        raise ValidationError(f"qcertain={certain[:40]!r}: expected true (only the hits certainly within the "
                              "radius) or false", field="qcertain")
    given = {name for name in ("qr", "qlon", "qlat", "qfeature", "qlayer") if _one(name) is not None}
    given |= {"qcertain"} if certain == "true" else set()
    if not given:
        return False
    if "qr" not in given:
        raise ValidationError(f"{min(given)} belongs to a buffer query: give its radius qr (km) with qlon and qlat, "
                              "or qfeature", field="qr")
    with params.spelt_as(**QUERY_PARAMS):
        QueryEngine.radius_m(_one("qr"))
    if "qfeature" in given:
        return True
    for name in ("qlon", "qlat"):
        if name not in given:
            raise ValidationError(f"a buffer query needs qlon and qlat (or qfeature) with qr; {name} is missing",
                                  field=name)
    return True


def _check_crs(query: bool) -> None:
    """``crs`` names the system of the buffer query's qlon/qlat (or of a site constraint's lon/lat)."""
    system = _one("crs")
    if system is None:
        return
    if system not in SYSTEMS:
        raise ValidationError(f"unknown crs {system[:40]!r}; expected one of: {', '.join(SYSTEMS)}", field="crs")
    if not (query and _one("qfeature") is None) and not _one("industry"):
        raise ValidationError("crs is the system of qlon and qlat (a buffer query) or of lon and lat (with "
                              "industry); give them or drop crs", field="crs")


def _near() -> exports.Near:
    """The permalink's buffer query (qlon/qlat or qfeature, qr km, qlayer, crs)."""
    layer = _one("qlayer")
    feature = _one("qfeature")
    return exports.Near(radius_km=_one("qr"), lon=_one("qlon") if not feature else None,
                        lat=_one("qlat") if not feature else None, feature=feature, system=_one("crs") or "wgs84",
                        layers=None if layer is None else tuple(v.strip() for v in layer.split(",")),
                        certain_only=_one("qcertain") == "true")


def _site(data: Data) -> exports.Site:
    """The /site ranking of the request (industry, weights, constraints, top; ``surface=1`` draws the surface)."""
    from webmap.api import request_args, site_args

    return exports.Site(**site_args(request_args(), data),
                        surface=request.args.get("surface") in ("1", "true", "yes"))


def _spelt_as_sent(subject: exports.Subject) -> AbstractContextManager[None]:
    """Errors of a buffer query name its parameters as an export takes them (qr, qlon …), not as the engine."""
    return params.spelt_as(**QUERY_PARAMS) if isinstance(subject, exports.Near) else nullcontext()


def _visible() -> list[str] | None:
    raw = _one("layers")
    return [v.strip() for v in raw.split(",") if v.strip()] if raw is not None else None


def _view_number(raw: str | None, name: str, low: float | None = None, high: float | None = None) -> float:
    """A finite number of the permalink's view (lat, lon, z), within [low, high] when given."""
    if raw is None:
        raise ValidationError(f"extent=view needs the permalink's view: lat, lon and z; {name} is missing",
                              field=name)
    return params.parse_number(raw, name, minimum=low, maximum=high)


def view_extent(lat: object, lon: object, z: object) -> tuple[float, float, float, float]:
    """The WGS84 box a browser of ``VIEW_PX`` CSS pixels shows at a Web Mercator zoom level (Leaflet's
    EPSG:3857), clipped to what a map can show (``geo.render.DRAWABLE_WGS84``).

    Exact in Web Mercator, so a low zoom's box ends at the projection's ±85.05° and wraps round the world
    instead of running past the poles; the part of it that a UTM 49N map can draw is returned (on either
    side of the antimeridian). A view showing none of that is a ValidationError naming ``lat`` or ``lon``."""
    la = _view_number(None if lat is None else str(lat), "lat", -MAX_VIEW_LAT, MAX_VIEW_LAT)
    lo = _view_number(None if lon is None else str(lon), "lon")
    zoom = _view_number(None if z is None else str(z), "z", 0, MAX_VIEW_Z)
    lo = (lo + 180.0) % 360.0 - 180.0  # Leaflet's centre keeps counting past ±180 as one pans round the world
    m_per_px = 2 * math.pi * MERCATOR_R / (TILE_PX * 2 ** zoom)  # Mercator metres per CSS pixel
    half_w, half_h = VIEW_PX[0] / 2 * m_per_px, VIEW_PX[1] / 2 * m_per_px
    cy = MERCATOR_R * math.log(math.tan(math.pi / 4 + math.radians(la) / 2))
    top = math.pi * MERCATOR_R  # the Mercator square's edge, at ±85.05°

    def lat_of(y: float) -> float:
        return math.degrees(2 * math.atan(math.exp(max(-top, min(top, y)) / MERCATOR_R)) - math.pi / 2)

    south, north = lat_of(cy - half_h), lat_of(cy + half_h)
    dlon = min(math.degrees(half_w / MERCATOR_R), 180.0)
    west, east = lo - dlon, lo + dlon
    for shift in (0.0, 360.0, -360.0):
        got = render.clip_extent((west + shift, south, east + shift, north))
        if got is not None:
            return got
    w0, s0, e0, n0 = render.DRAWABLE_WGS84
    field = "lat" if north < s0 or south > n0 else "lon"
    raise ValidationError(f"the view at lat {la:g}, lon {lo:g}, z {zoom:g} shows nothing a map can draw: maps are "
                          f"drawn in UTM 49N for lon {w0:g}..{e0:g} and lat {s0:g}..{n0:g} (WGS84)", field=field)


def _query_or_site(data: Data) -> exports.Subject | None:
    """The buffer query of the permalink if it has one, else a site ranking if ``industry`` is given."""
    query = _has_query()
    _check_crs(query)
    if query:
        return _near()
    if _one("industry"):
        return _site(data)
    return None


def map_extent() -> tuple[float, float, float, float] | None:
    """The WGS84 box the request's map shows (``extent=view``: ``bbox``, else the permalink's lat/lon/z), or
    None to fit what the map draws (``extent=auto``)."""
    extent = _one("extent")
    if extent not in (None, "auto", "view"):
        raise ValidationError(f"unknown extent {str(extent)[:40]!r}; expected auto or view", field="extent")
    bbox = _one("bbox")
    if bbox is not None:
        if extent == "auto":
            raise ValidationError("bbox is the view shown: give it with extent=view (or alone), not extent=auto",
                                  field="bbox")
        return exports.parse_bbox(bbox, "bbox")
    if extent == "view":
        return view_extent(_one("lat"), _one("lon"), _one("z"))
    return None


def map_output(fmt: str) -> exports.MapOutput:
    """How the request's map is drawn: format, page size, dpi, title and extent, checked before any work."""
    output = exports.MapOutput(fmt, size=_one("size") or exports.DEFAULT_SIZE, dpi=_one("dpi"),
                               title=request.args.get("title"))
    view = map_extent()
    return output if view is None else replace(output, extent=view)


def map_subject(data: Data) -> exports.Subject:
    """What the request's map shows (see the module docstring), checked in the order the parameters are read;
    the extent shown is :func:`map_extent`'s."""
    subject = _query_or_site(data)
    if subject is not None:
        return subject
    wanted = _filters(data)
    if len(wanted.corridor) == 1 and wanted.as_params().keys() == {"corridor"}:
        return exports.Corridor(wanted.corridor[0])
    visible = _visible()
    return exports.Metro(wanted, visible=None if visible is None else tuple(visible))


def build_spec(data: Data) -> render.MapSpec:
    """The map the request asks for (see the module docstring), from the app's layers (WGS84)."""
    view = map_extent()
    subject = map_subject(data)
    with _spelt_as_sent(subject):
        return exports.map_spec(data, subject, view)


def _filters(data: Data) -> filters.Filters:
    """The permalink's filters, checked: known values, and a name search ``q`` that is drawn as text (bounded
    like a title, no control characters)."""
    render.check_text(request.args.get("q"), "q")
    return exports.check_filters(filters.Filters.from_mapping(_args()), data)


def _download_wanted() -> bool:
    """``download=1|true|yes`` (or ``0|false|no``, the default): whether the file is sent as an attachment."""
    download = request.args.get("download")
    if download is not None and download not in DOWNLOAD_VALUES:
        raise ValidationError(f"expected one of {', '.join(DOWNLOAD_VALUES)}, got {download[:40]!r}",
                              field="download")
    return download in ("1", "true", "yes")


def _attach(resp: Response, filename: str) -> Response:
    """Name the file; ``download=1`` makes it an attachment, and an SVG always is one (a browser showing an
    SVG inline, at the app's origin, would run any script in it)."""
    svg = filename.lower().endswith(".svg")
    how = "attachment" if svg or _download_wanted() else "inline"
    resp.headers["Content-Disposition"] = f'{how}; filename="{filename}"'
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


@bp.get("/map.<fmt>")
def map_file(fmt: str) -> Response:
    """The map of the permalink's state as PNG, SVG or PDF (title, legend, scale bar, north arrow, sources)."""
    # the page, the title and the extent first: a request beyond the limits is refused before any work
    output = map_output(fmt)
    _download_wanted()
    data = _data()

    def draw() -> tuple[bytes, render.MapFacts, str]:
        subject = map_subject(data)
        with _spelt_as_sent(subject):
            drawn = exports.draw_map(data, subject, output)
        return drawn.body or b"", drawn.facts, drawn.spec.kind

    # a map depends only on the data version, the parameters and the date printed on it
    key = ("map", output.fmt, tuple(sorted(request.args.items(multi=True))), date.today().isoformat())
    body, facts, spec_kind = data.cached(key, draw)
    resp = Response(body, mimetype=render.MIMETYPES[output.fmt])
    resp.headers["X-Map-Scale"] = f"1:{facts.scale_denominator:.0f}"
    resp.headers["X-Map-Scale-Bar-Km"] = f"{facts.scale_bar.length_km:g}"
    resp.headers["X-Map-CRS"] = facts.crs
    resp.headers["X-Map-Extent"] = render.extent_text(facts)
    return _attach(resp, f"luoyang-{spec_kind}.{output.fmt}")


def _data() -> Data:
    """The request's snapshot, or (``as_of=YYYY-MM-DD``, the map's time view) the ledger as it stood that day."""
    return data_as_of(request_args())


def data_subject(data: Data) -> exports.Subject:
    """What the request's download holds: the buffer query, else a ranking (``industry``), else a layer."""
    subject = _query_or_site(data)
    if subject is not None:
        return subject
    if _one("layer"):
        return exports.Layer(str(_one("layer")), _filters(data))
    wanted = _filters(data)
    if len(wanted.corridor) == 1 and wanted.as_params().keys() == {"corridor"}:
        return exports.Corridor(wanted.corridor[0])  # a corridor's parks and projects, as `run.py export --corridor`
    raise ValidationError("give layer=<name>, a buffer query (qlon and qlat, or qfeature, with qr), industry, or "
                          "one corridor", field="layer")


@bp.get("/data.<fmt>")
def data_file(fmt: str) -> Response:
    """Data of the permalink's state: a layer (``layer=``, with the filters), the buffer query, or a ranking."""
    key = downloads.check_format(fmt)
    _download_wanted()
    data = _data()
    subject = data_subject(data)
    with _spelt_as_sent(subject):
        body, mimetype, name = exports.download(data, subject, key)
    body, mimetype = formats.encode_download(body, mimetype, key, request.args.get("encoding"))
    return _attach(Response(body, mimetype=mimetype), name)
