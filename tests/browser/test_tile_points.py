"""Big layers in headless Chromium: with BIG_LAYER_FEATURES=5 every point layer of the real data is "big", so the
main map draws it from /tiles/ (server clusters, exact counts), never fetching all its points; clicks, filters,
the time view and buffer queries keep working, and a filter that leaves few features switches back to markers."""

from __future__ import annotations

import json
import math
import threading
import urllib.request

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


def visible_feature_labels(page) -> list[str]:
    return page.evaluate("""() => [...document.querySelectorAll('.cm-label-feature:not(.cm-label-hidden) .cm-label-text')]
        .map(t => t.textContent)""")


def test_the_points_of_tiles_are_labelled_when_zoomed_in_and_clusters_are_not(page, page_log, big_server):
    open_map(page, big_server + "/?z=13&lat=34.727&lon=112.789&layers=districts,projects")
    assert all(f["properties"]["cluster"] for f in drawn(page, "projects"))  # z13: clusters, never labelled
    page.evaluate("CorridorMap.placeLabels()")
    assert visible_feature_labels(page) == []
    page.evaluate("CorridorMap.map.setView([34.727, 112.789], 15, {animate: false})")
    page.wait_for_function("""() => [...document.querySelectorAll('.cm-label-feature:not(.cm-label-hidden)')]
        .some(l => l.textContent.includes('优箔（洛阳）年产15万吨电池箔项目'))""", timeout=10_000)
    # the names as the normal map shows them: Chinese, English below
    assert page.evaluate("""() => [...document.querySelectorAll('.cm-label-feature .cm-label-text')].map(t =>
        [t.querySelector('.zh').textContent, t.querySelector('.en').textContent])
        .some(([zh, en]) => zh.startsWith('优箔') && en.includes('foil'))""")
    # at most the points of the tiles in view: each point of a loaded point tile, none of a tile out of view
    points = drawn(page, "projects")
    assert len(page.query_selector_all(".cm-label-feature")) <= len(points)
    # names are text: a name holding markup is shown as it is written, never run
    page.evaluate("""() => { const t = CorridorMap.tileLayers.projects, c = CorridorMap.map.getCenter();
        const key = Object.keys(t._held).find(k => +k.split(':')[2] === t._tileZoom && t._held[k].length
            && !t._held[k][0].properties.cluster);
        t._held[key].push({latlng: L.latLng(c.lat + 0.002, c.lng - 0.004), properties: {id: 'evil', layer: 'projects',
            name_zh: '<img src=x onerror="window.pwned=1">', name_en: '<script>window.pwned=2</script>'}});
        CorridorMap.placeLabels(); }""")
    texts = page.evaluate("""() => [...document.querySelectorAll('.cm-label-feature .cm-label-text')].map(t => t.textContent)""")
    assert '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>' in texts
    assert page.evaluate("document.querySelectorAll('.cm-label img, .cm-label script').length") == 0
    assert page.evaluate("window.pwned") is None
    # the five records located to one stand-in point share one symbol: no label, as a marker cluster has none
    page.evaluate("CorridorMap.map.setView([34.615, 112.64], 15, {animate: false})")
    drawn(page, "projects")
    page.evaluate("CorridorMap.placeLabels()")
    assert not [t for t in visible_feature_labels(page) if "中州时代" in t]
    # a point with another symbol in its cell has no room for a label and is not offered one (a dense view of a
    # big register makes no labels only to hide them); a point alone is
    offered = page.evaluate("""() => { const t = CorridorMap.tileLayers.projects, map = CorridorMap.map;
        const key = Object.keys(t._held).find(k => +k.split(':')[2] === t._tileZoom && t._held[k].length
            && !t._held[k][0].properties.cluster);
        const at = (dx, dy) => map.containerPointToLatLng(map.latLngToContainerPoint(map.getCenter()).add([dx, dy]));
        const point = (id, latlng) => ({latlng, properties: {id, layer: 'projects', name_zh: id, name_en: id}});
        for (let i = 0; i < 20; i++) t._held[key].push(point(`dense-${i}`, at(200 + (i % 5) * 3, 100 + 3 * (i / 5 | 0))));
        t._held[key].push(point('lone', at(-300, -200)));
        return t.labelPoints(map.getBounds()).map(p => p.properties.id); }""")
    assert "lone" in offered and not [i for i in offered if i.startswith("dense-")]
    page_log.assert_clean()


