"""The site-selection page in headless Chromium: form, ranking with reasons, expected scores with their range and
ties, map of scores, permalink."""

from __future__ import annotations

import csv
import re
import shutil
import threading

import pytest
from werkzeug.serving import make_server

from webmap import create_app


def ranking(page) -> list[str]:
    return page.eval_on_selector_all("#site-ranking li", "els => els.map(e => e.dataset.id)")


def test_site_page_ranks_with_reasons_and_map(page, page_log, live_server):
    page.goto(live_server.url + "/site")
    page.select_option("#site-form select[name=industry]", "battery-materials")
    page.fill("#site-form input[name=top]", "5")
    page.click("#site-form button[type=submit]")
    page.wait_for_selector("#site-ranking li")
    assert ranking(page)[0] == "luoyang-new-energy-park" and len(ranking(page)) == 5
    first = page.inner_text("#site-ranking li:first-child")
    assert "电池材料" in first and "battery materials" in first
    # the expected score with its range beside it, and distances as intervals saying how coarse the data is
    score = float(page.inner_text("#site-ranking li:first-child .score"))
    lo, hi = map(float, re.findall(r"\d+\.\d", page.inner_text("#site-ranking li:first-child .score-range")))
    assert lo <= score <= hi and lo < hi
    assert "（两者均仅定位到区县）" in first and "(both located only to a district)" in first
    assert "0.0 km" not in first and "仅定位到洛龙区" in first
    # the fifth park ties with the sixth (both located only to 瀍河回族区, the same facts): the page says so
    fifth = page.inner_text("#site-ranking li:nth-child(5)")
    assert "并列第 5" in fifth and "洛阳国际健康科技产业园" in fifth and "tied for #5" in fifth
    # the map frame: numbered candidates on the suitability surface, from the app only
    frame = page.frame_locator("#site-map")
    frame.locator(".site-rank").first.wait_for()
    assert frame.locator(".site-rank").count() == 5
    assert frame.locator(".leaflet-interactive").count() > 300  # hexagons of the surface
    # the URL is the permalink: the same page comes back from it
    url = page.url
    assert "industry=battery-materials" in url and "weights=" in url
    page.goto(url)
    assert ranking(page)[0] == "luoyang-new-energy-park"
    page_log.assert_clean()


def test_weights_from_the_form_change_the_order(page, page_log, live_server):
    page.goto(live_server.url + "/site?industry=battery-materials")
    before = ranking(page)
    for criterion in ("theme", "corridor", "chain", "talent", "anchor"):
        page.fill(f"#site-form input[name=w_{criterion}]", "0")
    page.click("#site-form button[type=submit]")
    page.wait_for_url("**weights=theme%3D0**")
    after = ranking(page)
    assert after[0] != before[0] and after[0] == "luoyang-green-casting-park"  # the only operating park
    # talent alone: the four parks of the universities' county cannot be told apart, and tie
    page.goto(live_server.url + "/site?industry=battery-materials&weights=theme=0,corridor=0,chain=0,anchor=0,"
              "status=0,talent=1")
    ties = page.eval_on_selector_all("#site-ranking li", "els => els.map(e => e.dataset.tieRank)")
    assert ties[:4] == ["1"] * 4 and ties[4] != "1"
    assert "并列第 1" in page.inner_text("#site-ranking li:first-child")
    page_log.assert_clean()


def test_a_constraint_that_excludes_everything_is_explained(page, page_log, live_server):
    page.goto(live_server.url + "/site?industry=castings&district=410327&corridor=luo-ru")
    empty = page.inner_text("#site-empty")
    assert "产业带（在洛汝新型建材产业带内" in empty and "排除了剩余的全部 1 个园区" in empty
    assert "corridor (in 洛汝新型建材产业带 Luoyang–Ruzhou New Building Materials Belt (luo-ru)" in empty
    assert "excluded all 1 remaining parks" in empty
    page.goto(live_server.url + "/site?industry=castings&district=410324")
    assert "栾川县 Luanchuan County (410324)" in page.inner_text("#site-empty")
    page.goto(live_server.url + "/site?industry=steel")
    error = page.inner_text("#site-error")
    assert "参数有误" in error and "unknown industry 'steel'" in error
    page_log.assert_clean()


