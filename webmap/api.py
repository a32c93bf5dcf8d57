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
    body = doc if isinstance(doc, str) else json.dumps(doc, ensure_ascii=False, default=formats._plain)
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
    return respond({"layers": [vars(i) for i in current_data().store.info()]})


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
    gdf = current_data().layers[layer]
    key = "code" if layer == "districts" else "id"
    fc = formats.feature_collection(gdf[gdf[key] == feature_id])
    feat = fc["features"][0]
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


@bp.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3 document of this API."""
    from webmap.openapi import document

    return respond(document(current_app.config.get("API_TITLE", "Luoyang industrial-corridor map API")))
