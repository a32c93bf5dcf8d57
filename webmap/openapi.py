"""The OpenAPI 3.1 document of the JSON API and the exports (``/api/openapi.json``).

Built from the same constants the views validate with (bounds, enumerations, limits), and from the
data the request is answered from (the ids a path or filter may name), so that what the document says
is what the API does; ``tests/test_fuzz.py`` runs the fuzzer schemathesis against it.
"""

from __future__ import annotations

from typing import Any

from geo import chain, downloads, formats, params, render, siting
from geo.dataset import Dataset
from geo.ledger.changes import LEDGER_LAYERS
from geo.ledger.edits import EDIT_LAYERS
from geo.query import MAX_K, MAX_RADIUS_KM, QUERYABLE_LAYERS
from geo.schema import STATUSES
from geo.store import is_spatial
from webmap import api, ledger

STR = {"type": "string"}
TEXT = {"type": "string", "maxLength": params.MAX_TEXT}
ERROR_REF = {"$ref": "#/components/schemas/Error"}


def _param(name: str, description: str, schema: dict[str, Any], required: bool = False,
           where: str = "query") -> dict[str, Any]:
    return {"name": name, "in": where, "required": required, "description": description, "schema": schema}


def _number(minimum: float | None = None, maximum: float | None = None, *, exclusive: bool = False,
            integer: bool = False, default: float | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "integer" if integer else "number"}
    if minimum is not None:
        schema["exclusiveMinimum" if exclusive else "minimum"] = minimum
    if maximum is not None:
        schema["maximum"] = maximum
    if default is not None:
        schema["default"] = default
    return schema


def _choice(values: list[str], default: str | None = None) -> dict[str, Any]:
    """One of ``values`` in a query parameter; blank (``name=``) means not given, as in a submitted form."""
    schema: dict[str, Any] = {"type": "string", "enum": [*values, ""]}
    if default is not None:
        schema["default"] = default
    return schema


def _errors(*codes: int) -> dict[str, Any]:
    meaning = {
        400: "a bad parameter: the message names the parameter as sent and what was expected",
        404: "an unknown layer, id, industry, park or corridor (the message names the parameter)",
        405: "method not allowed (the Allow header lists the allowed ones)",
        401: "no user: log in (/login) or send Authorization: Bearer <token> (python run.py tokens add NAME)",
        403: "the user's role may not do this (the message names the role needed)",
        409: "a record has changed since (another user's edit came first): nothing was written",
        413: "the request body is larger than the service accepts",
        503: "the data store is missing or damaged: the message says how to rebuild it",
    }
    out: dict[str, Any] = {str(c): {"description": meaning[c], "content": {"application/json": {"schema": ERROR_REF}}}
                           for c in (*codes, 503)}
    # refused by the HTTP server itself, before the app (gunicorn's limit_request_line, its maximum)
    out["414"] = {"description": "the request line is longer than 8190 bytes: send fewer or shorter parameters"}
    return out


