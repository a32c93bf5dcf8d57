"""The main map as a planner uses it (issue 16), in headless Chromium: readable popups, place labels, one cluster
for every point layer, diamonds, belts under axes, a legend of what is drawn, filters that fully apply, clickable
buffer results, data links, the language switch, the phone layout and the page's JS API."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page

CATL_SITE = (34.615, 112.64)  # 伊滨区's stand-in point: 2 parks, 5 projects and 1 institution of CATL's base
YANSHI_SEAT = (34.727, 112.789)  # 偃师区's seat, where 优箔's project stands in


def open_map(page: Page, url: str) -> None:
    """Load a map page and wait until every point layer is loaded and the clusters have settled."""
    page.goto(url)
    page.wait_for_function("() => document.body.dataset.loaded === 'true'", timeout=20_000)
    page.wait_for_function("() => !(CorridorMap.points && CorridorMap.points._inZoomAnimation)")


def counts(page: Page) -> dict[str, int]:
    return page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('.cm-count')]
        .map(e => [e.dataset.layer, +e.querySelector('b').textContent]))""")


def screen_point(page: Page, lat: float, lon: float) -> dict[str, float]:
    """Where a WGS84 position is on the page (CSS px)."""
    return page.evaluate("""([lat, lon]) => { const p = CorridorMap.map.latLngToContainerPoint([lat, lon]);
        const r = CorridorMap.map.getContainer().getBoundingClientRect(); return {x: r.left + p.x, y: r.top + p.y}; }""",
                         [lat, lon])


def api_count(page: Page, layer: str, query: str) -> int:
    return page.evaluate(f"""async () => (await (await fetch('/api/layers/{layer}?format=compact&{query}')).json())
        .rows.length""")


def open_popup(page: Page, feature_id: str) -> None:
    page.evaluate(f"CorridorsMap.openFeature('{feature_id}')")
    page.wait_for_selector(f".cm-popup[data-id='{feature_id}'][data-loaded=true]")
    page.wait_for_function("() => !CorridorMap.map._panAnim || !CorridorMap.map._panAnim._inProgress")
    page.wait_for_timeout(400)  # the autopan after the card grew


def visible_labels(page: Page, kind: str) -> list[dict]:
    """The labels of one kind (district, seat, feature) drawn and not hidden: text and box."""
    return page.evaluate(f"""() => [...document.querySelectorAll('.cm-label-{kind}:not(.cm-label-hidden) .cm-label-text')]
        .map(t => {{ const r = t.getBoundingClientRect();
            return {{text: t.innerText, left: r.left, right: r.right, top: r.top, bottom: r.bottom}}; }})""")


# -- popups -----------------------------------------------------------------------------------------------

def test_a_popup_is_a_readable_bilingual_card(page, page_log, live_server):
    open_map(page, live_server.url + "/?lat=34.62&lon=112.6&z=11")
    open_popup(page, "zhongzhou-shidai-phase-1")
    card = page.inner_text(".cm-popup")
    for text in ("中州时代生产基地一期", "Zhongzhou Shidai production base, phase I",  # name, both languages
                 "项目", "project", "在建", "under construction",  # kind, status in words
                 "投资", "investment", "约", "about", "140", "亿元",  # a figure with its qualifier and unit
                 "产能", "60 GWh/年",
                 "电芯", "Battery cells",  # the chain link by name
                 "洛龙区", "Luolong District",  # the district by name
                 "区县级", "county level",  # how the position was set …
                 "原文仅给出伊滨区", "article gives 伊滨区 only",  # … with the note in both languages
                 "向新提质洛阳聚势强链打造新能源产业园",  # the source by title
                 "中州时代新能源生产基地"):  # the park it is in, by name
        assert text in card, text
    for raw in ("410311", "district_code", "chain_link", "location_precision", ".txt", "zhongzhou-shidai-base"):
        assert raw not in card, raw
    # the stand-in says what it is located to (the possible area's words)
    page.wait_for_function("() => document.querySelector('.cm-popup .cm-located').textContent.includes('仅定位到洛龙区')")
    # links: the details page, a buffer query around it, an edit hook (disabled until an editor registers)
    assert page.get_attribute(".cm-popup a.cm-details", "href") == "/projects/zhongzhou-shidai-phase-1"
    assert page.locator(".cm-popup button.cm-query-here").count() == 1
    assert page.get_attribute(".cm-popup .cm-edit", "data-edit-id") == "zhongzhou-shidai-phase-1"
    # a park's corridor by name, qualified figures with their qualifier
    page.evaluate("CorridorMap.map.closePopup()")
    open_popup(page, "zhongzhou-shidai-base")
    card = page.inner_text(".cm-popup")
    assert "近" in card and "nearly" in card and "20000" in card and "人" in card
    page.evaluate("CorridorMap.map.closePopup()")
    open_popup(page, "ruzhou-prefab-park")
    card = page.inner_text(".cm-popup")
    assert "洛汝新型建材产业带" in card and "luo-ru" not in card and "汝州市" in card and "410482" not in card
    page_log.assert_clean()


