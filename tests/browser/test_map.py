"""The main map in headless Chromium: clean load, offline, clusters, filters, buffer queries, permalinks, escaping."""

from __future__ import annotations

import csv
import threading
from urllib.parse import parse_qs, urlsplit

import pytest
from werkzeug.serving import make_server

from geo.build import build_store
from geo.mapspecs import interval_km
from geo.style import LAYER_COLORS
from webmap import create_app

XSS = "<script>alert(1)</script>"


def open_map(page, url: str) -> None:
    """Load a map page and wait until every point layer is loaded."""
    page.goto(url)
    page.wait_for_function("() => document.body.dataset.loaded === 'true'", timeout=20_000)


def counts(page) -> dict[str, int]:
    return page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('.cm-count')]
        .map(e => [e.dataset.layer, +e.querySelector('b').textContent]))""")


def test_map_renders_clean_and_offline(page, page_log, live_server):
    open_map(page, live_server.url + "/")
    assert page.locator(".leaflet-container").count() == 1
    assert page.locator(".marker-cluster").count() > 0
    assert counts(page) == {"parks": 20, "projects": 14, "institutions": 14}
    # the layer control lists every layer, bilingually
    control = page.inner_text(".leaflet-control-layers")
    for label in ("行政区 Districts", "产业带范围 Corridor belts", "项目 Projects", "园区 Parks"):
        assert label in control
    page_log.assert_clean()
    assert any("/api/layers/projects?format=compact" in u for u in page_log.requests)


def test_clusters_split_when_zooming_in(page, page_log, live_server):
    open_map(page, live_server.url + "/?layers=parks&z=9&lat=34.6&lon=112.5")
    biggest = page.evaluate("""() => {
        const g = CorridorMap.clusters.parks; const seen = new Map();
        g.eachLayer(m => { const p = g.getVisibleParent(m); if (p && p.getChildCount) seen.set(p, p.getChildCount()); });
        let best = null; for (const [c, n] of seen) if (!best || n > best[1]) best = [c, n];
        const ll = best[0].getLatLng(); return {n: best[1], lat: ll.lat, lng: ll.lng};
    }""")
    assert biggest["n"] >= 5
    page.evaluate(f"CorridorMap.map.setView([{biggest['lat']}, {biggest['lng']}], 15, {{animate: false}})")
    # the biggest cluster splits: wait until no visible cluster holds as many parks
    page.wait_for_function("""n => {
        const g = CorridorMap.clusters.parks; let most = 0;
        g.eachLayer(m => { const p = g.getVisibleParent(m); if (p) most = Math.max(most, p.getChildCount ? p.getChildCount() : 1); });
        return most > 0 && most < n;
    }""", arg=biggest["n"], timeout=5000)
    after = biggest["n"] - 1
    assert after < biggest["n"]
    page_log.assert_clean()


def test_click_runs_a_buffer_query_and_lists_the_right_features(page, page_log, live_server):
    open_map(page, live_server.url + "/?layers=districts&z=11&lat=34.66&lon=112.70")
    page.fill("#cm-query input[name=radius_km]", "12")
    point = page.evaluate("""() => { const p = CorridorMap.map.latLngToContainerPoint([34.66, 112.70]);
        const r = CorridorMap.map.getContainer().getBoundingClientRect(); return {x: r.left + p.x, y: r.top + p.y}; }""")
    page.mouse.click(point["x"], point["y"])
    page.wait_for_selector("#cm-hit-count")
    clicked = page.evaluate("CorridorMap.state.query")
    listed = page.eval_on_selector_all("#cm-results li", "els => els.map(e => e.dataset.id)")
    truth = page.evaluate(f"""async () => (await (await fetch('/api/near?lon={clicked['lon']}&lat={clicked['lat']}&radius_km=12'))
        .json()).features.map(f => f.id)""")
    assert listed == truth and "zhongzhou-shidai-phase-1" in listed and "ruzhou-prefab-park" not in listed
    assert page.locator(".cm-hit").count() > 0  # highlighted on the map
    assert "140 亿元" in page.inner_text("#cm-results")
    query = parse_qs(urlsplit(page.url).query)
    assert query["qr"] == ["12"] and "qlon" in query
    page_log.assert_clean()


YANSHI = (112.7502, 34.706)  # 偃师区: its records are located to the county only, drawn at its seat


def near_truth(page, radius_km: float, **extra: str) -> dict:
    """The API's answer to the buffer query around YANSHI, as the page would fetch it."""
    query = "&".join(f"{k}={v}" for k, v in extra.items())
    return page.evaluate(f"""async () => (await fetch('/api/near?lon={YANSHI[0]}&lat={YANSHI[1]}&radius_km={radius_km}'
        + '&{query}')).json()""")


