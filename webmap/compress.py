"""gzip for text responses (pages, JSON, GeoJSON, CSV) when the client accepts it."""

from __future__ import annotations

import gzip

from flask import Flask, Response, request

COMPRESSIBLE = ("text/", "application/json", "application/geo+json", "application/javascript", "application/schema+json",
                "application/vnd.oai.openapi+json", "application/vnd.mapbox-vector-tile")
MIN_BYTES = 1024


def compress_response(resp: Response) -> Response:
    """Compress a text response body with gzip when worthwhile and accepted."""
    if (resp.direct_passthrough or resp.status_code < 200 or resp.status_code >= 300
            or "Content-Encoding" in resp.headers or not resp.mimetype.startswith(COMPRESSIBLE)
            or "gzip" not in request.headers.get("Accept-Encoding", "")):
        return resp
    body = resp.get_data()
    if len(body) < MIN_BYTES:
        return resp
    resp.set_data(gzip.compress(body, compresslevel=5))
    resp.headers["Content-Encoding"] = "gzip"
    resp.vary.add("Accept-Encoding")
    return resp


def init_app(app: Flask) -> None:
    """Register the compression hook."""
    app.after_request(compress_response)