def test_a_popup_is_laid_out_for_its_loaded_content_and_in_view(page, page_log, live_server):
    open_map(page, live_server.url + "/?lat=34.62&lon=112.6&z=11")
    open_popup(page, "zhongzhou-shidai-phase-1")
    layout = page.evaluate("""() => {
        const content = document.querySelector('.leaflet-popup-content');
        const card = content.querySelector('.cm-popup');
        const wrapper = document.querySelector('.leaflet-popup-content-wrapper');
        const map = CorridorMap.map.getContainer().getBoundingClientRect();
        const title = card.querySelector('h3').getBoundingClientRect();
        const w = wrapper.getBoundingClientRect();
        const hit = document.elementFromPoint(title.left + 5, title.top + title.height / 2);
        return {cardWidth: card.scrollWidth, contentWidth: content.clientWidth,
                overflowX: wrapper.scrollWidth - wrapper.clientWidth,
                inside: w.left >= map.left - 1 && w.right <= map.right + 1 && w.top >= map.top - 1 && w.bottom <= map.bottom + 1,
                titleShown: !!hit && !!hit.closest('.cm-popup'), width: w.width};
    }""")
    assert layout["cardWidth"] <= layout["contentWidth"] + 1  # nothing spills out of the box
    assert layout["overflowX"] <= 1
    assert layout["width"] > 200  # sized for the card, not for "loading…"
    assert layout["inside"] and layout["titleShown"]  # the whole popup, title first, in view (not under the controls)
    page_log.assert_clean()


def test_the_hover_tooltip_is_closed_while_a_popup_is_open(page, page_log, live_server):
    open_map(page, live_server.url
             + f"/?layers=projects&q=youbo-battery-foil&lat={YANSHI_SEAT[0]}&lon={YANSHI_SEAT[1]}&z=12")
    pt = screen_point(page, *YANSHI_SEAT)
    page.mouse.move(pt["x"], pt["y"])
    page.wait_for_selector(".leaflet-tooltip")  # hovering shows the name
    page.mouse.click(pt["x"], pt["y"])
    page.wait_for_selector(".cm-popup h3")
    page.mouse.move(pt["x"] + 60, pt["y"] + 60)
    page.mouse.move(pt["x"], pt["y"])  # back over the marker, under its open popup
    page.wait_for_timeout(300)
    assert page.locator(".leaflet-tooltip:visible").count() == 0  # the only layer drawn is the projects'
    page_log.assert_clean()


# -- place context ----------------------------------------------------------------------------------------

def overlapping(boxes: list[dict]) -> list[tuple[str, str]]:
    return [(a["text"], b["text"]) for i, a in enumerate(boxes) for b in boxes[i + 1:]
            if a["left"] < b["right"] and b["left"] < a["right"] and a["top"] < b["bottom"] and b["top"] < a["bottom"]]