def _ok(description: str, *media: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    body = schema or {}
    return {"200": {"description": description, "content": {m: {"schema": body.get(m, {})} for m in media}}}


def _lonlat(prefix: str = "", what: str = "the query point") -> list[dict[str, Any]]:
    west, south, east, north = params.STUDY_AREA
    return [
        _param(f"{prefix}lon", f"longitude of {what}, degrees in `crs`; the study area is lon {west}..{east} "
                               "(WGS84)", _number(west, east)),
        _param(f"{prefix}lat", f"latitude of {what}, degrees in `crs`; the study area is lat {south}..{north}",
               _number(south, north)),
    ]


CRS = _param("crs", "system of lon/lat: wgs84 (GPS), gcj02 (AMap/Tencent), bd09 (Baidu), cgcs2000; only with "
                    "lon and lat", _choice(list(params.SYSTEMS)))
#: The version of a record an edit is made on: the ETag that GET /api/features/{id} gave.
IF_MATCH = _param("If-Match", "the ETag of the record as loaded (GET /api/features/{id}), quoted",
                  {"type": "string", "maxLength": 100}, True, "header")
PRECONDITION = {"428": {"description": "If-Match is missing: an edit must name the version it was made on",
                        "content": {"application/json": {"schema": ERROR_REF}}}}


def _edit_body() -> dict[str, Any]:
    """A record's new values: properties (null clears one) and a GeoJSON Point (WGS84), as a Feature has them."""
    return {"required": True, "content": {"application/json": {"schema": {
        "type": "object",
        "properties": {"properties": {"type": "object"},
                       "geometry": {"type": ["object", "null"], "required": ["type", "coordinates"],
                                    "properties": {"type": {"const": "Point"},
                                                   "coordinates": {"type": "array", "items": {"type": "number"},
                                                                   "minItems": 2, "maxItems": 2}}},
                       "type": {"const": "Feature"}, "id": STR}}}}}


#: The ledger's time view: the records as they stood at the end of a day (China time).
#: The encoding of a CSV answer (only with format csv).
ENCODING = _param("encoding", "CSV only: utf-8-sig (default: UTF-8 with a byte-order mark, which Excel on Chinese "
                  "Windows opens correctly), utf-8 (no BOM) or gb18030; refused with another format",
                  _choice(list(formats.CSV_ENCODINGS)))
AS_OF = _param("as_of", "answer from the ledger as it stood at the end of this day (YYYY-MM-DD, China time); "
               "blank: now", {"type": "string", "pattern": "^([0-9]{4}-[0-9]{2}-[0-9]{2})?$"})


def _filters() -> list[dict[str, Any]]:
    return [
        _param("corridor", "corridor ids, comma-separated (named in its plan or inside its belt)", TEXT),
        _param("status", f"statuses, comma-separated: {', '.join(STATUSES)}", TEXT),
        _param("chain_link", "chain links, comma-separated (see /api/chain)", TEXT),
        _param("district", "county or city codes, comma-separated", TEXT),
        _param("q", "name search: names in Chinese and English, id, firm and partners, and their other names "
                    "in data/aliases.csv (宁德时代 finds CATL's records)", TEXT),
    ]


def _site_params() -> list[dict[str, Any]]:
    return [
        _param("industry", "industry id (see /api/site/industries)", TEXT, True),
        _param("top", "best N parks", _number(1, api.MAX_TOP, integer=True)),
        _param("weights", "criterion weights >= 0, e.g. theme=2,chain=1 (criteria: "
                          f"{', '.join(siting.DEFAULT_WEIGHTS)})", TEXT),
        _param("within_km", "only parks within this many km of `of` or lon/lat",
               _number(0, api.MAX_WITHIN_KM, exclusive=True)),
        _param("of", "feature id for within_km (only with within_km)", TEXT),
        *_lonlat(what="the within_km centre (only with within_km)"), CRS,
        _param("district", "only parks in these county/city codes (comma-separated)", TEXT),
        _param("exclude_district", "no parks in these codes (comma-separated)", TEXT),
        _param("corridor", "only parks of these corridors (comma-separated ids)", TEXT),
        _param("min_status", "minimum park status", _choice(list(STATUSES))),
        _param("chain_km", "radius for chain neighbours (km)",
               _number(0, api.MAX_CHAIN_KM, exclusive=True, default=siting.CHAIN_KM)),
    ]


def _near_params() -> list[dict[str, Any]]:
    return [*_lonlat(), CRS,
            _param("feature", "id of a park, project, institution or corridor, or a district code", TEXT),
            _param("radius_km", "radius in km (geodesic)", _number(0, MAX_RADIUS_KM, exclusive=True), True),
            _param("layer", f"layer(s), comma-separated, or all: {', '.join(QUERYABLE_LAYERS)}", TEXT),
            _param("format", "output format", _choice(["geojson", "json", "csv"])), ENCODING, AS_OF,
            _param("certain_only", "true: only records whose whole possible area lies within the radius",
                   _choice(["true", "false"]))]


#: What every buffer-query and nearest result says about each record's distance.
INTERVAL_FIELDS = (
    "distance_km: geodesic km to the point drawn (0 inside a polygon). distance_min_km / distance_max_km: to "
    "the nearest and farthest point of where the record may lie, its possible area (the point for site "
    "precision, a circle of STREET_RADIUS_KM / TOWN_RADIUS_KM for street / town, the county for district, "
    "the city's counties for city; a feature query starts from the feature's own possible area). "
    "certainty (buffer query): certain when all of the possible area lies within radius_km, possible when "
    "only part does; certain hits come first, then by distance_min_km; summary.certain and summary.possible "
    "count them. located_to_zh / located_to_en: how the record is located. rank_min / rank_max (nearest): "
    "the best and worst rank each result could really hold, given the intervals (equal when the order is "
    "determined).")


def _export_query() -> list[dict[str, Any]]:
    """The permalink's buffer query: qlon/qlat (in crs) or qfeature, qr km, qlayer."""
    return [*_lonlat("q", "a buffer query"), CRS, _param("qfeature", "feature id of a buffer query", TEXT),
            _param("qr", "radius of the buffer query (km)", _number(0, MAX_RADIUS_KM, exclusive=True)),
            _param("qlayer", "layers of the buffer query, comma-separated, or all", TEXT),
            _param("qcertain", "true: only the hits certainly within the radius (the map's certain-only box)",
                   _choice(["true", "false"])), AS_OF]


def _polygon_body() -> dict[str, Any]:
    polygon = {"$ref": "#/components/schemas/PolygonGeometry"}
    return {"required": True, "description": f"the query area: a GeoJSON Polygon or MultiPolygon (or a Feature "
                                             f"with one), WGS84, at most {params.MAX_POLYGON_VERTICES} vertices and "
                                             f"{api.MAX_BODY_BYTES} bytes",
            "content": {"application/json": {"schema": polygon}, "application/geo+json": {"schema": polygon}}}


def document(title: str, data: Dataset | None = None) -> dict[str, Any]:
    """Return the OpenAPI document as a mapping; with ``data``, ids in paths are enumerated from it."""
    features = {"$ref": "#/components/schemas/FeatureCollection"}
    table = {"application/geo+json": features, "application/json": {"type": "object"},
             "text/csv": STR}
    layer_out = _ok("the features (WGS84): GeoJSON, JSON records, CSV or the compact map encoding",
                    "application/geo+json", "application/json", "text/csv", schema=table)
    query_out = _ok("the features found (WGS84) as GeoJSON, JSON or CSV. " + INTERVAL_FIELDS,
                    "application/geo+json", "application/json", "text/csv", schema=table)
    obj = {"application/json": {"type": "object"}}
    id_schema: dict[str, Any] = TEXT
    corridor_schema: dict[str, Any] = TEXT
    # the layers a path may name: the spatial ones, and the tables without geometry (the register, "sources")
    layer_names = list(QUERYABLE_LAYERS)
    if data is not None:
        corridor_schema = {"type": "string", "enum": list(data.layers["corridors"]["id"])}
        layer_names += [n for n, f in data.layers.items() if n not in layer_names and not is_spatial(f)]
    near = {"summary": "Buffer query: everything within radius_km of a point, a feature or a polygon",
            "parameters": [*_near_params(), _param("polygon", "a GeoJSON Polygon (WGS84) instead of a point or "
                                                               "feature; larger ones: POST",
                                                     {"type": "string", "maxLength": api.MAX_URL_POLYGON_CHARS,
                                                      "pattern": "^[ -~]*$"})],
            "responses": {**query_out, **_errors(400, 404)}}
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": "1.1.0",
                 "description": "洛阳都市圈产业走廊地图 API. Every position is WGS84 (EPSG:4326) unless `crs` says "
                                "otherwise for an input; distances are geodesic km. Every answer carries the "
                                "data version it was computed from in the X-Data-Version header."},
        "paths": {
            "/api/layers": {"get": {"summary": "List layers with feature counts and CRS",
                                    "responses": {**_ok("the layers", "application/json", schema=obj),
                                                  **_errors()}}},
            "/api/layers/{layer}": {"get": {
                "summary": "One layer, filtered",
                "description": "The register of sources (`sources`, no geometry) takes no filter: GeoJSON "
                               "gives its rows as features with null geometries, json and csv the rows.",
                "parameters": [_param("layer", "layer name", {"type": "string", "enum": layer_names},
                                      True, "path"), *_filters(),
                               _param("format", "output format; compact = column arrays for the point layers",
                                      _choice(list(api.FORMATS))), ENCODING, AS_OF],
                "responses": {**layer_out, **_errors(400, 404)}}},
            "/api/features/{id}": {"get": {
                "summary": "One feature by id with all attributes",
                "description": "The ETag header names the record's version: send it as If-Match to edit it.",
                "parameters": [_param("id", "feature id or district code", id_schema, True, "path"), AS_OF],
                "responses": {**_ok("a GeoJSON Feature (WGS84) with its ETag", "application/geo+json"),
                              **_errors(400, 404)}},
                "patch": {
                    "summary": "Edit a record (park, project or institution): some properties, and a point to move it",
                    "description": "One change of the ledger, citing a new source of kind edit. Properties named "
                                   "are set (null clears one); the id, source_id, source_row, source, "
                                   "source_excerpt, lon and lat are the ledger's own. A GeoJSON Point (WGS84) "
                                   "moves the record (location_precision: site unless given). If-Match (the ETag "
                                   "of GET) is required; 409 when the record changed since: reload it and retry.",
                    "security": [{"bearer": []}, {"session": []}],
                    "parameters": [_param("id", "the record's id", id_schema, True, "path"), IF_MATCH],
                    "requestBody": _edit_body(),
                    "responses": {**_ok("the record as a GeoJSON Feature with its new ETag (header and etag) and "
                                        "change_id (null when nothing changed)", "application/geo+json"),
                                  **PRECONDITION, **_errors(400, 401, 403, 404, 409, 413)}},
                "delete": {
                    "summary": "Delete a record (park, project or institution); the ledger keeps it for an undo",
                    "security": [{"bearer": []}, {"session": []}],
                    "parameters": [_param("id", "the record's id", id_schema, True, "path"), IF_MATCH],
                    "responses": {**_ok("the change: change_id, layer, id", "application/json", schema=obj),
                                  **PRECONDITION, **_errors(400, 401, 403, 404, 409)}}},
            "/api/layers/{layer}/features": {"post": {
                "summary": "Add a record to parks, projects or institutions: name_zh and a Point at least",
                "description": "One change of the ledger, citing a new source of kind edit; the id is derived from "
                               "name_zh as an import derives it (409 when a record of that name exists).",
                "security": [{"bearer": []}, {"session": []}],
                "parameters": [_param("layer", "the layer", {"type": "string", "enum": list(EDIT_LAYERS)}, True,
                                      "path")],
                "requestBody": _edit_body(),
                "responses": {"201": {"description": "the new record as a GeoJSON Feature with its ETag (header "
                                                     "and etag) and change_id; Location names it",
                                      "content": {"application/geo+json": {"schema": {}}}},
                              **_errors(400, 401, 403, 404, 409, 413)}}},
            "/api/near": {"get": near, "post": {
                **near, "summary": "Buffer query around a polygon sent as the GeoJSON body",
                "parameters": [p for p in _near_params()
                               if p["name"] in ("radius_km", "layer", "format", "encoding", "as_of",
                                                "certain_only")],
                "requestBody": _polygon_body(), "responses": {**query_out, **_errors(400, 413)}}},
            "/tiles/{layer}/{z}/{x}/{y}.mvt": {"get": {
                "summary": "A Mapbox Vector Tile of a point layer: clusters below zoom 13, points from there on",
                "description": "XYZ tiles of Web Mercator (EPSG:3857). A cluster carries count and count_<status>; "
                               "a point id, name_zh, name_en, status. The map's filters and as_of apply; the counts "
                               "of all tiles of a zoom add up to the (filtered) layer. The same as JSON (WGS84): "
                               ".json instead of .mvt, which also gives chain_links (the tile's records per "
                               "chain link).",
                "parameters": [_param("layer", "point layer", _choice(["parks", "projects", "institutions"]), True,
                                      "path"),
                               _param("z", "zoom", _number(0, 20, integer=True), True, "path"),
                               _param("x", "tile column (0 to 2^z - 1)", _number(0, 2**20 - 1, integer=True), True,
                                      "path"),
                               _param("y", "tile row (0 to 2^z - 1)", _number(0, 2**20 - 1, integer=True), True,
                                      "path"),
                               *_filters(), AS_OF,
                               _param("v", "the data version the tile is asked for (the X-Data-Version of the "
                                           "map's count): when it is the current one, the tile may be kept a day",
                                      TEXT)],
                "responses": {**_ok("the tile", "application/vnd.mapbox-vector-tile"), **_errors(400, 404)}}},
            "/charts/{chart}.svg": {"get": {
                "summary": "A chart of the projects the map shows, as a standalone SVG file (styles inside)",
                "description": "projects-by-status, projects-by-chain-link or investment-by-district (known "
                               "investment, 亿元; unknown is not 0). The map's filters and as_of apply.",
                "parameters": [_param("chart", "the chart", _choice(["projects-by-status", "projects-by-chain-link",
                                                                      "investment-by-district"]), True, "path"),
                               *_filters(), AS_OF],
                "responses": {**_ok("the chart", "image/svg+xml"), **_errors(400, 404)}}},
            "/api/possible-area": {"get": {
                "summary": "Where a feature may lie, given how precisely it is located",
                "description": "A GeoJSON Feature (WGS84): its point (site), a circle (street, town), its county "
                               "(district) or its city's counties (city), with located_to_zh / located_to_en.",
                "parameters": [_param("feature", "feature id", TEXT, True), AS_OF],
                "responses": {**_ok("the possible area", "application/geo+json"), **_errors(400, 404)}}},
            "/api/nearest": {"get": {
                "summary": "The k nearest features of a layer, ranked by their nearest possible distance",
                "parameters": [*_lonlat(), CRS, _param("feature", "feature id instead of lon/lat", TEXT),
                               _param("layer", "layer", _choice(list(QUERYABLE_LAYERS)), True),
                               _param("k", "how many", _number(1, MAX_K, integer=True, default=5)),
                               _param("format", "output format", _choice(["geojson", "json", "csv"])), ENCODING],
                "responses": {**query_out, **_errors(400, 404)}}},
            "/api/corridors": {"get": {"summary": "Standing of every corridor against its 2021 target (亿元)",
                                       "parameters": [AS_OF, _param(
                                           "members", "false: without the lists of member projects and parks",
                                           _choice(["true", "false"]))],
                                       "responses": {**_ok("standing", "application/json", schema=obj),
                                                     **_errors(400)}}},
            "/api/corridors/{id}": {"get": {
                "summary": "Standing and chain coverage of one corridor",
                "parameters": [_param("id", "corridor id", corridor_schema, True, "path"), AS_OF],
                "responses": {**_ok("standing", "application/json", schema=obj), **_errors(400, 404)}}},
            "/api/chain": {"get": {
                "summary": "Industrial-chain coverage: present and missing links",
                "parameters": [_param("park", "park id", TEXT), _param("corridor", "corridor id", TEXT),
                               _param("chain", "chain id from the catalogue",
                                      _choice(list(chain.CHAINS), chain.DEFAULT_CHAIN))],
                "responses": {**_ok("coverage", "application/json", schema=obj), **_errors(400, 404)}}},
            "/api/site": {"get": {
                "summary": "Site selection: parks ranked for an industry, with score breakdown and reasons",
                "parameters": [*_site_params(), _param("format", "json or geojson",
                                                       _choice(["json", "geojson"]))],
                "responses": {**_ok("the ranking", "application/json", "application/geo+json",
                                    schema={"application/json": {"type": "object"},
                                            "application/geo+json": features}), **_errors(400, 404)}}},
            "/api/site/surface": {"get": {
                "summary": "Suitability surface: hexagons scored for an industry (GeoJSON, WGS84)",
                "parameters": [_param("industry", "industry id", TEXT, True), _param("weights", "weights", TEXT),
                               _param("spacing_km", "distance between hexagon centres (km)",
                                      _number(api.MIN_SPACING_KM, api.MAX_SPACING_KM, default=siting.HEX_KM))],
                "responses": {**_ok("the hexagons", "application/geo+json",
                                    schema={"application/geo+json": features}), **_errors(400, 404)}}},
            "/api/import": {"post": {
                "summary": "Import a file of parks, projects or institutions into the ledger (preview with dry_run=1)",
                "description": "The file (XLSX, CSV in UTF-8/GB18030, GeoJSON or GeoPackage) as the multipart field "
                               "`file`. Coordinates in `crs`, stored as WGS84. A preview writes nothing; a commit "
                               "writes all rows or none (skip_invalid=1: the valid ones) as one change.",
                "security": [{"bearer": []}, {"session": []}],
                "parameters": [_param("layer", "the layer imported", _choice(list(ledger.IMPORT_LAYERS)), True),
                               _param("crs", "system of the file's coordinates", _choice(list(ledger.CRS_CHOICES))),
                               _param("sheet", "sheet (XLSX) or layer (GeoPackage) to read", TEXT),
                               _param("dry_run", "1: preview only", _choice(["0", "1", "true", "false"])),
                               _param("skip_invalid", "1: commit the valid rows when some are rejected",
                                      _choice(["0", "1", "true", "false"]))],
                "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                    "type": "object", "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}}}}}},
                "responses": {**_ok("the report: added, updated, unchanged, duplicates, rejected (row, column, "
                                    "value, message_zh, message_en) and, on commit, change_id", "application/json",
                                    schema=obj),
                              "422": {"description": "rows were rejected and nothing was written (the report)",
                                      "content": obj}, **_errors(400, 401, 403, 409, 413)}}},
            "/api/import/template": {"get": {
                "summary": "The XLSX template of a layer (headers in Chinese and English, an example row)",
                "parameters": [_param("layer", "the layer", _choice(list(ledger.IMPORT_LAYERS)))],
                "responses": {**_ok("the template", "application/vnd.openxmlformats-officedocument.spreadsheetml"
                                                     ".sheet", schema=STR), **_errors(400)}}},
            "/api/convert": {"get": {
                "summary": "A position in GCJ-02 (AMap/Tencent), BD-09 (Baidu), CGCS2000 or WGS84 as WGS84",
                "description": "What the map's edit form uses for pasted coordinates: {lon, lat, crs: EPSG:4326, "
                               "from: {lon, lat, crs}}; the position must lie in the study area.",
                "parameters": [*_lonlat(what="the position"), _param(
                    "crs", "system of lon/lat: wgs84 (GPS), gcj02 (AMap/Tencent), bd09 (Baidu), cgcs2000",
                    _choice(list(params.SYSTEMS), "wgs84"))],
                "responses": {**_ok("the position in WGS84", "application/json", schema=obj), **_errors(400)}}},
            "/api/me": {"get": {
                "summary": "Who the session is: user (null when anonymous), can_edit, and an editor's CSRF token",
                "description": "Not cached (per user). An editor's session sends csrf_token in the X-CSRFToken "
                               "header of its writes.",
                "responses": _ok("the user", "application/json", schema=obj)}},
            "/api/history": {"get": {
                "summary": "The ledger's change log, oldest first (every import, edit, undo and seed build)",
                "parameters": [_param("id", "only this record's changes", TEXT),
                               _param("change", "only this change's record changes", TEXT),
                               _param("layer", "only this layer", _choice(list(LEDGER_LAYERS))),
                               _param("since", "recorded on or after this day (China time)",
                                      {"type": "string", "pattern": "^([0-9]{4}-[0-9]{2}-[0-9]{2})?$"}),
                               _param("limit", "at most this many (the latest)",
                                      {"type": "integer", "minimum": 1, "maximum": ledger.MAX_HISTORY_ROWS})],
                "responses": {**_ok("the changes with the records before and after", "application/json",
                                    schema=obj), **_errors(400)}}},
            "/api/history/{change_id}/revert": {"post": {
                "summary": "Undo a change with a new change that restores what it changed",
                "security": [{"bearer": []}, {"session": []}],
                "parameters": [_param("change_id", "the change to undo", TEXT, True, "path")],
                "responses": {**_ok("the new change", "application/json", schema=obj),
                              **_errors(401, 403, 404, 409)}}},
            "/api/site/industries": {"get": {"summary": "The industry catalogue",
                                             "responses": _ok("the catalogue", "application/json", schema=obj)}},
            "/export/map.{fmt}": {"get": {
                "summary": "A print-ready map (png, svg or pdf) of the permalink's state, a corridor, a buffer "
                           "query or a site-selection result",
                "parameters": [_param("fmt", "png, svg or pdf", {"type": "string", "enum": list(render.FORMATS)},
                                      True, "path"), *_filters(),
                               _param("size", f"{', '.join(render.SIZES)} or WxH pixels (each side "
                                              f"{render.PIXEL_RANGE[0]}..{render.PIXEL_RANGE[1]}, at most "
                                              f"{render.MAX_PAGE_PIXELS} pixels)", TEXT),
                               _param("dpi", "dots per inch of a paper page",
                                      _number(*render.DPI_RANGE, integer=True)),
                               _param("title", "map title, drawn literally",
                                      {"type": "string", "maxLength": render.MAX_TEXT_CHARS}),
                               *_export_query(), _param("industry", "draw a site-selection result", TEXT),
                               _param("extent", "auto, or view (bbox, else the lat/lon/z of the permalink)",
                                      _choice(["auto", "view"])),
                               _param("bbox", "the view shown: west,south,east,north (WGS84 degrees); implies "
                                              "extent=view", TEXT)],
                "responses": {**_ok("the map file", *render.MIMETYPES.values()), **_errors(400, 404)}}},
            "/export/data.{fmt}": {"get": {
                "summary": "Data download of a layer, query or site result (geojson, csv or gpkg; WGS84)",
                "parameters": [_param("fmt", "geojson, csv or gpkg",
                                      {"type": "string", "enum": list(downloads.FORMATS)}, True, "path"),
                               _param("layer", "a layer (or give a buffer query or an industry instead)",
                                      _choice(layer_names)), *_filters(),
                               *_export_query(), _param("industry", "a site-selection result instead", TEXT),
                               _param("download", "yes/no: an attachment",
                                      _choice(["0", "1", "true", "false", "yes", "no"])), ENCODING],
                "responses": {**_ok("the data file", *(m.split(";")[0] for m in downloads.MIMETYPES.values())),
                              **_errors(400, 404)}}},
            "/healthz": {"get": {"summary": "The process answers",
                                 "responses": _ok("up", "application/json", schema=obj)}},
            "/readyz": {"get": {"summary": "The store opens and every layer reads",
                                "responses": {**_ok("ready", "application/json", schema=obj),
                                              "503": {"description": "not ready: the message says what to do",
                                                      "content": {"application/json": {"schema": obj}}}}}},
        },
        "components": {"securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer",
                       "description": "a token from `python run.py tokens add NAME`"},
            "session": {"type": "apiKey", "in": "cookie", "name": "session",
                        "description": "a login at /login; writes then need the X-CSRFToken header"},
        }, "schemas": {
            "Error": {"type": "object", "required": ["error", "type"],
                      "properties": {"error": STR, "type": STR, "field": {"type": ["string", "null"]},
                                     "row": {"type": ["integer", "null"]}, "file": {"type": ["string", "null"]}}},
            "FeatureCollection": {"type": "object", "required": ["type", "features"],
                                  "properties": {"type": {"const": "FeatureCollection"},
                                                 "features": {"type": "array", "items": {"type": "object"}}}},
            "PolygonGeometry": {"type": "object", "required": ["type"],
                                "properties": {"type": {"enum": ["Polygon", "MultiPolygon", "Feature"]},
                                               "coordinates": {"type": "array"}, "geometry": {"type": "object"}}},
        }},
    }
