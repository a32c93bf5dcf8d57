"""The site-selection page in headless Chromium: form, ranking with reasons, map of scores, permalink."""

from __future__ import annotations


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
    for criterion in ("theme", "corridor", "chain", "anchor", "status"):
        page.fill(f"#site-form input[name=w_{criterion}]", "0")
    page.click("#site-form button[type=submit]")
    page.wait_for_url("**weights=theme%3D0**")
    after = ranking(page)
    assert after[0] != before[0]
    page_log.assert_clean()


def test_a_constraint_that_excludes_everything_is_explained(page, page_log, live_server):
    page.goto(live_server.url + "/site?industry=castings&district=410327&corridor=luo-ru")
    assert "corridor (in luo-ru) excluded all 1 remaining parks" in page.inner_text("#site-empty")
    page.goto(live_server.url + "/site?industry=steel")
    assert "unknown industry 'steel'" in page.inner_text("#site-error")
    page_log.assert_clean()