def test_districts_and_county_seats_are_labelled_without_overlaps(page, page_log, live_server):
    open_map(page, live_server.url + "/")
    page.wait_for_function("() => document.querySelectorAll('.cm-label-district:not(.cm-label-hidden)').length >= 10")
    districts = visible_labels(page, "district")
    texts = " ".join(d["text"] for d in districts)
    assert "嵩县" in texts and "Song County" in texts and "栾川县" in texts  # name_zh with the small name_en
    assert overlapping(districts) == []
    assert visible_labels(page, "seat") == []  # seats from zoom 10 on
    page.evaluate("CorridorMap.map.setView([34.68, 112.62], 11, {animate: false})")
    page.wait_for_function("() => [...document.querySelectorAll('.cm-label-seat:not(.cm-label-hidden)')].length > 0")
    page.wait_for_function("() => !(CorridorMap.points && CorridorMap.points._inZoomAnimation)")
    page.wait_for_timeout(200)
    page.evaluate("CorridorMap.placeLabels()")  # once more, on the settled map (a loaded machine lags a frame)
    seats = visible_labels(page, "seat")
    assert any("偃师区驻地" in s["text"] for s in seats)
    districts = visible_labels(page, "district")
    assert districts and overlapping(districts + seats) == []
    # seat labels sit beside the markers and clusters, not over them
    icons = page.evaluate("""() => [...document.querySelectorAll('.leaflet-marker-pane .marker-cluster, .leaflet-marker-pane .cm-pin')]
        .map(n => { const r = n.getBoundingClientRect(); return {text: 'icon', left: r.left, right: r.right, top: r.top, bottom: r.bottom}; })""")
    assert all(not overlapping([s, i]) for s in seats for i in icons)
    page_log.assert_clean()


def test_features_are_labelled_when_zoomed_in(page, page_log, live_server):
    open_map(page, live_server.url + f"/?q=youbo-battery-foil&lat={YANSHI_SEAT[0]}&lon={YANSHI_SEAT[1]}&z=11")
    assert visible_labels(page, "feature") == []
    page.evaluate(f"CorridorMap.map.setView([{YANSHI_SEAT[0]}, {YANSHI_SEAT[1]}], 12, {{animate: false}})")
    page.wait_for_function("() => document.querySelectorAll('.cm-label-feature:not(.cm-label-hidden)').length === 1")
    label = visible_labels(page, "feature")[0]
    assert "优箔（洛阳）年产15万吨电池箔项目" in label["text"]
    marker = page.locator(".cm-pin").first.bounding_box()
    box = {"text": "marker", "left": marker["x"], "right": marker["x"] + marker["width"], "top": marker["y"],
           "bottom": marker["y"] + marker["height"]}
    assert overlapping([label, box]) == []  # beside its marker
    page_log.assert_clean()


# -- markers ----------------------------------------------------------------------------------------------

def test_institutions_are_drawn_as_diamonds(page, page_log, live_server):
    open_map(page, live_server.url + "/?layers=institutions&q=河南科技大学&lat=34.615&lon=112.463&z=14")
    shape = page.evaluate("""() => { const icon = document.querySelector('.leaflet-marker-icon.cm-layer-institutions');
        const path = icon.querySelector('svg g:last-child path');
        const m = new DOMMatrix(getComputedStyle(icon).transform);
        return {d: path.getAttribute('d'), rotated: Math.abs(m.b) > 1e-6 || Math.abs(m.c) > 1e-6}; }""")
    # four corners: top, right, bottom, left of the icon's centre (10, 10): a ◆, drawn in the SVG
    points = [tuple(map(float, p.split())) for p in shape["d"].strip("MZ").split("L")]
    assert len(points) == 4 and points[0][0] == 10 and points[1][1] == 10 and points[2][0] == 10 and points[3][1] == 10
    assert not shape["rotated"]  # the element is only positioned
    # the legend draws the same shape
    legend = page.evaluate("""() => document.querySelector('.cm-legend-mark[data-mark=institutions] svg g:last-child path')
        .getAttribute('d')""")
    assert legend == shape["d"]
    page_log.assert_clean()


