"""OGC API - Features under ``/ogcapi``: the views turn requests into ``geo.ogcapi`` calls and its results
into JSON, GeoJSON or HTML responses.

``f=json|html`` chooses the format; without it the ``Accept`` header does (``application/geo+json``,
``application/json``, ``text/html``; JSON when nothing says otherwise). The answers come from the
request's snapshot (``webmap.data.current_data``), so an import or an edit shows at once, and every
answer carries its ``X-Data-Version``. Errors are OGC exception documents
(``{"code": "InvalidParameterValue", "description": ...}``) with the matching status.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, render_template, request

from geo import ogcapi
from geo.errors import GeoError
from geo.ogcapi import GEOJSON, HTML, JSON, OPENAPI_JSON, SCHEMA_JSON, OgcError
from webmap.data import current_data, current_settings
from webmap.features import PROVENANCE_KEYS

bp = Blueprint("ogcapi", __name__, url_prefix="/ogcapi")

#: What each answer may be, in order of preference when the Accept header leaves a tie.
JSON_TYPES = (GEOJSON, JSON)


def base_url() -> str:
    """The API's absolute base URL (``http://host/ogcapi``), for the links of the answers."""
    return request.url_root.rstrip("/") + "/ogcapi"


def _args() -> dict[str, list[str]]:
    return request.args.to_dict(flat=False)


def wants_html(allowed: frozenset[str] = frozenset({"f"})) -> bool:
    """Whether the answer is HTML: ``f`` decides, else the Accept header (JSON unless HTML is preferred).

    Parameters other than ``allowed`` are refused (400)."""
    args = _args()
    unknown = sorted(set(args) - set(allowed))
    if unknown:
        raise ogcapi.invalid(f"unknown parameter(s): {', '.join(unknown)}; expected: {', '.join(sorted(allowed))}")
    f = request.args.get("f")
    if f is not None and f != "":
        if f in ("json", "geojson", "application/json", GEOJSON):
            return False
        if f in ("html", HTML):
            return True
        raise ogcapi.invalid(f"f={f!r} is not a format this API gives; expected json or html")
    best = request.accept_mimetypes.best_match([*JSON_TYPES, HTML, "application/schema+json",
                                                "application/vnd.oai.openapi+json"], default=JSON)
    return best == HTML


def _json(doc: Any, mimetype: str = JSON, status: int = 200) -> Response:
    body = doc if isinstance(doc, str) else json.dumps(doc, ensure_ascii=False)
    return Response(body, status=status, mimetype=mimetype)


def _html_links(links: list[dict[str, str]]) -> list[dict[str, str]]:
    """The HTML variant of JSON links (paging links of an HTML page lead to HTML pages)."""
    return [{**link, "href": link["href"].replace("f=json", "f=html"), "type": HTML} for link in links]


@bp.errorhandler(OgcError)
def _ogc_error(exc: OgcError) -> Response:
    return _json(exc.to_dict(), status=exc.status)


@bp.errorhandler(GeoError)
def _geo_error(exc: GeoError) -> Response:
    code = {404: "NotFound", 503: "ServiceUnavailable"}.get(exc.http_status, "InvalidParameterValue")
    if exc.http_status >= 500 and code != "ServiceUnavailable":
        raise exc
    return _json({"code": code, "description": exc.detail}, status=exc.http_status)


@bp.get("", strict_slashes=False)
def landing() -> Response | str:
    """The landing page: links to itself, the API definition, conformance and the collections."""
    html = wants_html()
    current_data()  # the answer names the data version like every other
    doc = ogcapi.landing(base_url())
    if html:
        return render_template("ogcapi_landing.html", doc=doc, base=base_url())
    return _json(doc)


@bp.get("/conformance")
def conformance() -> Response | str:
    """The conformance classes."""
    doc = ogcapi.conformance()
    if wants_html():
        return render_template("ogcapi_conformance.html", doc=doc)
    return _json(doc)


