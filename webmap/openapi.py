"""The OpenAPI 3.1 document of the JSON API (``/api/openapi.json``)."""

from __future__ import annotations

from typing import Any

from geo.query import MAX_RADIUS_KM, QUERYABLE_LAYERS
from geo.schema import STATUSES


def _param(name: str, description: str, schema: dict[str, Any], required: bool = False,
           where: str = "query") -> dict[str, Any]:
    return {"name": name, "in": where, "required": required, "description": description, "schema": schema}


STR = {"type": "string"}
FORMAT = _param("format", "output format", {"type": "string", "enum": ["geojson", "json", "csv"], "default": "geojson"})
POINT = [
    _param("lon", "longitude in degrees (in `crs`)", {"type": "number"}),
    _param("lat", "latitude in degrees (in `crs`)", {"type": "number"}),
    _param("crs", "system of lon/lat: wgs84 (GPS), gcj02 (AMap/Tencent), bd09 (Baidu)",
           {"type": "string", "enum": ["wgs84", "gcj02", "bd09", "cgcs2000"], "default": "wgs84"}),
    _param("feature", "id of a park, project, institution or corridor, or a district code", STR),
]
FILTERS = [
    _param("corridor", "corridor ids, comma-separated (named in its plan or inside its belt)", STR),
    _param("status", f"statuses, comma-separated: {', '.join(STATUSES)}", STR),
    _param("chain_link", "chain links, comma-separated (see data/chains/new_energy.csv)", STR),
    _param("district", "county or city codes, comma-separated", STR),
    _param("q", "name search (Chinese, English or id)", STR),
]
ERRORS = {
    "400": {"description": "bad parameter: the message names the field and what was expected",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    "404": {"description": "unknown layer, id or corridor",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
}
GEOJSON = {"200": {"description": "GeoJSON FeatureCollection in WGS84; features carry id, layer, name_zh, name_en"
                   " (and distance_km for queries)",
                   "content": {"application/geo+json": {"schema": {"$ref": "#/components/schemas/FeatureCollection"}},
                               "text/csv": {"schema": STR}}}}
JSON_OK = {"200": {"description": "JSON", "content": {"application/json": {"schema": {"type": "object"}}}}}


def document(title: str) -> dict[str, Any]:
    """Return the OpenAPI document as a mapping."""
    layer_enum = {"type": "string", "enum": list(QUERYABLE_LAYERS)}
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": "1.0.0",
                 "description": "洛阳都市圈产业走廊地图 API. Every position is WGS84 (EPSG:4326) unless `crs` says "
                                "otherwise for an input; distances are geodesic km."},
        "paths": {
            "/api/layers": {"get": {"summary": "List layers with feature counts and CRS", "responses": JSON_OK}},
            "/api/layers/{layer}": {"get": {
                "summary": "One layer, filtered",
                "parameters": [_param("layer", "layer name", {"type": "string", "enum": [*QUERYABLE_LAYERS]},
                                      True, "path"), *FILTERS,
                               _param("format", "output format; compact = column arrays for the map's point layers",
                                      {"type": "string", "enum": ["geojson", "json", "csv", "compact"]})],
                "responses": {**GEOJSON, **ERRORS}}},
            "/api/features/{id}": {"get": {
                "summary": "One feature by id with all attributes",
                "parameters": [_param("id", "feature id or district code", STR, True, "path")],
                "responses": {"200": {"description": "GeoJSON Feature (WGS84)"}, **ERRORS}}},
            "/api/near": {"get": {
                "summary": "Buffer query: everything within radius_km of a point, a feature or a polygon",
                "parameters": [*POINT,
                               _param("polygon", "a GeoJSON Polygon (WGS84) instead of a point or feature", STR),
                               _param("radius_km", "radius in km", {"type": "number", "exclusiveMinimum": 0,
                                                                     "maximum": MAX_RADIUS_KM}, True),
                               _param("layer", "layer(s), comma-separated, or all", STR), FORMAT],
                "responses": {**GEOJSON, **ERRORS}}},
            "/api/nearest": {"get": {
                "summary": "The k nearest features of a layer",
                "parameters": [*POINT, _param("layer", "layer", layer_enum, True),
                               _param("k", "how many", {"type": "integer", "minimum": 1, "default": 5}), FORMAT],
                "responses": {**GEOJSON, **ERRORS}}},
            "/api/corridors": {"get": {"summary": "Standing of every corridor against its 2021 target (亿元)",
                                       "responses": JSON_OK}},
            "/api/corridors/{id}": {"get": {
                "summary": "Standing and chain coverage of one corridor",
                "parameters": [_param("id", "corridor id", STR, True, "path")],
                "responses": {**JSON_OK, **ERRORS}}},
            "/api/chain": {"get": {
                "summary": "Industrial-chain coverage: present and missing links",
                "parameters": [_param("park", "park id", STR), _param("corridor", "corridor id", STR),
                               _param("chain", "chain definition", {"type": "string", "default": "new_energy"})],
                "responses": {**JSON_OK, **ERRORS}}},
            "/api/site": {"get": {
                "summary": "Site selection: parks ranked for an industry, with score breakdown and reasons",
                "parameters": [
                    _param("industry", "industry id (see /api/site/industries)", STR, True),
                    _param("top", "best N parks", {"type": "integer", "minimum": 1}),
                    _param("weights", "criterion weights, e.g. theme=2,chain=1 (theme, corridor, chain, talent, "
                                      "anchor, status)", STR),
                    _param("within_km", "only parks within this many km of `of` or lon/lat", {"type": "number"}),
                    _param("of", "feature id for within_km", STR),
                    _param("lon", "longitude for within_km (in `crs`)", {"type": "number"}),
                    _param("lat", "latitude for within_km (in `crs`)", {"type": "number"}),
                    _param("crs", "system of lon/lat", {"type": "string", "enum": ["wgs84", "gcj02", "bd09"]}),
                    _param("district", "only parks in these county/city codes", STR),
                    _param("exclude_district", "no parks in these codes", STR),
                    _param("corridor", "only parks of these corridors", STR),
                    _param("min_status", "minimum park status", {"type": "string", "enum": list(STATUSES)}),
                    _param("chain_km", "radius for chain neighbours (km)", {"type": "number", "default": 15}),
                    _param("format", "json or geojson", {"type": "string", "enum": ["json", "geojson"]})],
                "responses": {**JSON_OK, **ERRORS}}},
            "/api/site/surface": {"get": {
                "summary": "Suitability surface: hexagons scored for an industry (GeoJSON, WGS84)",
                "parameters": [_param("industry", "industry id", STR, True), _param("weights", "weights", STR),
                               _param("spacing_km", "distance between hexagon centres", {"type": "number"})],
                "responses": {**GEOJSON, **ERRORS}}},
            "/api/site/industries": {"get": {"summary": "The industry catalogue", "responses": JSON_OK}},
            "/export/map.{fmt}": {"get": {
                "summary": "A print-ready map (png, svg or pdf) of the permalink's state, a corridor, a buffer "
                           "query or a site-selection result",
                "parameters": [_param("fmt", "png, svg or pdf", {"type": "string", "enum": ["png", "svg", "pdf"]},
                                      True, "path"), *FILTERS,
                               _param("size", "A4-landscape, A4-portrait, A3-landscape, A3-portrait or WxH pixels", STR),
                               _param("dpi", "dots per inch (PNG)", {"type": "integer", "default": 300}),
                               _param("title", "map title", STR)],
                "responses": {"200": {"description": "the map file"}, **ERRORS}}},
            "/export/data.{fmt}": {"get": {
                "summary": "Data download of a layer, query or site result (geojson, csv or gpkg; WGS84)",
                "parameters": [_param("fmt", "geojson, csv or gpkg",
                                      {"type": "string", "enum": ["geojson", "csv", "gpkg"]}, True, "path"),
                               _param("layer", "layer name", STR)],
                "responses": {"200": {"description": "the data file"}, **ERRORS}}},
        },
        "components": {"schemas": {
            "Error": {"type": "object", "required": ["error"],
                      "properties": {"error": STR, "type": STR, "field": {"type": ["string", "null"]},
                                     "row": {"type": ["integer", "null"]}, "file": {"type": ["string", "null"]}}},
            "FeatureCollection": {"type": "object", "required": ["type", "features"],
                                  "properties": {"type": {"const": "FeatureCollection"},
                                                 "features": {"type": "array", "items": {"type": "object"}}}},
        }},
    }