def test_co_located_features_of_every_layer_cluster_together_and_spiderfy(page, page_log, live_server):
    open_map(page, live_server.url + f"/?lat={CATL_SITE[0]}&lon={CATL_SITE[1]}&z=13")
    pt = screen_point(page, *CATL_SITE)
    # one cluster of all eight at the spot (not one per layer, stacked)
    here = page.evaluate("""([x, y]) => [...document.querySelectorAll('.marker-cluster')].filter(n => {
        const r = n.getBoundingClientRect(); return Math.abs(r.left + r.width / 2 - x) < 2 && Math.abs(r.top + r.height / 2 - y) < 2;
    }).map(n => n.innerText.trim())""", [pt["x"], pt["y"]])
    assert here == ["8"]
    page.mouse.click(pt["x"], pt["y"])
    page.wait_for_function("() => document.querySelectorAll('.leaflet-marker-icon.cm-pin').length === 8")
    layers = page.evaluate("""() => [...document.querySelectorAll('.leaflet-marker-icon.cm-pin')].map(n =>
        [...n.classList].find(c => c.startsWith('cm-layer-'))).sort()""")
    assert set(layers) == {"cm-layer-parks", "cm-layer-projects", "cm-layer-institutions"}
    assert page.evaluate("CorridorMap.map.getZoom()") == 13  # spread out in place, not zoomed to a point
    assert page.evaluate("CorridorMap.state.query") is None  # the click did not start a buffer query
    page_log.assert_clean()


AXIS_ON_TOP = """(corridor) => { let axis = null;
    CorridorMap.map.eachLayer(l => { if (l.feature && l.feature.properties.id === corridor && l instanceof L.Polyline
        && !(l instanceof L.Polygon)) axis = l; });
    const lls = axis.getLatLngs().flat(2); const a = lls[0], b = lls[1];
    const p = CorridorMap.map.latLngToContainerPoint([(a.lat + b.lat) / 2, (a.lng + b.lng) / 2]);
    const r = CorridorMap.map.getContainer().getBoundingClientRect();
    return document.elementFromPoint(r.left + p.x, r.top + p.y) === axis.getElement(); }"""


def test_belts_stay_under_the_axes_when_toggled(page, page_log, live_server):
    open_map(page, live_server.url + "/?layers=belts,corridors&lat=34.4&lon=112.6&z=10")
    assert page.evaluate(AXIS_ON_TOP, "luo-ru")
    control = page.locator(".leaflet-control-layers label", has_text="产业带范围")
    control.locator("input").uncheck()
    control.locator("input").check()
    page.wait_for_function("() => CorridorMap.state.layers.has('belts')")
    assert page.evaluate(AXIS_ON_TOP, "luo-ru")  # still the axis on top, not the belt drawn again over it
    page_log.assert_clean()


def test_the_legend_lists_exactly_what_is_drawn(page, page_log, live_server):
    open_map(page, live_server.url + "/")

    def shown() -> set[str]:
        return set(page.evaluate("""() => [...document.querySelectorAll('#cm-legend li:not([hidden])')].map(li =>
            li.dataset.legendLayer ? (li.dataset.corridor ? 'corridor:' + li.dataset.corridor : 'layer:' + li.dataset.legendLayer
              + (li.dataset.legend ? ':' + li.dataset.legend : ''))
            : li.dataset.legendStatus ? 'status:' + li.dataset.legendStatus : li.dataset.legend)"""))

    everything = shown()
    assert {"layer:projects", "layer:parks", "layer:institutions", "status:unknown", "status:planned", "chain",
            "cluster", "corridor:luo-ru", "layer:belts", "layer:districts", "layer:districts:seats"} <= everything
    assert "query" not in everything and "area" not in everything
    page.locator(".leaflet-control-layers label", has_text="高校与企业").locator("input").uncheck()
    page.wait_for_function("() => !CorridorMap.state.layers.has('institutions')")
    assert "layer:institutions" not in shown()
    page.select_option("#cm-filters select[name=status]", "planned")
    page.wait_for_function("() => document.querySelector('.cm-count[data-layer=projects] b').textContent === '8'")
    statuses = {s for s in shown() if s.startswith("status:")}
    assert statuses == {"status:planned"}
    page.evaluate("CorridorMap.runQuery({lon: 112.45, lat: 34.62, radius_km: 5, layer: 'all'})")
    page.wait_for_selector("#cm-hit-count")
    assert "query" in shown()
    page_log.assert_clean()


