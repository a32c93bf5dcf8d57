"""webmap: the Flask app of the Luoyang industrial-corridor map.

``create_app(test_config=None)`` builds the app: defaults in one mapping, overridden by environment
variables, then by ``test_config``; one blueprint per feature. Views only turn requests into plain
arguments, call ``geo``, and turn its results into responses.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask, jsonify, request
from werkzeug.datastructures import Headers
from werkzeug.exceptions import HTTPException

from geo.citations import kind_label
from geo.errors import GeoError, StoreUnavailable
from geo.store import default_store_path

#: Defaults that run out of the box; each can be set by an environment variable of the same name.
DEFAULTS: dict[str, Any] = {
    "CORRIDORS_STORE": None,  # GeoPackage path; None means data/build/corridors.gpkg
    "CORRIDOR_BELT_KM": None,  # belt half-width either side of a corridor axis; None means 15 km
    "TILES": "offline",  # basemap: "offline" (district boundaries) or an XYZ URL template on your intranet
    "TILES_CRS": "wgs84",  # CRS of those tiles; GCJ-02 (AMap/Tencent) or BD-09 tiles are refused
    "TILES_ATTRIBUTION": "",
}


def _check_tiles(config: Mapping[str, Any]) -> None:
    """Refuse basemap tiles the overlays would not line up with (GCJ-02/BD-09 are offset ~0.6-1.3 km)."""
    tiles_crs = str(config["TILES_CRS"]).lower()
    if tiles_crs in ("gcj02", "bd09"):
        raise ValueError(f"TILES_CRS={tiles_crs}: the overlays are WGS84 and would be drawn 0.6–1.3 km off on "
                         "these tiles; configure WGS84 (or CGCS2000) XYZ tiles, or TILES=offline")
    if tiles_crs not in ("wgs84", "cgcs2000"):
        raise ValueError(f"TILES_CRS={tiles_crs!r}: expected wgs84 or cgcs2000")
    url = str(config["TILES"])
    if url != "offline" and not ("{z}" in url and "{x}" in url and "{y}" in url):
        raise ValueError(f"TILES={url!r}: expected 'offline' or an XYZ URL template with {{z}}/{{x}}/{{y}}")


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask app over the configured store."""
    app = Flask(__name__)
    app.config.from_mapping(DEFAULTS)
    for key in DEFAULTS:
        if os.environ.get(key):
            app.config[key] = os.environ[key]
    if test_config:
        app.config.from_mapping(test_config)
    app.config["CORRIDORS_STORE"] = str(app.config["CORRIDORS_STORE"] or default_store_path())
    _check_tiles(app.config)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.jinja_env.globals["kind_label"] = kind_label  # a source's kind, bilingually (templates/_source.html)

    from webmap import api, compress, corridors, data, export, features, health, pages, security, site

    app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_CONTENT_LENGTH"] or api.MAX_BODY_BYTES  # else a JSON 413
    data.init_app(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(corridors.bp)
    app.register_blueprint(features.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(site.bp)
    app.register_blueprint(export.bp)
    compress.init_app(app)
    security.init_app(app)  # after compress: after_request hooks run in reverse, so it sees the plain HTML

    @app.errorhandler(GeoError)
    def _geo_error(exc: GeoError):  # one handler maps the whole geo error family
        if exc.http_status >= 500 and not isinstance(exc, StoreUnavailable):
            return _internal_error(exc)
        return jsonify(exc.public_dict()), exc.http_status

    @app.errorhandler(Exception)
    def _internal_error(exc: Exception):  # anything unexpected: logged here, never shown to the client
        app.logger.exception("unexpected error on %s", request.path)
        return jsonify({"error": "internal error: the request could not be answered; the server log has the "
                                 "details", "type": "InternalServerError"}), 500

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        # keep the headers werkzeug gives the error: Allow (405), Retry-After (429/503), WWW-Authenticate (401)
        headers = Headers([(k, v) for k, v in exc.get_response().headers
                           if k.lower() not in ("content-type", "content-length")])
        return jsonify({"error": exc.description, "type": exc.name}), exc.code, headers

    return app
