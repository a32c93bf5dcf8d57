"""JSON API under ``/api/``: layers (with filters), near, nearest, corridors, chain, features.

Views only turn the request into plain arguments, call ``geo``, and turn the result into a
response. Every position in and out is WGS84 (EPSG:4326) unless ``crs`` says otherwise for input.
"""

from __future__ import annotations

import json
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from flask import Blueprint, Response, current_app, request

from geo import chain, citations, downloads, filters, formats, params
from geo.analysis import corridor_standing
from geo.dataset import Dataset
from geo.errors import NotFoundError, ValidationError
from geo.ledger.changes import parse_day
from geo.ledger.edits import row_etag
from geo.query import MAX_K, MAX_RADIUS_KM, QUERYABLE_LAYERS
from geo.schema import STATUSES
from geo.siting import CHAIN_KM
from geo.store import is_spatial
from webmap.data import current_data

bp = Blueprint("api", __name__, url_prefix="/api")

#: Columns sent for point features in the compact map encoding (``format=compact``).
COMPACT_COLUMNS = ("id", "name_zh", "name_en", "status", "chain_link", "kind", "location_precision")


def respond(doc: Any, mimetype: str = "application/json", status: int = 200) -> Response:
    """JSON response (UTF-8, Chinese kept readable); ``webmap.compress`` gzips it when accepted."""
    body = doc if isinstance(doc, str) else json.dumps(doc, ensure_ascii=False, default=formats.plain)
    return Response(body, status=status, mimetype=mimetype)


