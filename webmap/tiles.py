"""Tiles of the point layers for big data: ``/tiles/<layer>/<z>/<x>/<y>.mvt`` (Mapbox Vector Tile) and ``.json``.

Clusters below ``geo.tiles.POINTS_FROM_Z``, points from there on, computed by ``geo.tiles`` over the
request's snapshot; the map's filters (``corridor``, ``status``, ``chain_link``, ``district``, ``q``)
and ``as_of`` apply as on ``/api/layers/<layer>``, so counts stay exact. XYZ tiles of Web Mercator
(EPSG:3857); JSON positions are WGS84.

A tile is fixed by its data version: a tile URL that names the version (``v=``, the ``X-Data-Version`` of the
count the map asked first, as ``static/app/tile_points.js`` adds it) may be kept by the browser for a day
(``Cache-Control: immutable``), so panning back or zooming out again costs no request; any other is revalidated.
When anyone may read (``READ_ACCESS=public``) tiles may be fetched from any origin (``Access-Control-Allow-Origin:
*``, no credentials), so ``webmap.tile_points.TilePoints`` works from a notebook's page against a running app.
"""

from __future__ import annotations

import threading

from flask import Blueprint, Response

from geo import filters, tiles
from geo.dataset import Dataset
from geo.errors import ValidationError
from webmap.api import data_as_of, layer_filters, request_args, respond, standing
from webmap.data import current_data, current_settings

bp = Blueprint("tiles", __name__)

#: The layers served as tiles (the point layers).
TILE_LAYERS = ("parks", "projects", "institutions")
MVT = "application/vnd.mapbox-vector-tile"


def _source(layer: str) -> tiles.TileSource:
    """The request's layer, filtered, as a tile source (built once per data version and filter)."""
    if layer not in TILE_LAYERS:
        raise ValidationError(f"no tiles for layer {layer[:40]!r}; expected one of: {', '.join(TILE_LAYERS)}",
                              field="layer")
    args = request_args()
    args.text("v")  # the data version named (see _cacheable): checked before any work
    data = data_as_of(args)
    return source_for(data, layer, layer_filters(args, data))


def source_for(data: Dataset, layer: str, wanted: filters.Filters) -> tiles.TileSource:
    """A layer of ``data``, filtered, as a tile source: built once per data version and filter (concurrent
    requests for it wait for the one build)."""
    key = ("tiles", layer, tuple(sorted(wanted.as_params().items())))
    return data.cached(key, lambda: tiles.TileSource(layer, filters.apply(layer, data.layers, wanted, data.joined)))


def warm(data: Dataset, big_features: int) -> None:
    """Build, in the background, what the map page asks of a new snapshot with big layers (more than
    ``big_features`` features), so that its first visitor does not wait for it: the unfiltered tile sources of
    those layers, then the corridor standing of the page's time panel."""
    big = [layer for layer in TILE_LAYERS if layer in data.layers and len(data.layers[layer]) > big_features]

    def build() -> None:
        for layer in big:
            source_for(data, layer, filters.Filters())
        standing(data, members=False)

    if big:
        threading.Thread(target=build, name="warm-tiles", daemon=True).start()


def _cacheable(resp: Response) -> Response:
    """Kept by the browser when the URL names the data version the tile was made from (``v=``), else revalidated;
    readable from any origin when anyone may read."""
    named = request_args().text("v")
    resp.headers["Cache-Control"] = ("private, max-age=86400, immutable" if named and named == current_data().version
                                     else "no-cache")
    if current_settings().read_access == "public":
        resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp


@bp.get("/tiles/<layer>/<int(signed=True):z>/<int(signed=True):x>/<int(signed=True):y>.mvt")
def mvt(layer: str, z: int, x: int, y: int) -> Response:
    """One vector tile: clusters (count, count per status) or points (id, names, status) of a point layer."""
    tile = tiles.check_tile(z, x, y)
    return _cacheable(Response(tiles.to_mvt(_source(layer), tile), mimetype=MVT))


@bp.get("/tiles/<layer>/<int(signed=True):z>/<int(signed=True):x>/<int(signed=True):y>.json")
def tile_json(layer: str, z: int, x: int, y: int) -> Response:
    """One tile as JSON: kind (clusters or points), WGS84 bounds, count and features (lon/lat WGS84), and
    chain_links: the number of its records per chain link."""
    tile = tiles.check_tile(z, x, y)
    source = _source(layer)
    return _cacheable(respond({**tiles.to_json(source, tile), "chain_links": source.chain_links(tile)}))