# -- filters ----------------------------------------------------------------------------------------------

def test_a_status_filter_hides_institutions_and_a_chain_link_filter_parks(page, page_log, live_server):
    open_map(page, live_server.url + "/?status=operating")
    assert counts(page)["institutions"] == 0
    assert page.evaluate("CorridorMap.clusters.institutions.getLayers().length") == 0
    open_map(page, live_server.url + "/?chain_link=cell")
    parks = counts(page)["parks"]
    assert parks == api_count(page, "parks", "chain_link=cell") == 2  # CATL's base and the park holding it
    assert {m for m in page.evaluate("CorridorMap.clusters.parks.getLayers().map(m => m.featureId)")} == {
        "zhongzhou-shidai-base", "luoyang-new-energy-park"}
    page_log.assert_clean()


def test_the_corridor_filter_highlights_the_corridor_and_goes_to_it(page, page_log, live_server):
    open_map(page, live_server.url + "/")
    before = page.evaluate("CorridorMap.map.getZoom()")
    page.select_option("#cm-filters select[name=corridor]", "luo-ru")
    page.wait_for_function(f"() => CorridorMap.map.getZoom() > {before}")
    page.wait_for_function("() => document.body.dataset.loaded === 'true'")
    widths = page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('.leaflet-cm-axes-pane path')]
        .map(p => [p.dataset.corridor, +p.getAttribute('stroke-width')]))""")
    assert widths["luo-ru"] > widths["luo-mian"] and widths["luo-ru"] >= 8
    belt = page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('.leaflet-cm-belts-pane path')]
        .map(p => [p.dataset.corridor, +p.getAttribute('fill-opacity')]))""")
    assert belt["luo-ru"] > belt["luo-gong"]
    # the view holds the corridor
    inside = page.evaluate("""() => { let axis = null; CorridorMap.map.eachLayer(l => { if (l.feature
        && l.feature.properties.id === 'luo-ru' && l.options.pane === 'cm-axes') axis = l; });
        return CorridorMap.map.getBounds().pad(0.05).contains(axis.getBounds()); }""")
    assert inside
    page_log.assert_clean()


@pytest.mark.parametrize("q", ["宁德时代", "CATL"])
def test_the_name_search_finds_a_firm_by_any_of_its_names(page, page_log, live_server, q):
    open_map(page, live_server.url + "/")
    page.fill("#cm-filters input[name=q]", q)
    page.wait_for_function("() => document.querySelector('.cm-count[data-layer=projects] b').textContent === '3'")
    assert counts(page) == {"parks": 1, "projects": 3, "institutions": 1}
    assert parse_qs(urlsplit(page.url).query)["q"] == [q]
    page_log.assert_clean()


# -- buffer results ---------------------------------------------------------------------------------------

def test_buffer_results_name_the_feature_and_their_rows_open_popups(page, page_log, live_server):
    open_map(page, live_server.url + "/")
    page.select_option("#cm-query select[name=feature]", "luo-mian")
    page.click("#cm-query button[type=submit]")
    page.wait_for_selector("#cm-hit-count")
    page.wait_for_function("() => document.querySelector('.cm-query-where').textContent.includes('洛渑新材料产业带')")
    assert "luo-mian" not in page.inner_text(".cm-query-head")
    page.click("#cm-results li[data-id='yima-coal-chemical-logistics-park']")
    page.wait_for_selector(".cm-popup[data-id='yima-coal-chemical-logistics-park'][data-loaded=true]")
    assert "义马煤化工物流园" in page.inner_text(".cm-popup h3") or "义马" in page.inner_text(".cm-popup h3")
    # the map went to it: its marker (or its spiderfied leg) is on screen
    assert page.evaluate("""() => CorridorMap.map.getBounds().contains(
        CorridorMap.clusters.parks.getLayers().find(m => m.featureId === 'yima-coal-chemical-logistics-park').getLatLng())""")
    # a hit without a marker (a corridor) opens its card where the hit is
    page.click("#cm-results li[data-id='luo-gong']")
    page.wait_for_selector(".cm-popup[data-id='luo-gong'][data-loaded=true]")
    card = page.inner_text(".cm-popup[data-id='luo-gong']")
    assert "洛巩高端装备产业带" in card and "2021 投资目标" in card and page.get_attribute(
        ".cm-popup[data-id='luo-gong'] a.cm-details", "href") == "/corridors/luo-gong"
    page_log.assert_clean()