def hit_paths(page) -> dict[str, dict]:
    """The query hits drawn on the map (SVG paths), by feature id: their fill and stroke."""
    return page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('path.cm-hit')].map(p =>
        [p.dataset.id, {fill: p.getAttribute('fill'), stroke: p.getAttribute('stroke'),
                        certain: p.classList.contains('cm-hit-certain')}]))""")


def rows(page) -> dict[str, dict]:
    return page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('#cm-results li')].map(li =>
        [li.dataset.id, {certainty: li.dataset.certainty, text: li.innerText}]))""")


def test_possible_hits_are_hollow_and_say_where_they_are_located(page, page_log, live_server):
    open_map(page, live_server.url + "/?layers=districts&z=10&lat=34.68&lon=112.65")
    page.evaluate(f"CorridorMap.runQuery({{lon: {YANSHI[0]}, lat: {YANSHI[1]}, radius_km: 20, layer: 'all'}})")
    page.wait_for_selector("#cm-hit-count")
    truth = near_truth(page, 20)
    luolong = {f["id"]: f["properties"] for f in truth["features"] if f["properties"]["located_to_zh"] == "仅定位到洛龙区"}
    assert luolong and {p["certainty"] for p in luolong.values()} == {"possible"}
    drawn, listed = hit_paths(page), rows(page)
    assert list(listed) == [f["id"] for f in truth["features"]]  # certain first, then by the nearest distance
    for fid, p in luolong.items():
        assert drawn[fid]["fill"] == "none" and not drawn[fid]["certain"]  # hollow: the outline only
        assert drawn[fid]["stroke"] == LAYER_COLORS[p["layer"]]  # in its layer's colour
        text = listed[fid]["text"]
        assert "possibly within (located to 洛龙区 only)" in text and "可能在范围内（仅定位到洛龙区）" in text
        assert f"{interval_km(p['distance_min_km'], p['distance_max_km'])} km" in text
    counts_shown = page.evaluate("""() => [+document.querySelector('#cm-certain-count').textContent,
        +document.querySelector('#cm-possible-count').textContent]""")
    assert counts_shown == [truth["summary"]["certain"], truth["summary"]["possible"]]
    # 30 km holds all of 偃师区: its records are now certain, drawn solid in their layer's colour
    page.evaluate(f"CorridorMap.runQuery({{lon: {YANSHI[0]}, lat: {YANSHI[1]}, radius_km: 30, layer: 'all'}})")
    page.wait_for_function("() => CorridorMap.state.query.radius_km === 30")
    truth = near_truth(page, 30)
    yanshi = [f["id"] for f in truth["features"] if f["properties"]["located_to_zh"] == "仅定位到偃师区"]
    drawn, listed = hit_paths(page), rows(page)
    assert yanshi and all(drawn[i]["certain"] and drawn[i]["fill"] not in (None, "none") for i in yanshi)
    assert all(drawn[i]["fill"] == drawn[i]["stroke"] for i in yanshi)  # the same colour, filled
    assert all(listed[i]["text"].endswith("certain · 确定在范围内") for i in yanshi)
    assert all(drawn[i]["fill"] == "none" for i in luolong)  # 洛龙区 still reaches beyond 30 km
    assert list(listed)[:len(yanshi)] == yanshi  # certain hits first
    page_log.assert_clean()


def test_certain_only_is_a_query_parameter_kept_in_the_permalink(page, page_log, live_server):
    open_map(page, live_server.url + f"/?layers=districts&qlon={YANSHI[0]}&qlat={YANSHI[1]}&qr=30")
    page.wait_for_selector("#cm-hit-count")
    everything = near_truth(page, 30)
    assert everything["summary"]["possible"] > 0
    page.check("#cm-query input[name=certain_only]")
    page.wait_for_function("() => location.search.includes('qcertain=true')")
    page.wait_for_function("n => document.querySelectorAll('#cm-results li').length === n",
                           arg=everything["summary"]["certain"])
    listed = rows(page)
    assert {r["certainty"] for r in listed.values()} == {"certain"}
    assert list(listed) == [f["id"] for f in near_truth(page, 30, certain_only="true")["features"]]
    assert not page.locator("path.cm-hit-possible").count()
    assert "qcertain=true" in page.get_attribute("#cm-permalink", "href")
    assert "qcertain=true" in page.get_attribute("a[data-export-base='/export/data.csv']", "href")
    page.reload()
    page.wait_for_selector("#cm-hit-count")
    assert page.is_checked("#cm-query input[name=certain_only]")
    assert {r["certainty"] for r in rows(page).values()} == {"certain"}
    page.uncheck("#cm-query input[name=certain_only]")
    page.wait_for_function("() => !location.search.includes('qcertain')")
    page.wait_for_function("n => document.querySelectorAll('#cm-results li').length === n",
                           arg=everything["summary"]["feature_count"])
    page_log.assert_clean()


