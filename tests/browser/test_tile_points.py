"""Big layers in headless Chromium: with BIG_LAYER_FEATURES=5 every point layer of the real data is "big", so the
main map draws it from /tiles/ (server clusters, exact counts), never fetching all its points; clicks, filters,
the time view and buffer queries keep working, and a filter that leaves few features switches back to markers."""

from __future__ import annotations

import threading

import pytest
from werkzeug.serving import make_server

from tests.browser.test_map import counts, open_map
from webmap import create_app

BIG = 5


@pytest.fixture(scope="module")
def big_server(store_path):
    """The app over the session's store, with a threshold the real layers (20 parks, 14 projects) exceed."""
    app = create_app({"TESTING": True, "CORRIDORS_STORE": str(store_path), "BIG_LAYER_FEATURES": str(BIG)})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


def drawn(page, layer: str) -> list[dict]:
    """What the tile layer's loaded tiles of the current zoom hold, once they are all loaded."""
    page.wait_for_function("""layer => { const t = CorridorMap.tileLayers[layer];
        return CorridorMap.map.hasLayer(t) && !t.isLoading() && t.drawnFeatures().length > 0; }""", arg=layer,
                           timeout=10_000)
    return page.evaluate("layer => CorridorMap.tileLayers[layer].drawnFeatures()", layer)


def screen_point(page, latlng: dict) -> dict:
    return page.evaluate("""ll => { const p = CorridorMap.map.latLngToContainerPoint(ll);
        const r = CorridorMap.map.getContainer().getBoundingClientRect(); return {x: r.left + p.x, y: r.top + p.y}; }""",
                         latlng)


def test_big_layers_are_drawn_from_tiles_with_exact_counts(page, page_log, big_server):
    open_map(page, big_server + "/?z=8&lat=34.62&lon=112.45")
    assert counts(page) == {"parks": 20, "projects": 14, "institutions": 14}
    assert page.evaluate("Object.keys(CorridorMap.tileMode).sort()") == ["institutions", "parks", "projects"]
    clusters = drawn(page, "projects")
    assert all(f["properties"]["cluster"] for f in clusters)  # below z13: the server's clusters
    assert sum(f["properties"]["count"] for f in clusters) == 14  # every project in exactly one cluster
    assert sum(f["properties"]["count"] for f in drawn(page, "parks")) == 20
    assert page.locator(".leaflet-marker-pane canvas, .leaflet-pane canvas").count() > 0  # drawn on canvas tiles
    assert page.evaluate("CorridorMap.clusters.projects.getLayers().length") == 0  # no markers
    assert not [u for u in page_log.requests if "/api/layers/" in u]  # no layer sent whole
    mvt = [u for u in page_log.requests if "/tiles/projects/7/" in u and u.split("?")[0].endswith(".mvt")]
    assert mvt and all("v=" in u for u in mvt)  # each names the data version: the browser may keep it
    # a click on a cluster zooms in on it
    biggest = max(clusters, key=lambda f: f["properties"]["count"])
    at = screen_point(page, biggest["latlng"])
    page.mouse.click(at["x"], at["y"])
    page.wait_for_function("() => CorridorMap.map.getZoom() === 10")
    assert page.evaluate("CorridorMap.state.query") is None  # not a buffer query
    page_log.assert_clean()


def test_a_click_on_a_point_opens_its_card_and_a_click_beside_it_queries(page, page_log, big_server):
    open_map(page, big_server + "/?z=15&lat=34.615&lon=112.64&layers=districts,projects")
    points = drawn(page, "projects")
    assert not any(f["properties"].get("cluster") for f in points)  # z15: the points themselves
    spot = next(f for f in points if f["properties"]["id"] == "zhongzhou-shidai-phase-1")
    here = [f["properties"]["id"] for f in points if f["latlng"] == spot["latlng"]]
    assert len(here) == 5  # records located to the same stand-in point
    at = screen_point(page, spot["latlng"])
    page.mouse.click(at["x"], at["y"])
    page.wait_for_selector(".cm-tile-pick a")
    assert sorted(page.eval_on_selector_all(".cm-tile-pick a", "els => els.map(e => e.dataset.id)")) == sorted(here)
    page.click(".cm-tile-pick a[data-id='zhongzhou-shidai-phase-1']")
    page.wait_for_selector(".cm-popup[data-id='zhongzhou-shidai-phase-1'][data-loaded='true']")
    assert "中州时代生产基地一期" in page.inner_text(".cm-popup[data-id='zhongzhou-shidai-phase-1']")
    assert page.evaluate("CorridorMap.state.query") is None
    page.keyboard.press("Escape")
    page.evaluate("CorridorMap.map.closePopup()")
    # beside the points the map still takes the click: a buffer query, its hits highlighted
    page.fill("#cm-query input[name=radius_km]", "5")
    page.mouse.click(at["x"] + 120, at["y"] + 60)
    page.wait_for_selector("#cm-hit-count")
    assert int(page.inner_text("#cm-hit-count")) >= 5
    assert page.locator(".cm-hit[data-id='zhongzhou-shidai-phase-1']").count() == 1
    page_log.assert_clean()


def test_filters_and_the_time_view_change_the_tiles_and_few_features_switch_back(page, page_log, big_server):
    open_map(page, big_server + "/?z=8&lat=34.62&lon=112.45&layers=districts,projects")
    page.select_option("#cm-filters select[name=status]", "planned")
    page.wait_for_function("() => document.querySelector('.cm-count[data-layer=projects] b').textContent === '8'")
    assert page.evaluate("!!CorridorMap.tileMode.projects")  # 8 > 5: still tiles
    page.wait_for_function("""() => CorridorMap.tileLayers.projects.drawnFeatures()
        .reduce((n, f) => n + f.properties.count, 0) === 8""", timeout=10_000)
    assert any("/tiles/projects/7/" in u and "status=planned" in u for u in page_log.requests)
    # the time view: the tiles and the count as the ledger stood that day
    then = page.evaluate("""async () => (await (await fetch('/api/layers/projects?format=compact&status=planned&as_of=2024-01-01'))
        .json()).rows.length""")
    page.evaluate("CorridorsMap.setAsOf('2024-01-01')")
    page.wait_for_function("n => +document.querySelector('.cm-count[data-layer=projects] b').textContent === n", arg=then)
    page.evaluate("CorridorsMap.setAsOf(null)")
    page.wait_for_function("() => document.querySelector('.cm-count[data-layer=projects] b').textContent === '8'")
    # a filter that leaves 2 projects: back to all points as markers, from /api/layers
    page.fill("#cm-filters input[name=q]", "汝")
    page.wait_for_function("() => document.querySelector('.cm-count[data-layer=projects] b').textContent === '2'")
    page.wait_for_function("() => CorridorMap.clusters.projects.getLayers().length === 2")
    assert page.evaluate("!CorridorMap.tileMode.projects && !CorridorMap.map.hasLayer(CorridorMap.tileLayers.projects)")
    assert any("/api/layers/projects?" in u and "q=" in u for u in page_log.requests)
    page_log.assert_clean()