# -- data links -------------------------------------------------------------------------------------------

def test_data_links_download_the_filtered_layer_without_a_query(page, page_log, live_server):
    open_map(page, live_server.url + "/?status=planned")
    href = page.get_attribute("a[data-export-base='/export/data.csv']", "href")
    query = parse_qs(urlsplit(href).query)
    assert query["layer"] == ["projects"] and query["status"] == ["planned"]
    got = page.evaluate("""async (url) => { const r = await fetch(url); return {status: r.status,
        type: r.headers.get('content-type'), text: await r.text()}; }""", href)
    assert got["status"] == 200 and got["type"].startswith("text/csv")
    assert len([line for line in got["text"].splitlines() if line.strip()]) == 1 + 8  # the 8 planned projects
    for fmt in ("geojson", "gpkg"):
        link = page.get_attribute(f"a[data-export-base='/export/data.{fmt}']", "href")
        assert page.evaluate("async (url) => (await fetch(url)).status", link) == 200
    page.select_option("#cm-data-layer", "parks")
    assert "layer=parks" in page.get_attribute("a[data-export-base='/export/data.csv']", "href")
    # with a buffer query the links give the query's hits
    page.evaluate("CorridorMap.runQuery({lon: 112.45, lat: 34.62, radius_km: 5, layer: 'all'})")
    page.wait_for_selector("#cm-hit-count")
    query = parse_qs(urlsplit(page.get_attribute("a[data-export-base='/export/data.csv']", "href")).query)
    assert "layer" not in query and query["qr"] == ["5"]
    page_log.assert_clean()


# -- language ---------------------------------------------------------------------------------------------

def test_the_language_switch_applies_to_the_page_and_is_kept_in_the_permalink(page, page_log, live_server):
    open_map(page, live_server.url + "/?lat=34.62&lon=112.6&z=11")
    assert page.inner_text("#cm-panel h2 >> nth=0") == "筛选 Filters"
    page.click("#cm-lang button[data-lang=en]")
    assert parse_qs(urlsplit(page.url).query)["lang"] == ["en"]
    assert "lang=en" in page.get_attribute("#cm-permalink", "href")
    assert page.inner_text("#cm-panel h2 >> nth=0") == "Filters"
    assert page.evaluate("document.querySelector('#cm-filters select[name=status] option[value=planned]').textContent") \
        == "planned"
    assert "Projects" in page.inner_text("#cm-counts") and "项目" not in page.inner_text("#cm-counts")
    assert "Corridor axes" in page.inner_text(".leaflet-control-layers") \
        and "产业带轴线" not in page.inner_text(".leaflet-control-layers")
    labels = " ".join(d["text"] for d in visible_labels(page, "district"))
    assert "Luolong District" in labels and "洛龙区" not in labels
    open_popup(page, "zhongzhou-shidai-phase-1")
    card = page.inner_text(".cm-popup")
    assert "under construction" in card and "在建" not in card and "investment" in card
    # the permalink brings the language back; Chinese only
    page.goto(live_server.url + "/?lang=zh")
    page.wait_for_function("() => document.body.dataset.loaded === 'true'")
    assert page.inner_text("#cm-panel h2 >> nth=0") == "筛选"
    assert "Parks" not in page.inner_text("#cm-counts")
    page.click("#cm-lang button[data-lang=both]")
    assert "lang" not in parse_qs(urlsplit(page.url).query)  # both is the default
    page_log.assert_clean()