def test_selecting_a_stand_in_outlines_where_it_may_lie(page, page_log, live_server):
    open_map(page, live_server.url + "/?layers=districts&z=10&lat=34.68&lon=112.65")
    page.evaluate(f"CorridorMap.runQuery({{lon: {YANSHI[0]}, lat: {YANSHI[1]}, radius_km: 20, layer: 'all'}})")
    page.wait_for_selector("#cm-hit-count")
    assert page.locator("path.cm-possible-area").count() == 0
    page.click("#cm-results li[data-id='zhongzhou-shidai-phase-1']")
    page.wait_for_selector("path.cm-possible-area")
    area = page.evaluate("""async () => (await fetch('/api/possible-area?feature=zhongzhou-shidai-phase-1')).json()""")
    assert area["properties"]["located_to_zh"] == "仅定位到洛龙区" and area["geometry"]["type"].endswith("Polygon")
    outline = page.evaluate("""() => { const p = document.querySelector('path.cm-possible-area');
        return {id: p.dataset.id, dash: p.getAttribute('stroke-dasharray'), n: document.querySelectorAll('path.cm-possible-area').length,
                bounds: CorridorMap.areaLayer.getLayers()[0].getBounds().toBBoxString()}; }""")
    assert outline["id"] == "zhongzhou-shidai-phase-1" and outline["dash"] and outline["n"] >= 1
    west, south, east, north = map(float, outline["bounds"].split(","))
    ring = [c for part in (area["geometry"]["coordinates"] if area["geometry"]["type"] == "MultiPolygon"
                           else [area["geometry"]["coordinates"]]) for c in part[0]]
    assert abs(west - min(x for x, _ in ring)) < 1e-4 and abs(north - max(y for _, y in ring)) < 1e-4
    assert "仅定位到洛龙区" in page.inner_text("#cm-selection")
    assert "cm-selected" in page.get_attribute("#cm-results li[data-id='zhongzhou-shidai-phase-1']", "class")
    # selecting another replaces the outline
    page.click("#cm-results li[data-id='youbo-battery-foil']")
    page.wait_for_function("""() => [...document.querySelectorAll('path.cm-possible-area')].every(p =>
        p.dataset.id === 'youbo-battery-foil') && document.querySelectorAll('path.cm-possible-area').length > 0""")
    assert "仅定位到偃师区" in page.inner_text("#cm-selection")
    # clearing the query removes it
    page.click("#cm-query button[name=clear]")
    assert page.locator("path.cm-possible-area").count() == 0 and page.locator("path.cm-hit").count() == 0
    assert page.is_hidden("#cm-selection")
    page_log.assert_clean()


def test_a_stand_ins_popup_outlines_its_possible_area(page, page_log, live_server):
    open_map(page, live_server.url + "/?q=youbo-battery-foil")
    page.evaluate("""() => { const m = CorridorMap.clusters.projects.getLayers()[0];
        CorridorMap.map.setView(m.getLatLng(), 11, {animate: false}); m.openPopup(); }""")
    page.wait_for_selector("path.cm-possible-area")
    page.wait_for_function("() => document.querySelector('.cm-popup .cm-located').textContent.includes('仅定位到偃师区')")
    page_log.assert_clean()


def test_query_around_a_picked_feature(page, page_log, live_server):
    open_map(page, live_server.url + "/")
    page.select_option("#cm-query select[name=feature]", "luo-mian")
    page.click("#cm-query button[type=submit]")
    page.wait_for_selector("#cm-hit-count")
    listed = page.eval_on_selector_all("#cm-results li", "els => els.map(e => e.dataset.id)")
    assert "yima-coal-chemical-logistics-park" in listed and "luo-mian" not in listed
    page_log.assert_clean()


def test_a_popup_names_its_source_by_title_kind_and_date(page, page_log, live_server):
    open_map(page, live_server.url + "/?q=youbo-battery-foil")
    assert counts(page)["projects"] == 1
    page.evaluate("""() => { const m = CorridorMap.clusters.projects.getLayers()[0];
        CorridorMap.map.setView(m.getLatLng(), 18, {animate: false}); m.openPopup(); }""")
    page.wait_for_selector(".cm-popup .cm-source")
    source = page.inner_text(".cm-popup .cm-source")
    assert "【快讯】再创产业发展新辉煌——洛阳市产业发展观摩看偃师" in source
    assert "相关条目 related item" in source and "无日期 undated" in source and "年产15万吨电池箔项目" in source
    assert ".txt" not in page.inner_text(".cm-popup")  # no file name, in the source line or the table
    page_log.assert_clean()


