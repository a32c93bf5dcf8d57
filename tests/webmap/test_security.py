"""Security headers on every response: CSP (inline scripts by hash, no unsafe-inline/eval), nosniff, framing,
referrer policy; error responses keep werkzeug's headers (Allow on a 405) and their JSON shape."""

from __future__ import annotations

import base64
import gzip
import hashlib
from html.parser import HTMLParser

import pytest
from flask import request
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import TooManyRequests, Unauthorized

from webmap import create_app
from webmap.compress import compress_response
from webmap.security import add_security_headers, inline_scripts, script_hash, tile_source

HTML_PAGES = [
    "/",
    "/site",
    "/site?industry=battery-materials&top=5",
    "/site/map?industry=battery-materials&top=5",
    "/corridors",
    "/ledger",
    "/login",
    "/corridors/luo-ru",
    "/corridors/luo-ru/map",
    "/data",
    "/parks/luoyang-new-energy-park",
    "/projects/youbo-battery-foil",
    "/institutions/zhongzhou-shidai",
]
OTHER = [
    ("/api/layers", 200, "application/json"),
    ("/api/layers/parks", 200, "application/geo+json"),
    ("/api/layers/parks?format=csv", 200, "text/csv"),
    ("/api/openapi.json", 200, "application/json"),
    ("/export/map.svg?corridor=luo-ru&size=800x600&dpi=50", 200, "image/svg+xml"),
    ("/static/app/map.js", 200, "text/javascript"),
    ("/static/app/map.css", 200, "text/css"),
    ("/static/vendor/leaflet/images/marker-icon.png", 200, "image/png"),
    ("/favicon.ico", 200, "image/svg+xml"),
    ("/nope", 404, "application/json"),
    ("/parks/nope", 404, "application/json"),
    ("/static/app/nope.js", 404, "application/json"),
    ("/api/near?lon=x", 400, "application/json"),
]
FRAMED_BY_THE_APP = ("/site/map", "/corridors/luo-ru/map")  # pages the app embeds in its own <iframe>


