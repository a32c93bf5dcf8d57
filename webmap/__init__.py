"""webmap: the Flask app of the Luoyang industrial-corridor map.

``create_app(test_config=None)`` builds the app: the settings (``geo.settings``) from the environment,
overridden by ``test_config``, checked once; one blueprint per feature. Views only turn requests into
plain arguments, call ``geo``, and turn its results into responses.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
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
        charts,
        compress,
        convert,
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
        stylesheet,
        tiles,
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
    app.register_blueprint(tiles.bp)  # /tiles/<layer>/<z>/<x>/<y>.mvt|.json
    data.on_new_snapshot(app, lambda snapshot: tiles.warm(snapshot, settings.big_layer_features))
    app.register_blueprint(charts.bp)  # /charts/<chart>.svg: standalone SVG charts of the shown projects
    app.register_blueprint(site.bp)
    app.register_blueprint(export.bp)
    app.register_blueprint(stylesheet.bp)  # /app/style.css: geo.style's colours as CSS custom properties
    app.register_blueprint(ogcapi.bp)  # OGC API - Features under /ogcapi
    app.register_blueprint(convert.bp)  # GET /api/convert (GCJ-02/BD-09 to WGS84), /api/me (user, CSRF token)
    compress.init_app(app)
    security.init_app(app)  # after compress: after_request hooks run in reverse, so it sees the plain HTML

    @app.errorhandler(GeoError)
    def _geo_error(exc: GeoError):  # one handler maps the whole geo error family
        if exc.http_status >= 500 and not isinstance(exc, StoreUnavailable):
            return _internal_error(exc)
        return _error_response(exc.public_dict(), exc.http_status)

    @app.errorhandler(Exception)
    def _internal_error(exc: Exception):  # anything unexpected: logged here, never shown to the client
        app.logger.exception("unexpected error on %s", request.path)
        return _error_response({"error": "internal error: the request could not be answered; the server log has "
                                         "the details", "type": "InternalServerError"}, 500)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        # keep the headers werkzeug gives the error: Allow (405), Retry-After (429/503), WWW-Authenticate (401)
        headers = Headers([(k, v) for k, v in exc.get_response().headers
                           if k.lower() not in ("content-type", "content-length")])
        return _error_response({"error": exc.description, "type": exc.name}, exc.code or 500, headers)

    return app


#: Paths whose errors are always JSON (the API, downloads, probes), whatever the client accepts.
JSON_PATHS = ("/api/", "/export/", "/readyz", "/healthz", "/ogcapi", "/tiles/")
#: The headline and what to do, per status, in both languages.
ERROR_PAGES: dict[int, tuple[str, str, str, str]] = {
    400: ("请求有误", "Bad request", "请检查链接中的参数", "check the parameters in the link"),
    401: ("需要登录", "Login required", "请先登录", "log in first"),
    403: ("无权访问", "Forbidden", "此操作需要相应权限", "this needs a role you do not have"),
    404: ("未找到", "Not found", "该编号不存在，或已被删除", "no record has this id, or it was deleted"),
    405: ("方法不允许", "Method not allowed", "请使用页面上的链接或按钮", "use the page's links and buttons"),
    409: ("冲突", "Conflict", "记录已被他人修改，请刷新后重试", "someone changed it first: reload and retry"),
    503: ("数据暂不可用", "Data unavailable", "请联系管理员重建数据", "ask the administrator to rebuild the data"),
}


def _wants_html() -> bool:
    """Whether the error goes to a person in a browser: a page URL asked for as HTML (not the API)."""
    if request.path.startswith(JSON_PATHS):
        return False
    accept = request.accept_mimetypes
    return "text/html" in accept.values() and accept.best_match(["application/json", "text/html"]) == "text/html"


def _error_response(body: dict[str, Any], status: int, headers: Headers | None = None) -> Response:
    """An error as JSON (the API, scripts) or as a bilingual HTML page (a browser asking for a page)."""
    if not _wants_html():
        resp = jsonify(body)
    else:
        zh, en, hint_zh, hint_en = ERROR_PAGES.get(status, ("服务器错误", "Server error", "请稍后再试",
                                                            "try again later"))
        resp = Response(render_template("error.html", code=status, title_zh=zh, title_en=en,
                                        message=body.get("error", ""), hint_zh=hint_zh, hint_en=hint_en),
                        mimetype="text/html")
    resp.status_code = status
    if headers is not None:
        resp.headers.extend(headers)
    return resp