def test_a_filter_changes_what_is_shown(page, page_log, live_server):
    open_map(page, live_server.url + "/")
    page.select_option("#cm-filters select[name=status]", "planned")
    page.wait_for_function("() => document.querySelector('.cm-count[data-layer=projects] b').textContent === '8'")
    assert counts(page)["projects"] == 8
    shown = page.evaluate("CorridorMap.clusters.projects.getLayers().length")
    assert shown == 8
    assert "status=planned" in page.url
    page.fill("#cm-filters input[name=q]", "汝")
    page.wait_for_function("() => document.querySelector('.cm-count[data-layer=projects] b').textContent === '2'")
    page_log.assert_clean()


def test_permalink_restores_the_state(page, page_log, live_server):
    url = (live_server.url + "/?lat=34.70000&lon=112.60000&z=10&layers=corridors,districts,parks"
           "&corridor=luo-ru&qlon=112.844&qlat=34.167&qr=5")
    open_map(page, url)
    page.wait_for_selector("#cm-hit-count")
    state = page.evaluate("""() => ({c: CorridorMap.map.getCenter(), z: CorridorMap.map.getZoom(),
        projects: CorridorMap.map.hasLayer(CorridorMap.clusters.projects),
        parks: CorridorMap.map.hasLayer(CorridorMap.clusters.parks)})""")
    assert state["z"] == 10 and abs(state["c"]["lat"] - 34.7) < 1e-3 and abs(state["c"]["lng"] - 112.6) < 1e-3
    assert state["parks"] and not state["projects"]
    assert page.input_value("#cm-filters select[name=corridor]") == "luo-ru"
    # the corridor filter as the API applies it (parks certainly in the belt or named in its plan)
    in_corridor = page.evaluate("""async () => (await (await fetch('/api/layers/parks?corridor=luo-ru&format=compact'))
        .json()).rows.length""")
    assert counts(page)["parks"] == in_corridor and 0 < in_corridor < 20
    listed = page.eval_on_selector_all("#cm-results li", "els => els.map(e => e.dataset.id)")
    assert "ruzhou-shuolong-building-materials" in listed
    # the page keeps the state in its own URL, so reloading shows the same map
    page.reload()
    page.wait_for_function("() => document.body.dataset.loaded === 'true'")
    assert page.evaluate("CorridorMap.map.getZoom()") == 10
    assert parse_qs(urlsplit(page.url).query)["corridor"] == ["luo-ru"]
    page_log.assert_clean()


@pytest.fixture(scope="module")
def xss_server(tmp_path_factory):
    """The app over a store in which one project is named <script>alert(1)</script>."""
    from geo.io import DEFAULT_SOURCES_DIR

    src = tmp_path_factory.mktemp("xss") / "sources"
    src.mkdir()
    for f in DEFAULT_SOURCES_DIR.iterdir():
        (src / f.name).write_bytes(f.read_bytes())
    path = src / "projects.csv"
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    rows[5]["name_zh"] = XSS
    rows[5]["name_en"] = '<img src=x onerror="document.title=\'pwned\'">'
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    store = src.parent / "xss.gpkg"
    build_store(store, sources_dir=src)
    server = make_server("127.0.0.1", 0, create_app({"CORRIDORS_STORE": str(store)}), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", rows[5]["id"]
    server.shutdown()


def test_a_script_in_the_data_shows_as_text(page, page_log, xss_server):
    url, feature_id = xss_server
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    open_map(page, url + "/?q=script")
    assert counts(page)["projects"] == 1
    page.evaluate("""() => { const m = CorridorMap.clusters.projects.getLayers()[0];
        CorridorMap.map.setView(m.getLatLng(), 18, {animate: false}); m.openPopup(); }""")
    page.wait_for_selector(".cm-popup h3")
    assert XSS in page.inner_text(".cm-popup h3")
    page.evaluate(f"CorridorMap.runQuery({{feature: '{feature_id}', radius_km: 1, layer: 'all'}})")
    page.wait_for_selector("#cm-hit-count")
    page.goto(f"{url}/projects/{feature_id}")
    assert XSS in page.inner_text("h1")
    page.goto(f"{url}/data")
    assert page.title() != "pwned" and dialogs == []
    page_log.assert_clean()
