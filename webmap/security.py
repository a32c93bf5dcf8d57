"""Security headers on every response: a Content-Security-Policy, nosniff, no framing, a referrer policy.

HTML pages get a policy that loads everything from the app itself (``'self'``) and runs no script but
the app's own files and the inline ``<script>`` blocks of that very page, allowed by their SHA-256
hashes: folium renders its map set-up as inline scripts, different for every page and request
(element ids are random), so the hashes are computed by one ``after_request`` hook over the final
HTML body. There is no ``'unsafe-inline'`` and no ``'unsafe-eval'`` for scripts, so inline event
handler attributes (``onclick=...``), ``javascript:`` URLs, ``eval``/``new Function`` and scripts from
any other host are refused. None of the vendored libraries needs eval on the paths the maps use (d3
v3 calls ``new Function`` only in ``d3.csv``/``d3.tsv`` parsing, which branca's legends never use;
jQuery's ``globalEval`` only runs ``<script>`` elements inserted as HTML, and folium's popups insert
none). Styles may be inline (folium emits ``<style>`` blocks and ``style`` attributes, Leaflet sets
styles). Images may also come from the host of the configured XYZ basemap (``TILES``).

The hash list trusts whatever inline script the final page contains, so escaping stays the defence
against injected ``<script>`` elements; the policy still stops the other injection routes above.

Everything else (JSON, GeoJSON, CSV, PNG, SVG, static JS/CSS...) is a sandboxed document that may load
nothing (``default-src 'none'; sandbox``); inline styles stay allowed so an SVG opened on its own
renders as drawn. PDFs are not sandboxed: browsers refuse to run their PDF viewer in a sandboxed
document, whatever the sandbox flags.

Framing is denied (``frame-ancestors 'none'`` and ``X-Frame-Options: DENY``) except for the map pages
that the app's own pages embed in an ``<iframe>`` (the corridor map and the site-selection map): they
may be framed by the app itself (``'self'``, ``SAMEORIGIN``).

``Referrer-Policy: same-origin``: the page URLs are permalinks that carry what a planner is looking at
(filters, query points, site constraints); the app never needs to tell another host where a request
came from (the only possible cross-origin requests are basemap tiles on an intranet tile server), so
no referrer leaves the origin, while the app's own requests keep their full referrer.

The hook must run before gzip compression (``webmap.compress``) reads the HTML; Flask runs
``after_request`` functions in reverse registration order, so ``init_app`` is called after
``compress.init_app``. Should a body reach this hook already gzipped, it is decompressed to be hashed.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import re
from collections.abc import Iterable
from functools import lru_cache

from flask import Flask, Response, current_app, request

#: Endpoints the app embeds in its own pages with an <iframe>: framable by the app itself only.
FRAMABLE_ENDPOINTS: frozenset[str] = frozenset({"corridors.corridor_map", "site.site_map"})

HTML_MIMETYPES = ("text/html", "application/xhtml+xml")

REFERRER_POLICY = "same-origin"

#: An HTML <script> element: start tag (quoted attribute values may hold ">"), raw text, end tag.
_SCRIPT = re.compile(r"""<script(?=[\s/>])((?:[^>"']|"[^"]*"|'[^']*')*)>(.*?)</script(?=[\s/>])""",
                     re.IGNORECASE | re.DOTALL)
_SRC_ATTR = re.compile(r"""(?:^|[\s"'/])src\s*=""", re.IGNORECASE)
#: scheme://[userinfo@]host[:port] of a URL template; host labels may be {s} placeholders ([IPv6] is refused).
_AUTHORITY = re.compile(r"^(?:(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*):)?//(?:[^/?#@]*@)?"
                        r"(?P<host>\[[0-9A-Fa-f:.]+\]|[^/?#:]+)(?::(?P<port>[^/?#]*))?")
_HOST = re.compile(r"(?:\*\.)?[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*")  # CSP has no IPv6 literals
_PORT = re.compile(r"[0-9]+|\{[A-Za-z0-9_]*\}")


def inline_scripts(html: str) -> list[str]:
    """The text of every inline ``<script>`` element of ``html`` (those without ``src``), as browsers see it.

    Browsers normalise CR LF and lone CR to LF before parsing, and hash the script text as UTF-8.
    """
    html = html.replace("\r\n", "\n").replace("\r", "\n")
    return [text for attrs, text in _SCRIPT.findall(html) if text and not _SRC_ATTR.search(attrs)]


def script_hash(text: str) -> str:
    """The CSP source expression of one inline script: ``'sha256-<base64>'``."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


@lru_cache(maxsize=32)
def tile_source(url: str | None) -> str | None:
    """The CSP host source of an XYZ tile URL template (None for "offline" or a path on this app).

    ``https://{s}.tiles.example/{z}/{x}/{y}.png`` gives ``https://*.tiles.example``: a host label that
    holds a placeholder (subdomains) makes a ``*.`` wildcard, which CSP allows only leftmost.
    """
    if not url or url == "offline":
        return None
    m = _AUTHORITY.match(str(url))
    if not m:
        return None  # a path on this app: covered by 'self'
    scheme, host, port = m.group("scheme"), m.group("host"), m.group("port")
    labels = host.split(".")
    templated = [i for i, label in enumerate(labels) if "{" in label]
    if templated:
        rest = labels[templated[-1] + 1:]
        if not rest:
            raise ValueError(f"TILES={url!r}: its host cannot be written as a CSP source")
        host = "*." + ".".join(rest)
    if not _HOST.fullmatch(host) or (port and not _PORT.fullmatch(port)):
        raise ValueError(f"TILES={url!r}: its host cannot be written as a CSP source")
    if port and "{" in port:
        port = "*"
    return (f"{scheme}://" if scheme else "") + host + (f":{port}" if port else "")


def _policy(directives: Iterable[tuple[str, Iterable[str]]]) -> str:
    return "; ".join(" ".join([name, *values]) for name, values in directives)


def html_policy(script_hashes: Iterable[str], *, tiles: str | None = None, framable: bool = False) -> str:
    """The policy of an HTML page whose inline scripts have ``script_hashes``."""
    img = ["'self'", "data:", "blob:"] + ([tiles] if tiles else [])
    return _policy([
        ("default-src", ["'self'"]),
        ("script-src", ["'self'", *dict.fromkeys(script_hashes)]),
        ("style-src", ["'self'", "'unsafe-inline'"]),
        ("img-src", img),
        ("connect-src", ["'self'"]),
        ("font-src", ["'self'", "data:"]),
        ("object-src", ["'none'"]),
        ("base-uri", ["'self'"]),
        ("form-action", ["'self'"]),
        ("frame-ancestors", ["'self'" if framable else "'none'"]),
    ])


@lru_cache(maxsize=64)
def resource_policy(mimetype: str, *, framable: bool = False) -> str:
    """The policy of anything but HTML: load nothing, run nothing (a PDF keeps its viewer)."""
    ancestors = ("frame-ancestors", ["'self'" if framable else "'none'"])
    if mimetype == "application/pdf":
        return _policy([("default-src", ["'none'"]), ("style-src", ["'unsafe-inline'"]),
                        ("object-src", ["'self'"]), ancestors])
    return _policy([("default-src", ["'none'"]), ("style-src", ["'unsafe-inline'"]), ancestors, ("sandbox", [])])


def _html_text(resp: Response) -> str | None:
    """The body of an HTML response as text; None when it cannot be read without consuming it (a stream),
    or decoded: then the page gets no hashes and its inline scripts are refused (fail closed)."""
    if resp.direct_passthrough or resp.is_streamed:
        return None
    body = resp.get_data()
    encoding = resp.headers.get("Content-Encoding", "").strip().lower()
    try:
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding not in ("", "identity"):
            return None
        return body.decode(resp.mimetype_params.get("charset", "utf-8"), errors="replace")
    except (OSError, EOFError, LookupError):
        return None


def add_security_headers(resp: Response) -> Response:
    """Set the CSP and the other security headers on ``resp`` (headers a view set itself are kept)."""
    framable = request.endpoint in FRAMABLE_ENDPOINTS
    if "Content-Security-Policy" not in resp.headers:
        if resp.mimetype in HTML_MIMETYPES:
            text = _html_text(resp)
            hashes = [script_hash(s) for s in inline_scripts(text)] if text else []
            policy = html_policy(hashes, tiles=tile_source(current_app.extensions["settings"].tiles), framable=framable)
        else:
            policy = resource_policy(resp.mimetype or "", framable=framable)
        resp.headers["Content-Security-Policy"] = policy
    resp.headers.setdefault("X-Content-Type-Options", "nosniff")
    resp.headers.setdefault("X-Frame-Options", "SAMEORIGIN" if framable else "DENY")
    resp.headers.setdefault("Referrer-Policy", REFERRER_POLICY)
    return resp


def init_app(app: Flask) -> None:
    """Register the header hook; call it after ``compress.init_app`` so it sees the uncompressed body."""
    tile_source(app.extensions["settings"].tiles)  # a basemap URL that CSP cannot name fails at start-up
    app.after_request(add_security_headers)
