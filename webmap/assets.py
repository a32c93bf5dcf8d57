"""Folium maps that load every script and stylesheet from the app itself (``/static/vendor/``), never a CDN.

folium 0.20 links Leaflet, its plugins and their dependencies from CDNs: each ``JSCSSMixin`` class
(``folium.Map``, ``plugins.MarkerCluster``, ...) lists ``(name, url)`` pairs in class-level
``default_js``/``default_css``, and some elements (branca's colormap legend) add a hard-coded
``JavascriptLink`` to the page header while they render. All of them end up as named children of
the root ``Figure``'s header, so this module swaps that one place instead of the classes:
``OfflineFigure.render`` renders the tree as usual, then points each header link at the vendored copy
of the same file (matched by file name), drops the links we choose not to ship, and raises on any
other remote link, so an unvendored plugin fails in Python (and in the tests) instead of silently
reaching for the internet. Nothing global is mutated (``JSCSSMixin.add_js_link`` would edit the
class lists in place, for every map in the process), elements added after the map was made and
links added at render time are covered, and plugins keep their stock classes.

Left out on purpose: Bootstrap, glyphicons, Font Awesome and Leaflet.awesome-markers, which
``folium.Map`` links by default but only ``folium.Icon`` and ``FastMarkerCluster``'s default callback
use; a page that still calls ``L.AwesomeMarkers`` raises ``ValueError`` at render. jQuery stays:
``folium.Popup`` builds its content with ``$(...)``. d3 v3 is there for branca colormap legends.
"""

from __future__ import annotations

import posixpath
from typing import Any
from urllib.parse import urlsplit

import folium
from branca.element import CssLink, Figure, JavascriptLink

#: Where webmap/static/vendor/ is served (Flask serves webmap/static at /static).
VENDOR_URL = "/static/vendor"

#: File name of a link folium/branca make -> its vendored copy under webmap/static/vendor/.
VENDORED: dict[str, str] = {
    "leaflet.js": "leaflet/leaflet.js",
    "leaflet.css": "leaflet/leaflet.css",
    "jquery-3.7.1.min.js": "jquery/jquery.min.js",
    "leaflet.markercluster.js": "leaflet.markercluster/leaflet.markercluster.js",
    "MarkerCluster.css": "leaflet.markercluster/MarkerCluster.css",
    "MarkerCluster.Default.css": "leaflet.markercluster/MarkerCluster.Default.css",
    "d3.min.js": "d3/d3.min.js",  # d3 3.5.x, for branca colormaps (legends)
}

#: Header names of folium.Map's default links that the offline page leaves out.
DROPPED: frozenset[str] = frozenset({
    "bootstrap", "bootstrap_css", "glyphicons_css",
    "awesome_markers", "awesome_markers_css", "awesome_markers_font_css", "awesome_rotate_css",
})


class OfflineFigure(Figure):
    """A branca Figure whose header links point at the vendored files under ``vendor_url``."""

    def __init__(self, *args: Any, vendor_url: str = VENDOR_URL, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.vendor_url = vendor_url.rstrip("/")

    def render(self, **kwargs: Any) -> str:
        """Render the page with local asset links; raise ValueError for anything not vendored."""
        for child in self._children.values():
            child.render(**kwargs)
        for name, link in list(self.header._children.items()):
            if not isinstance(link, (JavascriptLink, CssLink)):
                continue
            if name in DROPPED:
                del self.header._children[name]
            else:
                link.url = self.local_url(link.url)
        html = self._template.render(this=self, kwargs=kwargs)
        if "L.AwesomeMarkers" in html:
            raise ValueError("this map uses Leaflet.awesome-markers (folium.Icon or FastMarkerCluster's "
                             "default callback), which is not vendored; use plain L.marker or a DivIcon")
        return html

    def local_url(self, url: str) -> str:
        """``url`` if it is already served by the app, else the vendored URL of the same file."""
        parts = urlsplit(url)
        if not parts.scheme and not parts.netloc:  # a path on this app, e.g. /static/js/corridors.js
            return url
        filename = posixpath.basename(parts.path)
        if filename not in VENDORED:
            raise ValueError(f"{url} is not vendored under webmap/static/vendor/ (see its README.md)")
        return f"{self.vendor_url}/{VENDORED[filename]}"


def offline_map(*, max_zoom: int = 18, min_zoom: int | None = None, vendor_url: str = VENDOR_URL,
                **kwargs: Any) -> folium.Map:
    """A ``folium.Map`` (no tile layer, zoom limits set on the map) whose page loads only local assets."""
    if kwargs.pop("tiles", None) is not None:
        raise ValueError("remote tiles are not allowed offline; add a folium.TileLayer with a local URL")
    # folium gives max_zoom/min_zoom only to its tile layer, so with tiles=None they would be dropped;
    # markercluster throws "Map has no maxZoom specified" without the map's own maxZoom.
    limits = {"maxZoom": max_zoom} | ({"minZoom": min_zoom} if min_zoom is not None else {})
    m = folium.Map(tiles=None, **limits, **kwargs)
    OfflineFigure(vendor_url=vendor_url).add_child(m)
    return m