def _table(gdf, fmt: str, name: str, **members: Any) -> Response:
    """Send a GeoDataFrame as geojson (default), json records, csv or the compact map encoding.

    CSV is UTF-8 with a byte-order mark (Excel on Chinese Windows), or as ``encoding`` asks (utf-8, gb18030);
    ``encoding`` with another format is refused."""
    encoding = formats.check_csv_encoding(request_args().text("encoding"), fmt)
    if fmt == "geojson":
        return respond(formats.feature_collection(gdf, name=name, **members),
                       "application/geo+json")
    if fmt == "json":
        return respond({"name": name, "crs": "EPSG:4326" if is_spatial(gdf) else None, **members,
                        "features": formats.records(gdf)})
    if fmt == "csv":
        resp = Response(formats.csv_bytes(formats.to_csv(gdf), encoding),
                        content_type=formats.csv_content_type(encoding))
        resp.headers["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return resp
    if fmt == "compact":
        cols = [c for c in COMPACT_COLUMNS if c in gdf.columns]
        values = gdf[cols].astype(object)
        values = values.where(values.notna(), None).to_numpy().tolist()
        coords = np.round(shapely.get_coordinates(gdf.geometry.values), 6).tolist()
        rows = [xy + vals for xy, vals in zip(coords, values)]
        return respond({"name": name, "crs": "EPSG:4326", "fields": ["lon", "lat", *cols], "rows": rows, **members})
    raise ValidationError(f"unknown format {fmt!r}; expected one of: {', '.join(FORMATS)}", field="format")


FORMATS = ("geojson", "json", "csv", "compact")


def request_args() -> params.Args:
    """The query-string arguments of this request, for typed reading."""
    return params.Args(request.args.to_dict(flat=False))


def _fmt(args: params.Args, allowed: tuple[str, ...] = FORMATS[:3], default: str = "geojson") -> str:
    return args.choice("format", allowed, default)  # type: ignore[return-value]


def layer_filters(args: params.Args, data: Dataset) -> filters.Filters:
    """The map's filters (corridor, status, chain_link, district, q), each value checked against what exists."""
    wanted = filters.Filters(args.many("corridor"), args.many("status"), args.many("chain_link"),
                             args.many("district"), args.text("q") or "")
    filters.validate(wanted, data.layers)
    return wanted


@bp.get("/layers")
def layers_index() -> Response:
    """List the layers with their feature counts, geometry types and CRS (null for the register of sources)."""
    return respond({"layers": [vars(i) for i in current_data().info()], "data_version": current_data().version})


def data_as_of(args: params.Args) -> Dataset:
    """The request's dataset, or (``as_of=YYYY-MM-DD``) the ledger as it stood at the end of that day."""
    data = current_data()
    day = args.text("as_of")  # blank is not given, as for every parameter
    if day is None:
        return data
    if data.changes is None:
        raise ValidationError("as_of needs the ledger's change log, which this store does not have yet; rebuild it "
                              "with `make build`", field="as_of")
    return data.as_of(parse_day(day))


@bp.get("/layers/<layer>")
def layer_features(layer: str) -> Response:
    """One layer, filtered by corridor, status, chain_link, district and q (``as_of``: as it stood that day).

    The register of sources (``sources``, no geometry) takes no filter: GeoJSON gives its rows as
    features with null geometries; json and csv give the rows; compact is for the point layers only."""
    args = request_args()
    data = data_as_of(args)
    frame = data.layer(layer)  # 404 for an unknown layer
    fmt = _fmt(args, FORMATS)
    wanted = layer_filters(args, data)
    if not is_spatial(frame):
        if fmt == "compact":
            raise ValidationError("format=compact is for point layers (parks, projects, institutions)",
                                  field="format")
        downloads.refuse_filters(layer, wanted)
        return _table(frame, fmt, layer)
    gdf = filters.apply(layer, data.layers, wanted, data.joined)
    if fmt == "compact" and not (data.layers[layer].geometry.geom_type == "Point").all():
        raise ValidationError("format=compact is for point layers (parks, projects, institutions)", field="format")
    return _table(gdf, fmt, layer, filters=wanted.as_params())


@bp.get("/features/<feature_id>")
def feature(feature_id: str) -> Response:
    """One feature by id (any layer) with all its attributes, as a GeoJSON Feature (``as_of``: as it stood then)."""
    data = data_as_of(request_args())
    layer, row = data.engine.feature(feature_id)
    one = data.layers[layer].loc[[row.name]]
    feat = formats.feature_collection(one)["features"][0]
    feat["properties"]["layer"] = layer
    resp = respond(feat, "application/geo+json")
    # the record as the store holds it (without the joined source titles): what an edit's If-Match names
    resp.set_etag(row_etag(one.iloc[0].drop(one.geometry.name).to_dict(), one.geometry.iloc[0]))
    return resp


#: Largest request body (a POST /api/near polygon), bytes; Flask's MAX_CONTENT_LENGTH, past it a JSON 413.
MAX_BODY_BYTES = 1024 * 1024


def _near_polygon(args: params.Args) -> shapely.Geometry | None:
    if request.method == "POST":
        if args.given("polygon"):
            raise ValidationError("give the polygon either in the body or in the URL, not both", field="polygon")
        return params.polygon_from_geojson(request.get_data(cache=False), field="body")
    raw = args.text("polygon", max_length=MAX_URL_POLYGON_CHARS)
    return params.polygon_from_geojson(raw) if raw is not None else None


#: Longest ``polygon=`` accepted in a URL (~70 vertices; percent-encoded it stays within the server's
#: 8,190-byte request line); larger polygons go in a POST body.
MAX_URL_POLYGON_CHARS = 2000


def query_target(args: params.Args, data: Dataset, *, lon: str = "lon", lat: str = "lat",
                 feature: str = "feature") -> dict[str, Any]:
    """Where a query starts: ``lon``/``lat`` as given with their ``crs`` (checked), or a feature id that exists."""
    point = args.position(lon, lat)
    fid = args.text(feature)
    if point is not None and fid is not None:
        raise ValidationError(f"give {lon} and {lat}, or {feature}, not both", field=feature)
    if point is None and args.given("crs"):
        raise ValidationError(f"crs is the system of {lon} and {lat}; give them or drop crs", field="crs")
    if fid is not None:
        with params.spelt_as(feature=feature):
            data.engine.feature(fid)  # 404 naming the parameter for an unknown id
        return {"feature": fid}
    if point is not None:
        return {"lon": point[0], "lat": point[1], "system": point[2]}
    return {}


def _layers_param(args: params.Args, name: str = "layer") -> list[str] | None:
    names = args.many(name, ("all", *QUERYABLE_LAYERS))
    return None if not names or "all" in names else list(names)


@bp.route("/near", methods=["GET", "POST"])
def near() -> Response:
    """Buffer query: features within ``radius_km`` of lon/lat, a feature or a polygon (GET, or POST a GeoJSON body);
    ``as_of``: over the ledger as it stood at the end of that day."""
    args = request_args()
    data = data_as_of(args)
    radius = args.number("radius_km", minimum=0, exclusive_minimum=True, maximum=MAX_RADIUS_KM)
    if radius is None:
        raise ValidationError(f"radius_km is required (0 < radius_km <= {MAX_RADIUS_KM:g})", field="radius_km")
    fmt = _fmt(args)
    layers = _layers_param(args)
    target = query_target(args, data)
    polygon = _near_polygon(args)
    if polygon is not None and target:
        raise ValidationError("give one of: lon and lat, feature, polygon", field="polygon")
    if polygon is None and not target:
        raise ValidationError("give lon and lat, a feature or a polygon", field="lon")
    certain_only = args.choice("certain_only", ("true", "false"), "false") == "true"
    result = data.engine.near(radius_km=radius, polygon=polygon, layer=layers, certain_only=certain_only, **target)
    buffer = json.loads(shapely.to_geojson(shapely.set_precision(result.buffer, 1e-6)))
    return _table(result.features, fmt, "near", query=result.query, summary=result.summary, buffer=buffer)


@bp.get("/possible-area")
def possible_area() -> Response:
    """Where a feature may lie, given how precisely it is located (its point, a circle, its county or city;
    WGS84 GeoJSON Feature)."""
    args = request_args()
    feature = args.required("feature", "a feature id")
    return respond(data_as_of(args).engine.possible_area_feature(feature), "application/geo+json")


@bp.get("/nearest")
def nearest() -> Response:
    """The k nearest features of a layer to lon/lat or a feature."""
    data = current_data()
    args = request_args()
    layer = args.choice("layer", QUERYABLE_LAYERS)
    if layer is None:
        raise ValidationError("layer is required", field="layer")
    k = args.integer("k", 5, minimum=1, maximum=MAX_K)
    fmt = _fmt(args)
    target = query_target(args, data)
    if not target:
        raise ValidationError("give lon and lat, or a feature", field="lon")
    gdf = data.engine.nearest(layer=layer, k=k, **target)
    return _table(gdf, fmt, "nearest", query={"layer": layer, "k": len(gdf)})


def standing(data: Dataset, members: bool = True) -> list[dict[str, Any]]:
    """Every corridor's standing, with its ``source_id`` and its source's title, kind, date and publisher; with
    ``members``, every member project and park too (without: computed once per data version and kept)."""
    def compute() -> list[dict[str, Any]]:
        corridors = data.layers["corridors"].set_index("id")
        cols = [c for c in ("source_id", *citations.source_columns()) if c in corridors.columns]
        return [{**row, **{c: formats.plain(corridors.at[row["id"], c]) for c in cols}}
                for row in corridor_standing(data.layers, data.belt_km, joined_layers=data.joined, members=members)]

    return compute() if members else data.cached(("standing", "no members"), compute)


@bp.get("/corridors")
def corridors() -> Response:
    """Standing of every corridor against its 2021 investment target (``as_of``: as the ledger stood that day;
    ``members=false``: without the lists of member projects and parks, which a big register makes long)."""
    args = request_args()
    members = args.choice("members", ("true", "false"), "true") == "true"
    data = data_as_of(args)
    return respond({"belt_km": data.belt_km, "as_of": args.text("as_of"),
                    "corridors": standing(data, members)})


@bp.get("/corridors/<corridor_id>")
def corridor(corridor_id: str) -> Response:
    """Standing, chain coverage of one corridor (``as_of``: as the ledger stood that day): ``chains`` with the
    coverage of each chain that fits its themes (empty: none is defined for them yet); ``chain`` keeps the
    battery chain's coverage for every corridor, as before."""
    data = data_as_of(request_args())
    rows = [c for c in standing(data) if c["id"] == corridor_id]
    if not rows:
        raise NotFoundError(f"unknown corridor {corridor_id!r}; expected one of: "
                            f"{', '.join(data.layers['corridors']['id'])}", field="corridor")
    row = rows[0]
    return respond({**row, "chains": chain.fitting_coverages(data.layers, corridor_id, row["chains"], data.joined),
                    "chain": chain.coverage(data.layers, corridor=corridor_id, joined=data.joined)})


@bp.get("/chain")
def chain_coverage() -> Response:
    """Chain coverage of the metro area, a park or a corridor."""
    data = current_data()
    args = request_args()
    return respond(chain.coverage(data.layers, park=args.text("park"), corridor=args.text("corridor"),
                                  chain=args.choice("chain", chain.CHAINS, chain.DEFAULT_CHAIN), joined=data.joined))


#: Bounds of the site-selection parameters (also stated in the OpenAPI document).
MAX_TOP = 1000
MAX_WITHIN_KM = MAX_RADIUS_KM
MAX_CHAIN_KM = 100.0


def site_args(args: params.Args, data: Dataset) -> dict[str, Any]:
    """Plain keyword arguments of ``geo.siting.rank_parks`` from request arguments, all checked."""
    from geo.siting import Constraints, parse_weights

    industry = args.required("industry", "see /api/site/industries")
    within_km = args.number("within_km", minimum=0, exclusive_minimum=True, maximum=MAX_WITHIN_KM)
    args.only_with("within_km", "of", "lon", "lat", "crs")
    target = query_target(args, data, feature="of") if within_km is not None else {}
    if within_km is not None and not target:
        raise ValidationError("within_km needs a feature (of) or lon and lat", field="within_km")
    districts = set(data.layers["districts"]["code"]) | set(data.layers["districts"]["city_code"])
    corridors = set(data.layers["corridors"]["id"])
    weights = parse_weights(args.text("weights"))
    constraints = Constraints(within_km=within_km, of_feature=target.get("feature"), lon=target.get("lon"),
                              lat=target.get("lat"), system=target.get("system", "wgs84"),
                              districts=args.many("district", districts),
                              exclude_districts=args.many("exclude_district", districts),
                              corridors=args.many("corridor", corridors),
                              min_status=args.choice("min_status", STATUSES))
    return {"industry_id": industry, "top": args.integer("top", minimum=1, maximum=MAX_TOP),
            "weights": weights, "constraints": constraints,
            "chain_km": args.number("chain_km", CHAIN_KM, minimum=0, exclusive_minimum=True, maximum=MAX_CHAIN_KM)}


def site_result(args: params.Args, data: Dataset):
    """The ranking a request asks for, computed once per data version and parameters."""
    from geo import siting

    kwargs = site_args(args, data)
    key = ("site", repr(sorted(kwargs.items(), key=lambda kv: kv[0])))
    return data.cached(key, lambda: siting.rank_parks(data.layers, engine=data.engine, joined=data.joined,
                                                     belts=data.belts, **kwargs))


def surface_result(args: params.Args, data: Dataset, industry: str) -> tuple[tuple, gpd.GeoDataFrame]:
    """The suitability surface a request asks for (hexagons, WGS84) and its cache key; computed once per version."""
    from geo import siting

    weights = siting.parse_weights(args.text("weights"))
    spacing = args.number("spacing_km", siting.HEX_KM, minimum=MIN_SPACING_KM, maximum=MAX_SPACING_KM)
    key = ("surface", industry, repr(sorted(weights.items())), spacing)
    return key, data.cached(key, lambda: siting.suitability_surface(data.layers, industry_id=industry,
                                                                    weights=weights, spacing_km=spacing,
                                                                    belts=data.belts))


#: Bounds of the hexagon spacing: 3 km is ~3,200 hexagons (~3 MB, ~0.5 s); finer asks too much of one request.
MIN_SPACING_KM = 3.0
MAX_SPACING_KM = 50.0


@bp.get("/site")
def site() -> Response:
    """Site selection: ranked parks for an industry with score breakdown and reasons (JSON or GeoJSON)."""
    data = current_data()
    args = request_args()
    fmt = _fmt(args, ("json", "geojson"), "json")
    result = site_result(args, data)
    members = {"industry": result.industry, "weights": result.weights, "constraints": result.constraints,
               "empty_because": result.empty_because, "crs": "EPSG:4326"}
    if fmt == "geojson":
        return respond(formats.feature_collection(result.ranking, **members), "application/geo+json")
    return respond({**members, "ranking": formats.records(result.ranking)})


@bp.get("/site/surface")
def site_surface() -> Response:
    """The suitability surface of an industry: scored hexagons (GeoJSON, WGS84)."""
    from geo import siting

    data = current_data()
    args = request_args()
    industry = str(siting.industry(args.required("industry", "see /api/site/industries"))["id"])
    key, grid = surface_result(args, data, industry)
    body = data.cached((*key, "geojson"), lambda: formats.dumps(
        formats.feature_collection(grid, name="suitability", industry=industry)))
    return respond(body, "application/geo+json")


@bp.get("/site/industries")
def site_industries() -> Response:
    """The industry catalogue."""
    from geo import siting

    return respond({"industries": siting.read_industries().to_dict("records"), "weights": siting.DEFAULT_WEIGHTS})


@bp.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3 document of this API."""
    from webmap.openapi import document

    return respond(document(current_app.config.get("API_TITLE", "Luoyang industrial-corridor map API"),
                            current_data()))
