"""The site-selection page in headless Chromium: form, ranking with reasons, expected scores with their range and
ties, map of scores, permalink."""

from __future__ import annotations

import re


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
