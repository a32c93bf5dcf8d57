"""webmap: the Flask app of the Luoyang industrial-corridor map.

``create_app(test_config=None)`` builds the app: the settings (``geo.settings``) from the environment,
overridden by ``test_config``, checked once; one blueprint per feature. Views only turn requests into
plain arguments, call ``geo``, and turn its results into responses.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask, jsonify, request
from werkzeug.datastructures import Headers
from werkzeug.exceptions import HTTPException

from geo import fonts
from geo.citations import kind_label
from geo.errors import GeoError, StoreUnavailable
from geo.settings import INSTANCE_DIR, NAMES, Settings


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask app over the configured store.

    Settings (``geo.settings.NAMES``) come from the environment, overridden by ``test_config``; they are
    checked once into a :class:`geo.settings.Settings` handed to everything that needs one, and a bad
    value stops start-up with a message naming the setting."""
    app = Flask(__name__, instance_path=str(INSTANCE_DIR))
    raw: dict[str, Any] = {name: os.environ.get(name) for name in NAMES}
    if test_config:
        app.config.from_mapping(test_config)
        raw.update({k: v for k, v in test_config.items() if k in NAMES})
    settings = Settings.from_mapping(raw)
    app.extensions["settings"] = settings
    fonts.use_font(settings.cjk_font)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.jinja_env.globals["kind_label"] = kind_label  # a source's kind, bilingually (templates/_source.html)

    from webmap import (
        api,
        auth,
        compress,
        corridors,
        data,
        edits,
        export,
        features,
        health,
        ledger,
        ogcapi,
        pages,
        security,
        site,
    )

    app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_CONTENT_LENGTH"] or api.MAX_BODY_BYTES  # else a JSON 413
    data.init_app(app)
    ledger.init_app(app)  # before auth: an upload's size limit must hold when the CSRF check reads the form
    app.register_blueprint(edits.bp)  # PATCH/DELETE /api/features/<id>, POST /api/layers/<layer>/features
    auth.init_app(app)  # sessions, logins, bearer tokens, CSRF; READ_ACCESS=login guards every view
    app.register_blueprint(health.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(corridors.bp)
    app.register_blueprint(features.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(site.bp)
    app.register_blueprint(export.bp)
    app.register_blueprint(ogcapi.bp)  # OGC API - Features under /ogcapi
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
