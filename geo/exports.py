"""Exports, planned once for every caller: what a static map (PNG, SVG, PDF; drawn in UTM 49N) or a data file
(GeoJSON, CSV, GeoPackage; WGS84) of the metro area, a corridor, a buffer query, a site ranking or a layer holds.

The command line (``run.py export``, :mod:`cli.export`) and the web (``/export/map.<fmt>``,
``/export/data.<fmt>``, :mod:`webmap.export`) each read what they were asked into a *subject* and, for a map,
a :class:`MapOutput`; this module turns them, with one :class:`~geo.dataset.Dataset` snapshot, into the
:class:`~geo.render.MapSpec` to draw (:func:`map_spec`), the drawn map (:func:`draw_map`) or the data
download ``(bytes, mimetype, filename)`` (:func:`download`). So the two can never drift: the same subject
gives the same map and the same bytes, whoever asks.

Subjects (frozen dataclasses; positions WGS84 unless ``system`` says otherwise):

- :class:`Metro`: the whole metro area, narrowed by the web map's filters, with the layers shown and
  optionally a fixed extent (a browser's view);
- :class:`Corridor`: one corridor, its axis, belt, and the parks and projects its plan names or its belt holds;
- :class:`Near`: a buffer query, ``radius_km`` around a point (``lon``/``lat`` in ``system``) or a feature;
- :class:`Site`: a site ranking for an industry (weights, constraints, top N; optionally the suitability
  surface on the map);
- :class:`Layer`: one layer (or ``belts``, or the register ``sources``) with the filters; data only.

Any map may show a given WGS84 box instead of its subject's own extent (``MapOutput.extent``: what a browser
shows, so that an export follows the view); a metro map then counts the features inside that box.

No argument parsing, printing or web code: every bad value raises a :class:`~geo.errors.GeoError` naming the
library's parameter (``radius_km``, ``lon``, ``layer``, ``format``, ``dpi`` …), which a caller may rename to
what its user wrote (the web says ``qr`` for ``radius_km``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import IO

import geopandas as gpd
import pandas as pd

from geo import downloads, mapspecs, params, render, siting
from geo import filters as flt
from geo.dataset import Dataset
from geo.errors import ValidationError
from geo.filters import Filters
from geo.query import NearResult

#: Output formats: maps (drawn by geo.render) and data (written by geo.downloads).
MAP_FORMATS: tuple[str, ...] = tuple(render.FORMATS)
DATA_FORMATS: tuple[str, ...] = tuple(downloads.FORMATS)
FORMATS: tuple[str, ...] = (*MAP_FORMATS, *DATA_FORMATS)
#: Page size of a map unless one is given.
DEFAULT_SIZE = "A4-landscape"
#: Dots per inch of a map unless given: a PNG is for print; an SVG or PDF only rasterises the odd image.
DEFAULT_DPI: dict[str, int] = {"png": 300, "svg": 150, "pdf": 150}
#: Longest text of a box (``west,south,east,north``) a client may send.
MAX_BBOX_CHARS = 200
#: A box's latitudes: those of Web Mercator (a browser's view), in degrees.
MAX_BBOX_LAT = 85.0511287798

Box = tuple[float, float, float, float]


def parse_bbox(value: object, field: str = "extent") -> Box:
    """A WGS84 box from ``west,south,east,north`` text (or four numbers): plain decimals, west < east (a box
    may cross 180°E as a browser's view does: east up to west + 360), south < north within ±85.05°; the part
    of it a map can draw (``geo.render.DRAWABLE_WGS84``). Errors name ``field``."""
    if isinstance(value, str):
        if len(value) > MAX_BBOX_CHARS:
            raise ValidationError(f"expected at most {MAX_BBOX_CHARS} characters, got {len(value)}", field=field)
        parts: list[object] = value.split(",")
    elif isinstance(value, (tuple, list)):
        parts = list(value)
    else:
        parts = []
    if len(parts) != 4:
        raise ValidationError("expected four numbers west,south,east,north (WGS84 degrees)", field=field)
    west, south, east, north = (params.parse_number(v, field) for v in parts)
    if not (-MAX_BBOX_LAT <= south < north <= MAX_BBOX_LAT):
        raise ValidationError(f"expected south < north within ±{MAX_BBOX_LAT:.2f}° (WGS84), got south {south:g}, "
                              f"north {north:g}", field=field)
    if not (west < east <= west + 360.0 and -540.0 <= west <= 540.0):
        raise ValidationError(f"expected west < east (degrees, WGS84), got west {west:g}, east {east:g}", field=field)
    shift = 360.0 * round(((west + east) / 2 - 111.0) / 360.0)  # the copy of the world nearest UTM 49N
    got = render.clip_extent((west - shift, south, east - shift, north))
    if got is None:
        w0, s0, e0, n0 = render.DRAWABLE_WGS84
        raise ValidationError(f"the box shows nothing a map can draw: maps are drawn in UTM 49N for lon "
                              f"{w0:g}..{e0:g} and lat {s0:g}..{n0:g} (WGS84)", field=field)
    return got


# -- what is asked ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Metro:
    """The whole metro area, narrowed by ``filters``; ``visible`` layers drawn (None: all of
    ``geo.render.VISIBLE_DEFAULT``); ``extent`` a WGS84 box (west, south, east, north) to show exactly, or
    None to fit what is drawn."""

    filters: Filters = field(default_factory=Filters)
    visible: tuple[str, ...] | None = None
    extent: tuple[float, float, float, float] | None = None


@dataclass(frozen=True)
class Corridor:
    """One corridor by id: its axis, its belt, the parks and projects named in its plan or inside its belt."""

    corridor_id: str


@dataclass(frozen=True)
class Near:
    """A buffer query: everything within ``radius_km`` (geodesic) of ``lon``/``lat`` (degrees in ``system``:
    wgs84, gcj02, bd09, cgcs2000) or of the feature ``feature`` (an id or a district code), in ``layers``
    (None, or a list holding ``all``: every layer); ``certain_only`` keeps only the hits certainly within (all
    of where they may lie). Values are checked as :meth:`geo.query.QueryEngine.near` checks them, so raw text
    from a command line or a URL is fine."""

    radius_km: object
    lon: object = None
    lat: object = None
    feature: str | None = None
    system: str = "wgs84"
    layers: tuple[str, ...] | None = None
    certain_only: bool = False


@dataclass(frozen=True)
class Site:
    """A site ranking: the parks ranked for ``industry_id`` (``geo.siting.rank_parks``: ``top``, ``weights``,
    ``constraints``, ``chain_km``); a map of it draws the suitability surface too when ``surface`` is set."""

    industry_id: str
    top: int | None = None
    weights: Mapping[str, float] | str | None = None  # a mapping or text like theme=2,chain=1 over the defaults
    constraints: siting.Constraints = field(default_factory=siting.Constraints)
    chain_km: float = siting.CHAIN_KM
    surface: bool = False

    def __post_init__(self) -> None:
        # the weights over the defaults (checked), so that equal requests are equal subjects
        object.__setattr__(self, "weights", siting.parse_weights(self.weights))


@dataclass(frozen=True)
class Layer:
    """One layer of the store (``parks`` …), the corridor ``belts``, or the register ``sources`` (which takes
    no filter), narrowed by ``filters``. Data only: a map of layers is a :class:`Metro` with ``visible``."""

    layer: str
    filters: Filters = field(default_factory=Filters)


Subject = Metro | Corridor | Near | Site | Layer


@dataclass(frozen=True)
class MapOutput:
    """How a map is drawn: ``fmt`` (png, svg, pdf), page ``size`` (A4-landscape, A4-portrait, A3-landscape,
    A3-portrait or pixels like 1920x1080), ``dpi`` (None: ``DEFAULT_DPI`` of the format), ``title`` (None:
    from the subject), the ``date`` printed in the footer (None: today) and the ``extent`` shown (a WGS84 box
    west, south, east, north, as :func:`parse_bbox` reads it: a browser's view; None: fit the subject).

    Checked when made (format, then page and dpi, then title, then extent), so that a map beyond the limits of
    ``geo.render`` is refused before any work."""

    fmt: str
    size: str = DEFAULT_SIZE
    dpi: object = None
    title: str | None = None
    date: str | dt.date | None = None
    extent: Box | None = None

    def __post_init__(self) -> None:
        fmt = render.format_of(None, self.fmt)
        dpi = DEFAULT_DPI[fmt] if self.dpi is None or str(self.dpi).strip() == "" else self.dpi
        size = self.size or DEFAULT_SIZE
        render.parse_page(size, dpi)
        object.__setattr__(self, "fmt", fmt)
        object.__setattr__(self, "size", size)
        object.__setattr__(self, "dpi", dpi)
        object.__setattr__(self, "title", render.check_text(self.title, "title"))
        if self.extent is not None:
            object.__setattr__(self, "extent", parse_bbox(self.extent, "extent"))


@dataclass
class DrawnMap:
    """A drawn map: what was drawn (``spec``), the facts of the drawing (scale, pixels …) and the file's
    bytes (None when it was written to a file)."""

    spec: render.MapSpec
    facts: render.MapFacts
    body: bytes | None = None


# -- the answers -----------------------------------------------------------------------------------------
def check_filters(wanted: Filters, data: Dataset) -> Filters:
    """The filters, checked: known values, and a name search ``q`` bounded like a title (a map prints it)."""
    render.check_text(wanted.q or None, "q")
    flt.validate(wanted, data.layers)
    return wanted


def near_result(data: Dataset, near: Near) -> NearResult:
    """Run a buffer query over the dataset's indexes (each hit with its certainty and distance interval)."""
    layer = None if near.layers is None or "all" in near.layers else list(near.layers)
    return data.engine.near(radius_km=near.radius_km, lon=near.lon, lat=near.lat, feature=near.feature,
                            system=near.system, layer=layer, certain_only=bool(near.certain_only))


def site_result(data: Dataset, site: Site) -> siting.SiteResult:
    """Rank the parks for the site request (with the dataset's belts), computed once per data version (the
    key is the one ``/api/site`` uses for the same ranking, so the two share it)."""
    kwargs = {"industry_id": site.industry_id, "top": site.top, "weights": site.weights,
              "constraints": site.constraints, "chain_km": site.chain_km}
    key = ("site", repr(sorted(kwargs.items(), key=lambda kv: kv[0])))
    return data.cached(key, lambda: siting.rank_parks(data.layers, engine=data.engine, joined=data.joined,
                                                      belts=data.belts, **kwargs))


def _surface(data: Dataset, result: siting.SiteResult) -> gpd.GeoDataFrame:
    """The suitability surface of a ranking's industry and weights (hexagons ``siting.HEX_KM`` apart), computed
    once per data version (keyed as ``/api/site/surface`` keys it)."""
    industry, spacing = str(result.industry["id"]), float(siting.HEX_KM)
    key = ("surface", industry, repr(sorted(result.weights.items())), spacing)
    return data.cached(key, lambda: siting.suitability_surface(data.layers, industry_id=industry,
                                                               weights=result.weights, spacing_km=spacing,
                                                               belts=data.belts))


def _corridor_members(data: Dataset, corridor_id: str) -> gpd.GeoDataFrame:
    """The parks and projects of a corridor (named in its plan or inside its belt), each with its ``layer``."""
    from geo import analysis

    analysis.corridor(data.layers, corridor_id)  # an unknown id is a NotFoundError naming the known ones
    parts = [analysis.corridor_members(data.joined[n], corridor_id).assign(layer=n) for n in ("parks", "projects")]
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs="EPSG:4326")


def framed(spec: render.MapSpec, extent: Box) -> render.MapSpec:
    """The spec showing exactly ``extent`` (a WGS84 box: a browser's view), unpadded."""
    return dataclasses.replace(spec, extent=tuple(extent), pad=0.0, min_extent_km=1.0)


def map_spec(data: Dataset, subject: Subject, extent: Box | None = None) -> render.MapSpec:
    """The map of ``subject`` (all WGS84; :func:`geo.render.render_map` draws it in UTM 49N), showing ``extent``
    (a WGS84 box) when given, else the subject's own extent (a :class:`Metro`'s, or what it draws)."""
    spec = _subject_spec(data, subject, extent)
    if extent is None or isinstance(subject, Metro):  # a metro map frames and cites the view itself
        return spec
    return mapspecs.cite(framed(spec, extent), data.layers, within=extent)


def _subject_spec(data: Dataset, subject: Subject, extent: Box | None) -> render.MapSpec:
    """The map of ``subject``; a metro map counts what lies in ``extent`` when given."""
    layers = data.layers
    if isinstance(subject, Near):
        result = near_result(data, subject)
        area = data.engine.possible_area(subject.feature)[2] if subject.feature else None
        return mapspecs.near_map(layers, result, query_area=area)
    if isinstance(subject, Site):
        result = site_result(data, subject)
        surface = _surface(data, result) if subject.surface else None
        return mapspecs.ranking_map(layers, result.ranking, surface=surface,
                                    subject=(str(result.industry["name_zh"]), str(result.industry["name_en"])),
                                    empty_because=result.empty_because)
    if isinstance(subject, Corridor):
        return mapspecs.corridor_map(layers, subject.corridor_id, belts=data.belts, joined=data.joined)
    if isinstance(subject, Metro):
        wanted = check_filters(subject.filters, data)
        visible = list(subject.visible) if subject.visible is not None else None
        box = extent if extent is not None else subject.extent
        return mapspecs.metro_map(layers, belts=data.belts, filters=wanted, joined=data.joined, visible=visible,
                                  extent=box)
    if isinstance(subject, Layer):
        raise ValidationError(f"a layer ({subject.layer!r}) is data: export it as {', '.join(DATA_FORMATS)}; a map "
                              "draws the metro area with the layers shown", field="layer")
    raise TypeError(f"not an export subject: {subject!r}")


def draw_map(data: Dataset, subject: Subject, output: MapOutput,
             dest: str | os.PathLike[str] | IO[bytes] | None = None) -> DrawnMap:
    """Draw the map of ``subject`` as ``output`` says (page, dpi, title, date, extent): to ``dest`` (a path or a
    binary file), or to bytes."""
    spec = map_spec(data, subject, output.extent)
    options = {"size": output.size, "dpi": output.dpi, "title": output.title, "date": output.date}
    if dest is None:
        body, facts = render.render_bytes(spec, output.fmt, **options)
        return DrawnMap(spec, facts, body)
    return DrawnMap(spec, render.render_map(spec, dest, output.fmt, **options))


def download(data: Dataset, subject: Subject, fmt: str) -> downloads.Download:
    """The data of ``subject`` as GeoJSON, CSV or GeoPackage (WGS84): ``(bytes, mimetype, filename)``.

    Every record carries its source (``source_id``, title, kind, date, publisher); a GeoPackage holds the
    register rows its records cite as the table ``sources``."""
    key = downloads.check_format(fmt)
    if isinstance(subject, Near):
        return downloads.near_download(near_result(data, subject), key, data.sources)
    if isinstance(subject, Site):
        result = site_result(data, subject)
        return downloads.ranking_download(result.ranking, key, f"site-{result.industry['id']}",
                                          industry=result.industry, weights=result.weights)
    if isinstance(subject, Corridor):
        members = _corridor_members(data, subject.corridor_id)
        return downloads.download(members, key, f"corridor-{subject.corridor_id}",
                                  extra=downloads.cited_sources(members, data.sources))
    if isinstance(subject, Layer):
        wanted = check_filters(subject.filters, data)
        return downloads.layer_download(data.layers, subject.layer, key, wanted=wanted, joined=data.joined,
                                        belts=data.belts)
    if isinstance(subject, Metro):
        raise ValidationError("the data of the metro area is a layer: give a layer, a corridor, a buffer query or "
                              "a site ranking", field="layer")
    raise TypeError(f"not an export subject: {subject!r}")


__all__ = ["DATA_FORMATS", "DEFAULT_DPI", "DEFAULT_SIZE", "FORMATS", "MAP_FORMATS", "Box", "Corridor", "DrawnMap",
           "Layer", "MapOutput", "Metro", "Near", "Site", "Subject", "check_filters", "download", "draw_map", "framed",
           "map_spec", "near_result", "parse_bbox", "site_result"]
