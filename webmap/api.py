"""JSON API under ``/api/``: layers (with filters), near, nearest, corridors, chain, features.

Views only turn the request into plain arguments, call ``geo``, and turn the result into a
response. Every position in and out is WGS84 (EPSG:4326) unless ``crs`` says otherwise for input.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import shapely
from flask import Blueprint, Response, current_app, request

from geo import chain, filters, formats
from geo.analysis import corridor_standing
from geo.errors import NotFoundError, ValidationError
from webmap.data import current_data

bp = Blueprint("api", __name__, url_prefix="/api")

#: Columns sent for point features in the compact map encoding (``format=compact``).
COMPACT_COLUMNS = ("id", "name_zh", "name_en", "status", "chain_link", "kind", "location_precision")


def respond(doc: Any, mimetype: str = "application/json", status: int = 200) -> Response:
    """JSON response (UTF-8, Chinese kept readable); ``webmap.compress`` gzips it when accepted."""
    body = doc if isinstance(doc, str) else json.dumps(doc, ensure_ascii=False, default=formats.plain)
    return Response(body, status=status, mimetype=mimetype)


def _table(gdf, fmt: str, name: str, **members: Any) -> Response:
    """Send a GeoDataFrame as geojson (default), json records, csv or the compact map encoding."""
    if fmt == "geojson":
        return respond(formats.feature_collection(gdf, name=name, **members),
                       "application/geo+json")
    if fmt == "json":
        return respond({"name": name, "crs": "EPSG:4326", **members, "features": formats.records(gdf)})
    if fmt == "csv":
        resp = Response(formats.to_csv(gdf), mimetype="text/csv")
        resp.headers["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return resp
    if fmt == "compact":
        cols = [c for c in COMPACT_COLUMNS if c in gdf.columns]
        values = gdf[cols].astype(object)
        values = values.where(values.notna(), None).to_numpy().tolist()
        coords = np.round(shapely.get_coordinates(gdf.geometry.values), 6).tolist()
        rows = [xy + vals for xy, vals in zip(coords, values)]
        return respond({"name": name, "crs": "EPSG:4326", "fields": ["lon", "lat", *cols], "rows": rows, **members})
    raise ValidationError(f"unknown format {fmt!r}; expected one of: geojson, json, csv, compact", field="format")


def _fmt(default: str = "geojson") -> str:
    return (request.args.get("format") or default).lower()


@bp.get("/layers")
def layers_index() -> Response:
    """List the layers with their feature counts, geometry types and CRS."""
    return respond({"layers": [vars(i) for i in current_data().info()]})


@bp.get("/layers/<layer>")
def layer_features(layer: str) -> Response:
    """One layer, filtered by corridor, status, chain_link, district and q."""
    data = current_data()
    gdf = data.layer(layer)
    wanted = filters.Filters.from_mapping(request.args.to_dict(flat=False))
    gdf = filters.apply(layer, data.layers, wanted, data.joined)
    fmt = _fmt()
    if fmt == "compact" and not (gdf.geometry.geom_type == "Point").all():
        raise ValidationError("format=compact is for point layers (parks, projects, institutions)", field="format")
    return _table(gdf, fmt, layer, filters=wanted.as_params())


@bp.get("/features/<feature_id>")
def feature(feature_id: str) -> Response:
    """One feature by id (any layer) with all its attributes, as a GeoJSON Feature."""
    layer, row = current_data().engine.feature(feature_id)
    one = current_data().layers[layer].loc[[row.name]]
    feat = formats.feature_collection(one)["features"][0]
    feat["properties"]["layer"] = layer
    return respond(feat, "application/geo+json")


def _polygon_arg() -> shapely.Geometry | None:
    raw = request.args.get("polygon")
    if not raw:
        return None
    try:
        geom = shapely.from_geojson(raw)
    except Exception:  # noqa: BLE001 - shapely raises GEOSException or ValueError
        raise ValidationError("expected a GeoJSON Polygon geometry in WGS84", field="polygon") from None
    return geom


def _point_args() -> dict[str, Any]:
    args = request.args
    return {"lon": args.get("lon"), "lat": args.get("lat"), "system": args.get("crs", "wgs84"),
            "feature": args.get("feature") or None}


@bp.get("/near")
def near() -> Response:
    """Buffer query: features within ``radius_km`` of lon/lat, a feature or a polygon."""
    if request.args.get("radius_km") is None:
        raise ValidationError("radius_km is required (0 < radius_km <= 300)", field="radius_km")
    layer = request.args.get("layer") or None
    result = current_data().engine.near(radius_km=request.args["radius_km"], polygon=_polygon_arg(),
                                        layer=layer.split(",") if layer and layer != "all" else None,
                                        **_point_args())
    buffer = json.loads(shapely.to_geojson(shapely.set_precision(result.buffer, 1e-6)))
    return _table(result.features, _fmt(), "near", query=result.query, summary=result.summary, buffer=buffer)


@bp.get("/nearest")
def nearest() -> Response:
    """The k nearest features of a layer to lon/lat or a feature."""
    layer = request.args.get("layer")
    if not layer:
        raise ValidationError("layer is required", field="layer")
    gdf = current_data().engine.nearest(layer=layer, k=request.args.get("k", 5), **_point_args())
    return _table(gdf, _fmt(), "nearest", query={"layer": layer, "k": len(gdf)})


@bp.get("/corridors")
def corridors() -> Response:
    """Standing of every corridor against its 2021 investment target."""
    data = current_data()
    return respond({"belt_km": data.belts["belt_km"].iloc[0], "corridors": corridor_standing(data.layers, data.belt_km)})


@bp.get("/corridors/<corridor_id>")
def corridor(corridor_id: str) -> Response:
    """Standing, chain coverage of one corridor."""
    data = current_data()
    rows = [c for c in corridor_standing(data.layers, data.belt_km) if c["id"] == corridor_id]
    if not rows:
        raise NotFoundError(f"unknown corridor {corridor_id!r}; expected one of: "
                            f"{', '.join(data.layers['corridors']['id'])}", field="corridor")
    return respond({**rows[0], "chain": chain.coverage(data.layers, corridor=corridor_id)})


@bp.get("/chain")
def chain_coverage() -> Response:
    """Chain coverage of the metro area, a park or a corridor."""
    args = request.args
    return respond(chain.coverage(current_data().layers, park=args.get("park") or None,
                                  corridor=args.get("corridor") or None, chain=args.get("chain", chain.DEFAULT_CHAIN)))


def site_args(args) -> dict[str, Any]:
    """Plain keyword arguments of ``geo.siting.rank_parks`` from request arguments."""
    from geo.siting import Constraints

    def number(name: str, kind=float):
        raw = args.get(name)
        if raw in (None, ""):
            return None
        try:
            return kind(raw)
        except ValueError:
            raise ValidationError(f"expected a number, got {raw!r}", field=name) from None

    def many(name: str) -> tuple[str, ...]:
        return tuple(v.strip() for item in args.getlist(name) for v in item.split(",") if v.strip())

    industry = args.get("industry")
    if not industry:
        raise ValidationError("industry is required (see /api/site/industries)", field="industry")
    constraints = Constraints(within_km=number("within_km"), of_feature=args.get("of") or None,
                              lon=number("lon"), lat=number("lat"), system=args.get("crs", "wgs84"),
                              districts=many("district"), exclude_districts=many("exclude_district"),
                              corridors=many("corridor"), min_status=args.get("min_status") or None)
    return {"industry_id": industry, "top": number("top", int), "weights": args.get("weights") or None,
            "constraints": constraints, "chain_km": number("chain_km") or 15.0}


@bp.get("/site")
def site() -> Response:
    """Site selection: ranked parks for an industry with score breakdown and reasons (JSON or GeoJSON)."""
    from geo import siting

    data = current_data()
    result = siting.rank_parks(data.layers, engine=data.engine, **site_args(request.args))
    members = {"industry": result.industry, "weights": result.weights, "constraints": result.constraints,
               "empty_because": result.empty_because, "crs": "EPSG:4326"}
    if _fmt("json") == "geojson":
        return respond(formats.feature_collection(result.ranking, **members), "application/geo+json")
    if _fmt("json") != "json":
        raise ValidationError("unknown format; expected json or geojson", field="format")
    return respond({**members, "ranking": formats.records(result.ranking)})


@bp.get("/site/surface")
def site_surface() -> Response:
    """The suitability surface of an industry: scored hexagons (GeoJSON, WGS84)."""
    from geo import siting

    args = request.args
    if not args.get("industry"):
        raise ValidationError("industry is required", field="industry")
    spacing = args.get("spacing_km", siting.HEX_KM)
    try:
        spacing = float(spacing)
    except ValueError:
        raise ValidationError(f"expected a number, got {spacing!r}", field="spacing_km") from None
    grid = siting.suitability_surface(current_data().layers, industry_id=args["industry"],
                                      weights=args.get("weights") or None, spacing_km=spacing)
    return respond(formats.feature_collection(grid, name="suitability", industry=args["industry"]),
                   "application/geo+json")


@bp.get("/site/industries")
def site_industries() -> Response:
    """The industry catalogue."""
    from geo import siting

    return respond({"industries": siting.read_industries().to_dict("records"), "weights": siting.DEFAULT_WEIGHTS})


@bp.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3 document of this API."""
    from webmap.openapi import document

    return respond(document(current_app.config.get("API_TITLE", "Luoyang industrial-corridor map API")))
