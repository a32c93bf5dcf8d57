"""The corridor pages in headless Chromium: standing against the 2021 target (named / in belt / possibly in belt,
kept apart), statuses in words and the SVG charts, drawn with JavaScript off and without a CSP violation on."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from tests.browser.conftest import LiveServer, PageLog
from tests.browser.test_csp import RECORD_VIOLATIONS, violations


@pytest.fixture()
def no_js_page(browser: Browser) -> Iterator[Page]:
    """A page with JavaScript off that may load nothing but 127.0.0.1."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, java_script_enabled=False)
    context.route("**/*", lambda route, request: route.continue_() if request.url.startswith("http://127.0.0.1")
                  else route.abort("blockedbyclient"))
    yield context.new_page()
    context.close()


def chart_box(page: Page, selector: str) -> dict[str, float]:
    svg = page.locator(f"{selector} svg.chart-svg")
    svg.wait_for()
    box = svg.bounding_box()
    assert box is not None
    return box


def test_a_corridor_page_shows_target_known_investment_statuses_and_charts(no_js_page: Page,
                                                                          live_server: LiveServer) -> None:
    page = no_js_page
    page.goto(live_server.url + "/corridors/luo-ru")
    standing = page.locator("table.standing")
    assert "40.0 亿元" in standing.locator("tr", has_text="2021 投资目标").inner_text()
    named = standing.locator("tr", has_text="规划点名项目的已知投资").inner_text()
    possible = standing.locator("tr", has_text="可能在带内项目的已知投资").inner_text()
    assert "未知 unknown" in named and "约 about 140 亿元" in possible  # side by side, never added
    statuses = page.locator("#projects ~ table").first.locator("tbody tr td:nth-child(3)").all_inner_texts()
    assert statuses and all(s in ("在建 under construction", "规划 planned", "运营 operating", "探索 exploratory",
                                  "未知 unknown") for s in statuses)
    box = chart_box(page, "#chart-investment")
    assert box["width"] > 300 and box["height"] > 150  # drawn by the server: no script ran
    assert page.locator("#chart-investment g.bar-group rect.bar-hollow").count() == 1  # 中州时代, possibly in the belt
    assert page.locator("#chart-investment .reference-mark").count() == 1  # the target
    assert "2021 年投资目标 40" in page.locator("#chart-investment").inner_text()
    box = chart_box(page, "#chart-status")
    assert box["width"] > 300
    words = page.locator("#chart-status .category .cat-label").all_text_contents()
    assert any("在建" in w and "under construction" in w for w in words)
    assert page.locator("#no-chain").is_visible()  # building materials: no battery-chain table of 0/11


def test_corridor_charts_run_clean_under_the_csp(page: Page, page_log: PageLog, live_server: LiveServer) -> None:
    page.add_init_script(RECORD_VIOLATIONS)
    page.goto(live_server.url + "/corridors")
    box = chart_box(page, "#chart-corridors")
    assert box["width"] > 300
    assert page.locator("#chart-corridors .reference-mark").count() == 4
    assert "未知 unknown" in page.locator("table.standing-all").inner_text()
    # the chart's bars say what they are on hover (<title> tooltips)
    tip = page.locator("#chart-corridors g.bar-group.unknown title").first.text_content()
    assert tip and tip.startswith("规划点名 named in the plan: 未知 unknown") and "0 of 4 projects with a figure" in tip
    tip = page.locator("#chart-corridors g.bar-group:not(.unknown):not(.empty) title").first.text_content()
    assert tip and "约 about 140 亿元" in tip and "1 of 7 projects with a figure" in tip
    assert violations(page) == []
    page.goto(live_server.url + "/data")
    for chart in ("#chart-status", "#chart-chain", "#chart-districts"):
        assert chart_box(page, chart)["width"] > 300, chart
    assert violations(page) == []
    page_log.assert_clean()
