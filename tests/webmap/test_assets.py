"""Offline folium maps: every asset a rendered page links is vendored under webmap/static and served."""

from __future__ import annotations

import re
from pathlib import Path

import folium
import pytest
from branca.colormap import LinearColormap
from folium.plugins import FastMarkerCluster, Fullscreen, MarkerCluster

from webmap import create_app
from webmap.assets import VENDORED, offline_map

STATIC = Path(__file__).resolve().parents[2] / "webmap" / "static"
PLAIN_MARKER = "function (row) { return L.marker(new L.LatLng(row[0], row[1])); }"
#: Remote URLs a rendered offline map may contain anywhere in its HTML. With tiles=None folium 0.20
#: writes no attribution and no xmlns, so none at all; an intranet tile layer would add its own here.
ALLOWED_REMOTE_URLS: frozenset[str] = frozenset()


def _map_html() -> str:
    """A map with the plugins the corridor map uses: clusters, popups, a layer control and a legend."""
    m = offline_map(location=[34.62, 112.45], zoom_start=9)
    cluster = MarkerCluster(name="parks").add_to(m)
    for i in range(5):
        folium.Marker([34.6 + i / 100, 112.4], popup=f"园区 {i}", tooltip=f"park {i}").add_to(cluster)
    FastMarkerCluster([[34.5, 112.3], [34.7, 112.5]], callback=PLAIN_MARKER, name="projects").add_to(m)
    LinearColormap(["#fee8c8", "#e34a33"], vmin=0, vmax=100, caption="亿元 · CNY 100m").add_to(m)
    folium.LayerControl().add_to(m)
    return m.get_root().render()


def test_rendered_map_links_only_vendored_files(store_path):
    html = _map_html()
    assert set(re.findall(r"https?://[^\s\"'<>)]*", html)) <= ALLOWED_REMOTE_URLS
    links = re.findall(r"""\b(?:src|href)\s*=\s*["']([^"']*)["']""", html)
    assert len(links) == len(set(VENDORED.values())), links  # Leaflet, jQuery, markercluster (3), d3
    client = create_app({"TESTING": True, "CORRIDORS_STORE": str(store_path)}).test_client()
    for url in links:
        assert url.startswith("/static/vendor/"), url
        assert (STATIC / url.removeprefix("/static/")).is_file(), url
        assert client.get(url).status_code == 200, url


def test_vendored_css_references_resolve():
    for css in STATIC.glob("vendor/**/*.css"):
        for ref in re.findall(r"url\(\s*['\"]?([^'\")]+)", css.read_text()):
            if not ref.startswith(("#", "data:")):
                assert (css.parent / ref).is_file(), f"{css.name}: {ref}"


def test_every_vendored_package_has_its_licence_and_is_listed():
    readme = (STATIC / "vendor" / "README.md").read_text()
    for folder in (p for p in (STATIC / "vendor").iterdir() if p.is_dir()):
        assert (folder / "LICENSE").is_file(), folder.name
        assert f"`{folder.name}/`" in readme, folder.name
    for path in VENDORED.values():
        assert (STATIC / "vendor" / path).is_file(), path


def test_map_has_max_zoom_and_folium_classes_stay_stock():
    html = _map_html()
    assert '"maxZoom": 18' in html
    assert '"minZoom": 6' in offline_map(min_zoom=6, max_zoom=12).get_root().render()
    assert folium.Map.default_js[0][1].startswith("https://")  # nothing patched globally
    assert MarkerCluster.default_css[0][1].startswith("https://")


def test_unvendored_assets_fail_at_render():
    m = offline_map()
    Fullscreen().add_to(m)
    with pytest.raises(ValueError, match="not vendored"):
        m.get_root().render()
    m = offline_map()
    FastMarkerCluster([[34.5, 112.3]]).add_to(m)  # the default callback uses L.AwesomeMarkers
    with pytest.raises(ValueError, match="awesome-markers"):
        m.get_root().render()


def test_remote_tiles_are_refused():
    with pytest.raises(ValueError, match="tiles"):
        offline_map(tiles="OpenStreetMap")
