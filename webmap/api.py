"""JSON API: ``/api/layers`` and ``/api/layers/<layer>`` (GeoJSON FeatureCollection, WGS84)."""

from __future__ import annotations

import json

from flask import Blueprint, Response, jsonify

from webmap.data import current_data

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/layers")
def layers_index() -> Response:
    """List the layers with their feature counts, geometry types and CRS."""
    info = current_data().store.info()
    return jsonify({"layers": [vars(i) for i in info]})


@bp.get("/layers/<layer>")
def layer_geojson(layer: str) -> Response:
    """Return one layer as a GeoJSON FeatureCollection in WGS84 (RFC 7946)."""
    gdf = current_data().layer(layer)
    body = gdf.to_json(na="null", show_bbox=False, drop_id=True, ensure_ascii=False)
    doc = json.loads(body)
    doc["name"] = layer
    return Response(json.dumps(doc, ensure_ascii=False), mimetype="application/geo+json")
