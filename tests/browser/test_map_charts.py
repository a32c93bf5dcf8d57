"""The map panel's chart of the projects shown (/charts/*.svg): it follows the filters and the day, not the view."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from tests.browser.test_map_ux import open_map


def _chart(page) -> dict:
    return page.evaluate("""() => { const img = document.querySelector('#cm-chart-status');
        return {src: img.getAttribute('src'), loaded: img.complete && img.naturalWidth > 0, width: img.naturalWidth,
                links: [...document.querySelectorAll('#cm-charts a[data-chart-base]')].map(a => a.getAttribute('href'))}; }""")


def test_the_panel_chart_follows_filters_and_day(page, page_log, live_server):
    open_map(page, live_server.url + "/?lat=34.62&lon=112.6&z=9&status=planned")
    page.click("#cm-charts summary")
    page.wait_for_function("() => { const i = document.querySelector('#cm-chart-status'); "
                           "return i.complete && i.naturalWidth > 0; }")
    chart = _chart(page)
    assert chart["loaded"] and chart["width"] >= 400
    assert parse_qs(urlsplit(chart["src"]).query) == {"status": ["planned"]}  # filters only: no view, no layers
    assert len(chart["links"]) == 4 and all("status=planned" in h for h in chart["links"])
    page.evaluate("() => CorridorMap.map.panBy([200, 0], {animate: false})")
    assert _chart(page)["src"] == chart["src"]  # panning asks for no new chart
    page.evaluate("() => window.CorridorsMap.setAsOf('2022-01-01')")
    page.wait_for_function("() => document.querySelector('#cm-chart-status').getAttribute('src').includes('as_of=2022-01-01')")
    page.wait_for_function("() => { const i = document.querySelector('#cm-chart-status'); "
                           "return i.complete && i.naturalWidth > 0; }")
    svg = page.evaluate("async () => (await fetch(document.querySelector('#cm-chart-status').src)).text()")
    assert svg.startswith("<?xml") and "规划" in svg
    page_log.assert_clean()