# -- phone ------------------------------------------------------------------------------------------------

def boxes(page: Page) -> dict:
    return page.evaluate("""() => { const r = (s) => { const e = document.querySelector(s); if (!e) return null;
        const b = e.getBoundingClientRect(); return {left: b.left, right: b.right, top: b.top, bottom: b.bottom,
        width: b.width, height: b.height, shown: getComputedStyle(e).display !== 'none'}; };
        return {map: r('.folium-map'), panel: r('#cm-panel'), toggle: r('#cm-panel-toggle'), zoom: r('.leaflet-control-zoom')}; }""")


def test_on_a_phone_the_panel_folds_away_and_never_covers_the_map(phone, page_log, live_server):
    open_map(phone, live_server.url + "/")
    b = boxes(phone)
    assert not b["panel"]["shown"]  # collapsed at first
    assert b["map"]["width"] >= 389 and b["map"]["height"] >= 840  # the whole screen is map
    t, z = b["toggle"], b["zoom"]
    assert t["bottom"] <= z["top"] or t["right"] <= z["left"]  # the toggle does not sit on the zoom buttons
    phone.click("#cm-panel-toggle")
    phone.wait_for_function("() => getComputedStyle(document.querySelector('#cm-panel')).display !== 'none'")
    b = boxes(phone)
    assert b["panel"]["top"] >= b["map"]["bottom"] - 1  # map above, panel below: no overlap
    assert b["map"]["height"] > 250 and b["panel"]["height"] > 250
    assert phone.get_attribute("#cm-panel-toggle", "aria-expanded") == "true"
    phone.click("#cm-panel-toggle")
    phone.wait_for_function("() => getComputedStyle(document.querySelector('#cm-panel')).display === 'none'")
    page_log.assert_clean()


# -- the page's API for later work ------------------------------------------------------------------------

def test_the_js_api_sets_the_date_and_extends_popups(page, page_log, live_server):
    open_map(page, live_server.url + "/?status=planned")
    api = page.evaluate("Object.keys(CorridorsMap).sort()")
    assert {"map", "state", "reload", "onPopup", "onEdit", "setAsOf", "setLang", "openFeature"} <= set(api)
    assert page.evaluate("CorridorsMap.state().filters.status") == "planned"
    page.evaluate("CorridorsMap.setAsOf('2021-08-01')")
    page.wait_for_function("() => document.body.dataset.loaded === 'true' && location.search.includes('as_of=2021-08-01')")
    for layer in ("parks", "projects", "institutions"):
        assert counts(page)[layer] == api_count(page, layer, "status=planned&as_of=2021-08-01")
    assert counts(page)["projects"] < api_count(page, "projects", "status=planned")
    assert "2021-08-01" in page.inner_text("#cm-as-of")
    page.evaluate("CorridorsMap.setAsOf(null)")
    page.wait_for_function("() => document.body.dataset.loaded === 'true' && !location.search.includes('as_of')")
    assert counts(page)["projects"] == 8
    with pytest.raises(Exception, match="YYYY-MM-DD"):
        page.evaluate("CorridorsMap.setAsOf('last year')")
    # another module adds a button to every card, and handles the edit button
    page.evaluate("""() => { window.__edited = [];
        CorridorsMap.onPopup((card, feature) => { const b = document.createElement('button');
            b.className = 'x-added'; b.textContent = 'added ' + feature.properties.id; card.append(b); });
        CorridorsMap.onEdit((id) => window.__edited.push(id)); }""")
    open_popup(page, "zhongzhou-shidai-phase-2")
    assert page.inner_text(".cm-popup .x-added") == "added zhongzhou-shidai-phase-2"
    page.click(".cm-popup .cm-edit")
    assert page.evaluate("window.__edited") == ["zhongzhou-shidai-phase-2"]
    page_log.assert_clean()
