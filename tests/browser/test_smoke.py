"""An offline folium map in headless Chromium: only the app is asked, clusters split on zoom, popups open."""

from __future__ import annotations

import folium
from folium.plugins import MarkerCluster
from playwright.sync_api import Page

from tests.browser.conftest import LiveServer, PageLog
from webmap.assets import offline_map

CENTRE = (34.62, 112.45)  # Luoyang


def cluster_map_html() -> str:
    """An offline map with 200 markers on a 20 x 10 grid around Luoyang in one MarkerCluster."""
    m = offline_map(location=CENTRE, zoom_start=8)
    cluster = MarkerCluster(name="markers").add_to(m)
    for i in range(200):
        lat, lon = CENTRE[0] - 0.45 + (i // 20) * 0.1, CENTRE[1] - 0.95 + (i % 20) * 0.1
        folium.Marker([lat, lon], popup=f"标记 marker {i}").add_to(cluster)
    return m.get_root().render()


def _icons(page: Page) -> dict[str, int]:
    """Visible clusters and single markers."""
    return page.evaluate("""() => ({
        clusters: document.querySelectorAll('.marker-cluster').length,
        markers: document.querySelectorAll('.leaflet-marker-icon:not(.marker-cluster)').length})""")


def test_offline_cluster_map(live_server: LiveServer, page: Page, page_log: PageLog) -> None:
    page.goto(live_server.add_page("clusters", cluster_map_html))
    page.wait_for_selector(".leaflet-container .marker-cluster")
    name = page.evaluate("Object.keys(window).find(k => k.startsWith('map_'))")
    assert page.evaluate("L.version") == "1.9.4"
    before = _icons(page)
    assert before["clusters"] >= 1 and before["markers"] == 0

    page.evaluate(f"{name}.setZoom({name}.getZoom() + 2, {{animate: false}})")
    page.wait_for_function("n => document.querySelectorAll('.leaflet-marker-icon').length > n",
                           arg=before["clusters"])
    after = _icons(page)
    assert after["clusters"] + after["markers"] > before["clusters"]

    page.evaluate(f"{name}.setView([{CENTRE[0] - 0.45}, {CENTRE[1] - 0.95}], 18, {{animate: false}})")
    page.locator(".leaflet-marker-icon:not(.marker-cluster)").first.click()
    assert "标记 marker 0" in page.locator(".leaflet-popup-content").inner_text()  # jQuery-built popup

    assert {r for r in page_log.requests if "/static/" in r} >= {
        f"{live_server.url}/static/vendor/leaflet/images/marker-icon.png",  # CSS-relative images resolve
        f"{live_server.url}/static/vendor/leaflet.markercluster/leaflet.markercluster.js",
    }
    page_log.assert_clean()