def legend_chain_shown(page) -> bool:
    return page.evaluate("!document.querySelector('#cm-legend li[data-legend=chain]').hidden")


def test_the_legend_shows_the_chain_ring_only_when_a_shown_record_has_a_chain_link(page, page_log, big_server):
    open_map(page, big_server + "/?z=8&lat=34.62&lon=112.45&layers=districts,parks")
    assert page.evaluate("!!CorridorMap.tileMode.parks")
    assert not legend_chain_shown(page)  # parks have no chain link
    page.evaluate("CorridorMap.map.addLayer(CorridorMap.clusters.projects)")
    page.wait_for_function("() => !document.querySelector('#cm-legend li[data-legend=chain]').hidden")
    assert page.evaluate("!!CorridorMap.tileMode.projects")
    assert page.evaluate("CorridorMap.tileMode.projects.chainLinks") == {
        "cell": 3, "structural-parts": 1, "anode": 1, "foil": 1}
    page_log.assert_clean()


def hover(page, at: dict) -> None:
    """The pointer from beside a spot onto it (one move, after the hover test's 32 ms pause)."""
    page.mouse.move(at["x"] + 60, at["y"] + 60)
    page.wait_for_timeout(60)
    page.mouse.move(at["x"], at["y"])


def near_tile_edges(server: str, layer: str) -> list[dict]:
    """The layer's points lying 3 to 16 px inside a tile's edge at some zoom from 14 to 18 (512 px tiles of Web
    Mercator, as the map draws them): with their zoom and tile."""
    with urllib.request.urlopen(f"{server}/api/layers/{layer}?format=geojson") as resp:
        doc = json.load(resp)
    out = []
    for f in doc["features"]:
        if not f["geometry"]:
            continue
        lon, lat = f["geometry"]["coordinates"]
        for z in range(14, 19):
            world = 256 * 2 ** z
            x = (lon + 180) / 360 * world
            y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * world
            near = min(x % 512, y % 512, 512 - x % 512, 512 - y % 512)
            if 3 <= near <= 16:
                out.append({"id": f["properties"]["id"], "lat": lat, "lon": lon, "z": z, "tx": int(x // 512),
                            "ty": int(y // 512)})
    return out


def test_hover_and_click_find_a_point_at_a_tile_edge_under_a_neighbour_tile(page, page_log, big_server):
    """A point a few px inside its tile's edge is drawn by its tile, whose canvas reaches over the neighbour's; where
    the neighbour's canvas lies on top, the pointer on the point's symbol still finds it."""
    layer = "projects"
    candidates = near_tile_edges(big_server, layer)
    assert candidates
    open_map(page, big_server + f"/?z=14&lat=34.62&lon=112.45&layers=districts,{layer}")
    for c in candidates:
        # the view centred on the point's tile: its tile is made first, its neighbours' canvases lie over it
        page.evaluate("""c => CorridorMap.map.setView(CorridorMap.map.unproject(
            L.point((c.tx + 0.5) * 512, (c.ty + 0.5) * 512), c.z), c.z, {animate: false})""", c)
        drawn(page, layer)
        at = screen_point(page, {"lat": c["lat"], "lng": c["lon"]})
        under = page.evaluate("""([layer, c, at]) => { const t = CorridorMap.tileLayers[layer];
            const own = t._vectorTiles[`${c.tx}:${c.ty}:${c.z}`];
            const top = document.elementFromPoint(at.x, at.y);
            return {own: !!own && top === own.getContainer(), canvas: top && top.tagName === 'CANVAS'}; }""",
                              [layer, c, at])
        if under["canvas"] and not under["own"]:
            break
    else:
        pytest.fail("no point of the data lies under a neighbour tile's canvas")
    names = page.evaluate("""([layer, c]) => CorridorMap.tileLayers[layer].drawnFeatures()
        .filter(f => Math.abs(f.latlng.lat - c.lat) < 1e-5 && Math.abs(f.latlng.lng - c.lon) < 1e-5)
        .map(f => f.properties.id)""", [layer, c])
    assert c["id"] in names
    hover(page, at)
    page.wait_for_selector(".leaflet-tooltip.cm-tip", timeout=5_000)
    tip = page.inner_text(".leaflet-tooltip.cm-tip")
    rows = page.evaluate("""([layer, ids]) => CorridorMap.tileLayers[layer].drawnFeatures()
        .filter(f => ids.includes(f.properties.id)).map(f => [f.properties.name_zh, f.properties.name_en]
        .filter(Boolean).join(' · '))""", [layer, names])
    assert tip in rows
    page.mouse.move(at["x"] + 60, at["y"] + 60, steps=3)  # off the symbol: the tooltip goes
    page.wait_for_selector(".leaflet-tooltip.cm-tip", state="detached", timeout=5_000)
    # a click there opens the point's card (or, for records at one spot, the list to pick from)
    page.mouse.click(at["x"], at["y"])
    page.wait_for_selector(".cm-tile-pick a, .cm-popup[data-loaded='true']", timeout=5_000)
    if len(names) == 1:
        page.wait_for_selector(f".cm-popup[data-id='{names[0]}'][data-loaded='true']")
    else:
        assert sorted(page.eval_on_selector_all(".cm-tile-pick a", "els => els.map(e => e.dataset.id)")) == sorted(names)
    assert page.evaluate("CorridorMap.state.query") is None  # not a buffer query
    page_log.assert_clean()


def test_hover_and_click_find_a_point_under_another_layers_tiles(page, page_log, big_server):
    """Each point layer draws its own canvas tiles over the whole view, the last one shown on top: a project (with a
    park at its spot) under the institutions' tiles is still found by the pointer on its symbol."""
    def features(layer):
        with urllib.request.urlopen(f"{big_server}/api/layers/{layer}?format=geojson") as resp:
            return [f for f in json.load(resp)["features"] if f["geometry"]]
    institutions = [f["geometry"]["coordinates"] for f in features("institutions")]
    parks = features("parks")
    project = next(f for f in features("projects") if all(
        abs(f["geometry"]["coordinates"][0] - x) + abs(f["geometry"]["coordinates"][1] - y) > 0.003
        for x, y in institutions))
    lon, lat = project["geometry"]["coordinates"]
    here = sorted([project["properties"]["id"]] + [f["properties"]["id"] for f in parks
                                                    if f["geometry"]["coordinates"] == [lon, lat]])
    open_map(page, big_server + f"/?z=15&lat={lat}&lon={lon}&layers=districts,parks,projects,institutions")
    drawn(page, "projects")
    page.wait_for_function("""() => ['parks', 'institutions'].every(l => { const t = CorridorMap.tileLayers[l];
        return CorridorMap.map.hasLayer(t) && !t.isLoading() && t._canvasesAt(t._tileZoom).length > 0; })""")
    at = screen_point(page, {"lat": lat, "lng": lon})
    assert page.evaluate("""at => { const top = document.elementFromPoint(at.x, at.y);
        return Object.values(CorridorMap.tileLayers.institutions._vectorTiles).some(t => t.getContainer() === top); }""",
                         at)  # the institutions' canvas is on top there
    hover(page, at)
    page.wait_for_selector(".leaflet-tooltip.cm-tip", timeout=5_000)
    assert page.inner_text(".leaflet-tooltip.cm-tip").startswith(project["properties"]["name_zh"])  # drawn on top
    page.mouse.click(at["x"], at["y"])
    if len(here) == 1:
        page.wait_for_selector(f".cm-popup[data-id='{here[0]}'][data-loaded='true']", timeout=5_000)
    else:  # the park and the project at that spot
        page.wait_for_selector(".cm-tile-pick a", timeout=5_000)
        assert sorted(page.eval_on_selector_all(".cm-tile-pick a", "els => els.map(e => e.dataset.id)")) == here
    page.evaluate("CorridorMap.map.closePopup()")  # once it is closed, hovering names the point again
    page.wait_for_function("() => !CorridorMap.map._panAnim || !CorridorMap.map._panAnim._inProgress")
    at = screen_point(page, {"lat": lat, "lng": lon})  # where the popup's autopan left it
    page.mouse.move(at["x"] + 60, at["y"] + 60)
    page.wait_for_selector(".leaflet-tooltip.cm-tip", state="detached", timeout=5_000)
    hover(page, at)
    page.wait_for_selector(".leaflet-tooltip.cm-tip", timeout=5_000)
    page_log.assert_clean()