def test_within_km_says_which_parks_only_possibly_qualify(page, page_log, live_server):
    page.goto(live_server.url + "/site?industry=battery-materials&within_km=20&of=ruzhou-prefab-park")
    steps = page.inner_text("#site-constraints")
    assert "距汝州装配式建筑产业园 20 km 内" in steps and "only possibly" in steps
    texts = page.eval_on_selector_all("#site-ranking li .located", "els => els.map(e => e.textContent)")
    assert any("仅可能在距离内" in t for t in texts) and any("确定在距离内" in t for t in texts)
    options = page.eval_on_selector_all("#site-form select[name=min_status] option", "els => els.map(e => e.text)")
    assert "运营 · operating" in options
    page_log.assert_clean()


# -- the page's layout, the map's markers and legend, errors, list <-> map (issue 16) ---------------------------
def map_frame(page):
    """The site map's frame, once its markers are laid out."""
    page.frame_locator("#site-map").locator("body[data-site-ready=true]").wait_for()
    return page.locator("#site-map").element_handle().content_frame()


def box(page, selector: str) -> dict:
    return page.eval_on_selector(selector, "e => { const b = e.getBoundingClientRect(); "
                                           "return {left: b.left, top: b.top, right: b.right, bottom: b.bottom}; }")


def overlap(a: dict, b: dict) -> bool:
    return a["left"] < b["right"] - 0.5 and b["left"] < a["right"] - 0.5 and a["top"] < b["bottom"] - 0.5 \
        and b["top"] < a["bottom"] - 0.5


BADGES = """() => [...document.querySelectorAll('.site-rank')].map(e => {
  const b = e.getBoundingClientRect(); const x = (b.left + b.right) / 2, y = (b.top + b.bottom) / 2;
  const hit = document.elementFromPoint(x, y);
  return {id: e.dataset.id, text: e.textContent, left: b.left, top: b.top, right: b.right, bottom: b.bottom,
          shown: x >= 0 && y >= 0 && x <= innerWidth && y <= innerHeight, clickable: !!hit && e.contains(hit)};
})"""


def test_list_and_map_side_by_side_on_a_wide_screen(page, page_log, live_server):
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(live_server.url + "/site?industry=battery-materials")
    map_frame(page)
    ranking_box, map_box = box(page, "#site-ranking"), box(page, "#site-map")
    assert map_box["left"] >= ranking_box["right"]  # beside the list, not under it
    assert map_box["top"] < 800 and map_box["bottom"] - map_box["top"] > 450
    # the map stays in view while the list scrolls (sticky), with its explanation under it
    for y in (1500, 4000):
        page.evaluate(f"window.scrollTo(0, {y})")
        now = box(page, "#site-map")
        assert now["top"] >= 0 and now["bottom"] <= 800 and now["bottom"] - now["top"] > 450
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    page_log.assert_clean()