class _Scripts(HTMLParser):
    """Inline script texts as a standard-library HTML parser sees them (a second opinion on the hook's regex)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts: list[str] = []
        self._current: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self._current = None if any(k == "src" for k, _ in attrs) else []

    def handle_data(self, data):
        if self._current is not None:
            self._current.append(data)

    def handle_endtag(self, tag):
        if tag == "script" and self._current is not None:
            if self._current:
                self.scripts.append("".join(self._current))
            self._current = None


def parsed_scripts(html: str) -> list[str]:
    parser = _Scripts()
    parser.feed(html)
    parser.close()
    return parser.scripts


def policy(resp) -> dict[str, list[str]]:
    """The CSP of ``resp`` as directive -> values."""
    out = {}
    for part in resp.headers["Content-Security-Policy"].split(";"):
        name, *values = part.split()
        assert name not in out, f"{name} twice"
        out[name] = values
    return out


def sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def assert_common_headers(resp, *, framable: bool = False) -> None:
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["X-Frame-Options"] == ("SAMEORIGIN" if framable else "DENY")
    assert resp.headers["Referrer-Policy"] == "same-origin"
    assert policy(resp)["frame-ancestors"] == (["'self'"] if framable else ["'none'"])


@pytest.fixture()
def app(store_path):
    app = create_app({"TESTING": True, "CORRIDORS_STORE": str(store_path), "PROPAGATE_EXCEPTIONS": False,
                      "MAX_CONTENT_LENGTH": 64})

    @app.post("/_test/echo")
    def _echo():  # reads the body, so a body over MAX_CONTENT_LENGTH is a 413
        return {"bytes": len(request.get_data())}

    @app.get("/_test/slow-down")
    def _slow_down():
        raise TooManyRequests(retry_after=30)

    @app.get("/_test/login")
    def _login():
        raise Unauthorized(www_authenticate=WWWAuthenticate("basic", {"realm": "corridors"}))

    @app.get("/_test/boom")
    def _boom():
        raise RuntimeError("boom")

    return app


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.mark.parametrize("url", HTML_PAGES)
def test_html_pages_allow_exactly_their_own_inline_scripts(client, url):
    resp = client.get(url)
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    assert_common_headers(resp, framable=url.startswith(FRAMED_BY_THE_APP))
    csp = policy(resp)
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"][0] == "'self'"
    assert all(v.startswith("'sha256-") for v in csp["script-src"][1:])
    assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in csp["script-src"]
    assert not any("unsafe" in v for v in csp["script-src"] + csp["default-src"])
    assert csp["style-src"] == ["'self'", "'unsafe-inline'"]
    assert csp["img-src"] == ["'self'", "data:", "blob:"]  # offline base: no tile host
    assert csp["connect-src"] == ["'self'"] and csp["font-src"] == ["'self'", "data:"]
    assert csp["object-src"] == ["'none'"] and csp["base-uri"] == ["'self'"] and csp["form-action"] == ["'self'"]
    html = resp.get_data(as_text=True)
    scripts = parsed_scripts(html)
    assert scripts == inline_scripts(html)
    assert {sha256(s) for s in scripts} == set(csp["script-src"][1:])  # every inline script, nothing else
    if "/map" in url or url == "/":
        assert len(scripts) >= 2  # folium's set-up blocks are there, so the check above is not vacuous
    # nothing the policy would refuse: no event-handler attributes, no javascript: URLs
    assert " onclick=" not in html.lower() and "javascript:" not in html.lower()


@pytest.mark.parametrize(("url", "status", "mimetype"), OTHER)
def test_other_responses_are_sandboxed(client, url, status, mimetype):
    resp = client.get(url)
    assert (resp.status_code, resp.mimetype) == (status, mimetype), resp.get_data(as_text=True)[:200]
    assert_common_headers(resp)
    csp = policy(resp)
    assert csp["default-src"] == ["'none'"] and csp["sandbox"] == [] and "script-src" not in csp
    if status >= 400:
        assert {"error", "type"} <= set(resp.get_json())


def test_pdf_is_not_sandboxed_so_browsers_can_show_it(client):
    resp = client.get("/export/map.pdf?corridor=luo-ru&size=800x600&dpi=50")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert_common_headers(resp)
    csp = policy(resp)
    assert csp["default-src"] == ["'none'"] and "sandbox" not in csp and "script-src" not in csp


def test_405_keeps_allow_and_its_json_shape(client):
    for url in ("/api/layers", "/", "/static/app/map.js"):
        resp = client.post(url)
        assert resp.status_code == 405
        assert "GET" in resp.headers["Allow"] and "HEAD" in resp.headers["Allow"]
        assert resp.get_json()["type"] == "Method Not Allowed"
        assert_common_headers(resp)
    assert client.put("/api/layers").headers["Allow"] == client.post("/api/layers").headers["Allow"]


def test_other_http_errors_keep_their_headers(client):
    slow = client.get("/_test/slow-down")
    assert slow.status_code == 429 and slow.headers["Retry-After"] == "30"
    assert slow.get_json()["type"] == "Too Many Requests"
    login = client.get("/_test/login")
    assert login.status_code == 401 and login.headers["WWW-Authenticate"].startswith("Basic realm=")
    assert login.get_json()["type"] == "Unauthorized"
    for resp in (slow, login):
        assert resp.mimetype == "application/json" and int(resp.headers["Content-Length"]) == len(resp.data)
        assert_common_headers(resp)


def test_413_and_500_are_json_with_the_headers(client):
    small = client.post("/_test/echo", data=b"x" * 10)
    assert small.status_code == 200 and small.get_json() == {"bytes": 10}
    big = client.post("/_test/echo", data=b"x" * 1000)
    assert big.status_code == 413 and set(big.get_json()) == {"error", "type"}
    assert big.get_json()["type"] == "Request Entity Too Large"
    boom = client.get("/_test/boom")
    assert boom.status_code == 500 and boom.get_json()["type"] == "InternalServerError"
    assert "boom" not in boom.get_data(as_text=True)
    for resp in (big, boom):
        assert_common_headers(resp)
        assert policy(resp)["default-src"] == ["'none'"]


def test_hashes_are_taken_before_gzip(app, client):
    funcs = app.after_request_funcs[None]
    # Flask runs after_request hooks last-registered first: the headers hook must see the plain HTML
    assert funcs.index(add_security_headers) > funcs.index(compress_response)
    resp = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert resp.headers["Content-Encoding"] == "gzip"
    html = gzip.decompress(resp.get_data()).decode()
    assert {sha256(s) for s in parsed_scripts(html)} == set(policy(resp)["script-src"][1:])


def test_a_gzipped_body_is_still_hashed(app):
    """Should the hooks ever run the other way round, the hash list comes from the decompressed body."""
    html = "<!doctype html><title>t</title><script>var a = 1;</script>" + "<p>padding</p>" * 200
    with app.test_request_context("/", headers={"Accept-Encoding": "gzip"}):
        resp = compress_response(app.response_class(html, mimetype="text/html"))
        assert resp.headers["Content-Encoding"] == "gzip"
        resp = add_security_headers(resp)
    assert policy(resp)["script-src"] == ["'self'", sha256("var a = 1;")]


def test_a_view_can_set_its_own_policy(app):
    with app.test_request_context("/"):
        resp = app.response_class("{}", mimetype="application/json",
                                  headers={"Content-Security-Policy": "default-src 'none'"})
        assert add_security_headers(resp).headers["Content-Security-Policy"] == "default-src 'none'"


def test_basemap_tile_host_is_allowed_for_images(store_path):
    app = create_app({"TESTING": True, "CORRIDORS_STORE": str(store_path),
                      "TILES": "https://{s}.tiles.intra.example:8443/wgs84/{z}/{x}/{y}.png"})
    resp = app.test_client().get("/")
    csp = policy(resp)
    assert csp["img-src"] == ["'self'", "data:", "blob:", "https://*.tiles.intra.example:8443"]
    assert csp["connect-src"] == ["'self'"]
    assert {sha256(s) for s in parsed_scripts(resp.get_data(as_text=True))} == set(csp["script-src"][1:])


@pytest.mark.parametrize(("url", "source"), [
    ("offline", None),
    ("/tiles/{z}/{x}/{y}.png", None),
    ("http://tiles.local/{z}/{x}/{y}.png", "http://tiles.local"),
    ("https://{s}.tile.example.com/{z}/{x}/{y}.png", "https://*.tile.example.com"),
    ("https://tile{s}.example.com:8443/{z}/{x}/{y}.png", "https://*.example.com:8443"),
    ("//tiles.intra:8080/{z}/{x}/{y}", "tiles.intra:8080"),
    ("http://user:secret@10.0.0.5/{z}/{x}/{y}.png", "http://10.0.0.5"),
])
def test_tile_source(url, source):
    assert tile_source(url) == source


@pytest.mark.parametrize("url", ["http://{s}/{z}/{x}/{y}.png", "http://[::1]:9000/{z}/{x}/{y}.png",
                                 "http://a;b.example/{z}/{x}/{y}.png"])
def test_tile_hosts_csp_cannot_name_are_refused_at_start_up(store_path, url):
    with pytest.raises(ValueError, match="CSP source"):
        create_app({"CORRIDORS_STORE": str(store_path), "TILES": url})


def test_inline_scripts_are_read_as_browsers_read_them():
    html = ('<script src="/a.js"></script><script>one()</script><SCRIPT type="module" data-x="a>b">two()'
            '</SCRIPT ><script></script><scripty>no</scripty><script\r\n>three()\r\nfour()\r</script>')
    assert inline_scripts(html) == ["one()", "two()", "three()\nfour()\n"]
    assert script_hash("alert(1)") == "'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='"