@bp.get("/api")
def api() -> Response | str:
    """The OpenAPI 3.0 document (``f=html``: a page listing the paths and their parameters)."""
    html = wants_html()
    data = current_data()
    base = base_url()
    doc = data.cached(("ogcapi", "openapi", base), lambda: ogcapi.openapi(data, base))
    if html:
        return render_template("ogcapi_api.html", doc=doc, base=base)
    return _json(doc, OPENAPI_JSON)


@bp.get("/collections")
def collections() -> Response | str:
    """Every collection with its extent, CRS and links."""
    html = wants_html()
    doc = ogcapi.collections(current_data(), base_url())
    if html:
        return render_template("ogcapi_collections.html", doc=doc)
    return _json(doc)


@bp.get("/collections/<collection_id>")
def collection(collection_id: str) -> Response | str:
    """One collection's metadata."""
    html = wants_html()
    doc = ogcapi.collection(current_data(), collection_id, base_url())
    if html:
        return render_template("ogcapi_collection.html", doc=doc)
    return _json(doc)


@bp.get("/collections/<collection_id>/queryables")
def queryables(collection_id: str) -> Response | str:
    """The properties the items may be filtered by (a JSON Schema)."""
    html = wants_html()
    doc = ogcapi.queryables(current_data(), collection_id, base_url())
    if html:
        return render_template("ogcapi_queryables.html", doc=doc, collection_id=collection_id)
    return _json(doc, SCHEMA_JSON)


def _with_crs(resp: Response, crs: ogcapi.Crs) -> Response:
    resp.headers["Content-Crs"] = f"<{crs.uri}>"
    return resp


@bp.get("/collections/<collection_id>/items")
def items(collection_id: str) -> Response:
    """The features of a collection: bbox, limit, offset, datetime, crs and equality filters on the queryables."""
    data = current_data()
    ogcapi.prepare(data, collection_id)  # an unknown collection is a 404 before its parameters are read
    html = wants_html(ogcapi.ITEMS_PARAMS | set(ogcapi.prepare(data, collection_id).filters))
    result = ogcapi.items(data, collection_id, _args(), base_url())
    if html:
        page = render_template("ogcapi_items.html", result=result, collection_id=collection_id,
                               title=ogcapi.COLLECTIONS[collection_id],
                               links=_html_links([lk for lk in result.links if lk["rel"] in ("next", "prev")]),
                               columns=_columns(result), json_href=result.links[0]["href"])
        return _with_crs(Response(page, mimetype=HTML), result.crs)
    return _with_crs(_json(result.text, GEOJSON), result.crs)


#: Columns of the items table besides the id, when the collection has them.
ITEM_COLUMNS = ("name_zh", "name_en", "status", "kind", "industry", "chain_link", "corridor_id", "park_id",
                "district_code", "reported_date", "planned_date", "city_zh")


def _columns(result: ogcapi.ItemsResult) -> list[str]:
    return [c for c in ITEM_COLUMNS if c in result.prep.frame.columns]


@bp.get("/collections/<collection_id>/items/<feature_id>")
def item(collection_id: str, feature_id: str) -> Response:
    """One feature (``crs``: the CRS of its geometry); the HTML page draws it on a small map."""
    data = current_data()
    ogcapi.prepare(data, collection_id)
    html = wants_html(ogcapi.ITEM_PARAMS)
    result = ogcapi.item(data, collection_id, feature_id, _args(), base_url())
    if html:
        settings = current_settings()
        tiles = None if not settings.tiles or settings.tiles == "offline" else settings.tiles
        page = render_template("ogcapi_item.html", result=result, collection_id=collection_id,
                               title=ogcapi.COLLECTIONS[collection_id], tiles=tiles, hidden=PROVENANCE_KEYS,
                               tiles_attribution=settings.tiles_attribution)
        return _with_crs(Response(page, mimetype=HTML), result.crs)
    return _with_crs(_json(result.text, GEOJSON), result.crs)