def test_on_a_phone_the_map_comes_before_the_list_and_nothing_overlaps(page, page_log, live_server):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url + "/site?industry=battery-materials")
    map_frame(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
    form, frame, ranking = box(page, "#site-form"), box(page, "#site-map"), box(page, "#site-ranking")
    # the weights and constraints fold away once there is a result, so the map is on the first screen
    assert not page.is_visible("#site-form input[name=w_theme]")
    assert frame["top"] < 844 and frame["top"] < ranking["top"]
    assert frame["right"] <= 390 and frame["bottom"] - frame["top"] >= 300
    assert not overlap(form, frame) and not overlap(frame, ranking) and not overlap(form, ranking)
    # the fields come back with one tap and still overlap nothing
    page.click("#site-form-toggle")
    assert page.is_visible("#site-form input[name=w_theme]")
    assert page.get_attribute("#site-form-toggle", "aria-expanded") == "true"
    form, frame = box(page, "#site-form"), box(page, "#site-map")
    assert not overlap(form, frame) and form["bottom"] <= frame["top"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page_log.assert_clean()


def test_parks_sharing_a_stand_in_point_are_all_visible_clickable_and_ties_marked(page, page_log, live_server):
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(live_server.url + "/site?industry=battery-materials")
    frame = map_frame(page)
    # five parks located only to the city share its stand-in point, and pairs share county seats
    badges = frame.evaluate(BADGES)
    assert len(badges) == 20 == len(ranking(page))
    for i, a in enumerate(badges):
        assert a["shown"] and a["clickable"], a["text"]
        for b in badges[i + 1:]:
            assert not overlap(a, b), (a["text"], b["text"])
    # tied parks are marked "5=" on the map, as in the list
    texts = {b["id"]: b["text"] for b in badges}
    assert texts["chanhe-dual-carbon-park"] == texts["luoyang-international-health-tech-park"] == "5="
    assert texts["huansheng-prefab-components-park"] == texts["zhongyuan-energy-saving-park"] == "15="
    assert texts["luoyang-new-energy-park"] == "1"
    assert page.inner_text("#site-ranking li:nth-child(6) .site-badge") == "5="
    # zoomed right in on the shared point, the five still stand apart, each with a line to the point
    frame.evaluate("SiteMap.map.setView([34.619, 112.454], 18, {animate: false})")
    frame.wait_for_function("() => document.body.dataset.siteLayout === '18'")
    city = ["xinqianglian-bearing-park", "jianxi-mianchi-enclave-park", "anhua-prefab-park",
            "huansheng-prefab-components-park", "zhongyuan-energy-saving-park"]
    near = [b for b in frame.evaluate(BADGES) if b["id"] in city]
    assert len(near) == 5 and all(b["shown"] and b["clickable"] for b in near)
    assert all(not overlap(a, b) for i, a in enumerate(near) for b in near[i + 1:])
    # each says it shares a stand-in point, not a site
    marker = frame.locator('.site-rank[data-id="anhua-prefab-park"]')
    marker.hover()
    tip = frame.locator(".leaflet-tooltip:not(.foliumtooltip)").inner_text()
    assert "共用同一替代位置" in tip and "share one stand-in point" in tip and "4 other" in tip
    marker.click()
    popup = frame.locator(".leaflet-popup-content").inner_text()
    assert "安华装配式建筑产业园" in popup and "not their actual sites" in popup
    frame.locator(".leaflet-popup-close-button").click()
    frame.locator('.site-rank[data-id="zhongyuan-energy-saving-park"]').click()
    assert "并列第 15" in frame.locator(".leaflet-popup-content").inner_text()
    page_log.assert_clean()


def test_the_suitability_surface_has_a_legend_and_an_explanation(page, page_log, live_server):
    page.goto(live_server.url + "/site?industry=battery-materials&top=5")
    frame = map_frame(page)
    help_text = page.inner_text("#site-surface-help")
    for words in ("0", "100", "中心间距 6 km", "评价的是地点而不是园区", "不含园区主题和园区状态",
                  "centres 6 km apart", "it scores places, not parks", "0–100"):
        assert words in help_text, words
    assert page.locator("#site-surface-help .site-scale-bar").count() == 1
    legend = frame.locator("#site-legend")
    if not frame.evaluate("() => document.getElementById('site-legend').open"):  # folded in a narrow frame
        legend.locator("summary").click()
    text = legend.inner_text()
    assert "6 km" in text and "不是园区的得分" in text and "not parks" in text and "并列 tied" in text
    # the colour scale (branca's, drawn by d3) sits in the legend, whole and readable
    scale = legend.locator(".legend svg#legend")
    assert "适宜性得分 suitability score (0–100)" in scale.text_content()
    assert scale.locator(".tick text").all_text_contents() == ["0", "25", "50", "75", "100"]
    scale_box, legend_box = scale.bounding_box(), legend.bounding_box()
    assert scale_box["width"] >= 200 and scale_box["x"] + scale_box["width"] <= legend_box["x"] + legend_box["width"]
    # the spacing asked for is the one explained; a surface left out (only park criteria weighted) says so
    page.goto(live_server.url + "/site?industry=battery-materials&top=5&spacing_km=10")
    assert "中心间距 10 km" in page.inner_text("#site-surface-help")
    page.goto(live_server.url + "/site?industry=battery-materials&top=5&weights=theme=1,corridor=0,chain=0,"
              "talent=0,anchor=0,status=1")
    map_frame(page)
    note = page.inner_text("#site-surface-help")
    assert "未绘制适宜性面" in note and "No suitability surface" in note
    page_log.assert_clean()


def test_a_bad_parameter_is_explained_in_the_page_in_both_languages(page, page_log, live_server):
    page.goto(live_server.url + "/site?industry=battery-materials&top=abc")
    error = page.inner_text("#site-error")
    assert "参数有误" in error and "“显示前”（top）须为整数（1 ≤ 值 ≤ 1000）" in error
    assert "Invalid request" in error and "expected a whole number" in error
    assert page.get_attribute("#site-form input[name=top]", "aria-invalid") == "true"
    assert page.is_visible("#site-form input[name=top]")  # the form stays open to fix it
    assert not page.inner_text("body").lstrip().startswith("{")  # a page, not raw JSON
    page.goto(live_server.url + "/site?industry=battery-materials&within_km=20")
    error = page.inner_text("#site-error")
    assert "请在“之内”中选择园区或产业带" in error and "within_km needs a feature (of)" in error
    page.goto(live_server.url + "/site?industry=battery-materials&weights=theme=-1")
    error = page.inner_text("#site-error")
    assert "准则“园区主题”的权重须为不小于 0 的数字" in error and "weight of theme must be a number >= 0" in error
    # fixing it from the form drops the bad value and ranks
    page.goto(live_server.url + "/site?industry=battery-materials&top=0")
    assert "须为整数" in page.inner_text("#site-error")
    page.fill("#site-form input[name=top]", "3")
    page.click("#site-form button[type=submit]")
    page.wait_for_selector("#site-ranking li")
    assert len(ranking(page)) == 3 and page.locator("#site-error").count() == 0
    # every status option reads in both languages
    options = page.eval_on_selector_all("#site-form select[name=min_status] option",
                                        "els => els.filter(e => e.value).map(e => e.text)")
    assert options and all(re.fullmatch(r"[\u4e00-\u9fff]+ · [a-z ]+", o) for o in options), options
    page_log.assert_clean()


def test_selecting_a_row_shows_the_park_on_the_map_and_a_marker_its_row(page, page_log, live_server):
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(live_server.url + "/site?industry=battery-materials")
    frame = map_frame(page)
    page.click("#site-ranking li:nth-child(3) .reason >> nth=0")
    third = ranking(page)[2]
    frame.wait_for_function(f"() => document.body.dataset.siteSelected === '{third}'")
    assert frame.eval_on_selector(".site-rank.selected", "e => e.dataset.id") == third
    assert "中航光电基础器件产业园" in frame.locator(".leaflet-popup-content").inner_text()
    assert page.get_attribute("#site-ranking li:nth-child(3)", "aria-current") == "true"
    # and back: a park clicked on the map selects (and scrolls to) its row
    frame.locator('.leaflet-popup-close-button').click()
    frame.locator('.site-rank[data-id="jinma-energy-base"]').click()
    row = page.locator('#site-ranking li[data-id="jinma-energy-base"]')
    page.wait_for_function("() => document.querySelector('#site-ranking li.selected')?.dataset.id === 'jinma-energy-base'")
    assert row.get_attribute("aria-current") == "true" and row.is_visible()
    assert page.evaluate("(() => { const b = document.querySelector('#site-ranking li.selected')"
                         ".getBoundingClientRect(); return b.top < innerHeight && b.bottom > 0; })()")
    assert page.locator("#site-ranking li.selected").count() == 1
    # the button of a row does the same
    page.click('#site-ranking li[data-id="luoyang-new-energy-park"] .site-show')
    frame.wait_for_function("() => document.body.dataset.siteSelected === 'luoyang-new-energy-park'")
    page_log.assert_clean()


HOSTILE_ZH = "${window.pwned=1}`<script>window.pwned=2</script>"
HOSTILE_EN = '\\`${window.pwned=3}<img src=x onerror="window.pwned=4">'


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory):
    """The app over a store in which the best park for battery materials has a name made to break out of HTML
    and of the JavaScript template literals folium writes tooltips and popups into."""
    from geo.build import build_store
    from geo.io import DEFAULT_SOURCES_DIR

    src = tmp_path_factory.mktemp("site-xss") / "sources"
    shutil.copytree(DEFAULT_SOURCES_DIR, src)
    path = src / "parks.csv"
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    row = next(r for r in rows if r["id"] == "luoyang-new-energy-park")
    row["name_zh"], row["name_en"] = HOSTILE_ZH, HOSTILE_EN
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    store = src.parent / "site-xss.gpkg"
    build_store(store, sources_dir=src)
    server = make_server("127.0.0.1", 0, create_app({"CORRIDORS_STORE": str(store)}), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_a_name_made_to_break_out_shows_as_text_on_the_site_page_and_map(page, page_log, hostile_server):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(hostile_server + "/site?industry=battery-materials&top=3")
    assert HOSTILE_ZH in page.inner_text("#site-ranking li:first-child")
    frame = map_frame(page)
    marker = frame.locator('.site-rank[data-id="luoyang-new-energy-park"]')
    marker.hover()
    tip = frame.locator(".leaflet-tooltip:not(.foliumtooltip)").inner_text()
    assert HOSTILE_ZH in tip and HOSTILE_EN in tip
    marker.click()
    popup = frame.locator(".leaflet-popup-content").inner_text()
    assert HOSTILE_ZH in popup and HOSTILE_EN in popup
    assert page.evaluate("window.pwned") is None and frame.evaluate("window.pwned") is None
    assert dialogs == []
    page_log.assert_clean()
