"""The export dialog in headless Chromium: on the map page zoomed to 伊滨区 it previews and downloads the view (not
the whole metro area); on a corridor page and the site page it offers PNG, SVG and PDF; errors are shown, not
thrown; everything runs under the CSP."""

from __future__ import annotations

import io
from urllib.parse import parse_qs, urlsplit

from PIL import Image
from playwright.sync_api import Page

from tests.browser.conftest import LiveServer, PageLog
from tests.browser.test_csp import RECORD_VIOLATIONS

#: The map page zoomed to 伊滨区 (Luoyang's Yibin district, east of the city centre), as its permalink says.
YIBIN = "/?lat=34.615&lon=112.64&z=12"


def open_map(page: Page, url: str) -> None:
    page.add_init_script(RECORD_VIOLATIONS)
    page.goto(url)
    page.wait_for_function("() => document.body.dataset.loaded === 'true'", timeout=20_000)


def wait_preview(page: Page) -> None:
    page.wait_for_function("() => ['ready', 'error'].includes(document.getElementById('ex-dialog').dataset.preview)",
                           timeout=30_000)


def box(text: str) -> tuple[float, float, float, float]:
    west, south, east, north = (float(v) for v in text.split(" ")[0].split(","))
    return west, south, east, north


def test_the_map_page_exports_its_view(page: Page, page_log: PageLog, live_server: LiveServer, tmp_path) -> None:
    open_map(page, live_server.url + YIBIN)
    view = page.evaluate("""() => { const b = CorridorMap.map.getBounds();
        return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]; }""")
    assert view[0] < 112.64 < view[2] and view[1] < 34.615 < view[3] and view[2] - view[0] < 0.3  # 伊滨区
    # the button sits with the export links; the dialog opens on the current view, PNG, A4 landscape, 300 dpi
    assert page.locator("#cm-export #ex-open").count() == 1
    page.click("#ex-open")
    assert page.locator("#ex-dialog").evaluate("d => d.open")
    assert page.locator("#ex-form input[name=extent][value=view]").is_checked()
    assert "112.5" in page.inner_text("#ex-view-note") and "WGS84" in page.inner_text("#ex-view-note")
    wait_preview(page)
    assert page.get_attribute("#ex-dialog", "data-preview") == "ready", page.inner_text("#ex-error")
    # the preview is a PNG of the view: its extent holds the view and is of its size, not the metro area's
    shown = box(page.get_attribute("#ex-preview-img", "data-extent"))
    assert shown[0] <= view[0] + 1e-4 and shown[1] <= view[1] + 1e-4 and shown[2] >= view[2] - 1e-4 \
        and shown[3] >= view[3] - 1e-4
    assert (shown[2] - shown[0]) < 2 * (view[2] - view[0]) and (shown[3] - shown[1]) < 2 * (view[3] - view[1])
    assert page.evaluate("() => document.getElementById('ex-preview-img').naturalWidth") == 584  # A4 at 50 dpi
    preview_query = parse_qs(urlsplit(page.get_attribute("#ex-preview-img", "data-url")).query)
    assert preview_query["dpi"] == ["50"] and preview_query["size"] == ["A4-landscape"] and "bbox" in preview_query
    assert "视图内 in view" in page.inner_text("#ex-status") or "scale" in page.inner_text("#ex-status")

    # options: a title, 100 dpi; then the download is the PNG of the same view
    page.fill("#ex-form input[name=title]", "伊滨区 Yibin")
    page.select_option("#ex-form select[name=dpi]", "100")
    href = page.get_attribute("#ex-download", "href")
    query = parse_qs(urlsplit(href).query)
    assert href.startswith("/export/map.png?") and query["dpi"] == ["100"] and query["title"] == ["伊滨区 Yibin"]
    assert query["download"] == ["1"] and query["lat"] == ["34.61500"] and "bbox" in query
    with page.expect_download(timeout=60_000) as got:
        page.click("#ex-download")
    path = tmp_path / "map.png"
    got.value.save_as(path)
    img = Image.open(io.BytesIO(path.read_bytes()))
    assert img.format == "PNG" and img.size == (1169, 826)  # A4 landscape at 100 dpi
    drawn = box(img.text["Extent"])
    assert drawn[0] <= view[0] + 1e-4 and drawn[1] <= view[1] + 1e-4 and drawn[2] >= view[2] - 1e-4 \
        and drawn[3] >= view[3] - 1e-4
    assert (drawn[2] - drawn[0]) < 2 * (view[2] - view[0]) and (drawn[3] - drawn[1]) < 2 * (view[3] - view[1])
    assert img.text["Title"] == "伊滨区 Yibin"
    # the whole area is far larger: the export followed the view
    whole = page.evaluate("""async () => (await fetch('/export/map.png?dpi=50')).headers.get('X-Map-Extent')""")
    assert box(whole)[2] - box(whole)[0] > 5 * (drawn[2] - drawn[0])
    page.click("#ex-dialog footer .ex-close")
    assert not page.locator("#ex-dialog").evaluate("d => d.open")
    assert page.evaluate("window.__cspViolations") == []
    page_log.assert_clean()


def test_the_map_pages_links_open_the_dialog_and_whole_area_is_an_option(page: Page, page_log: PageLog,
                                                                         live_server: LiveServer) -> None:
    open_map(page, live_server.url + YIBIN)
    page.click("#cm-export a[data-export-base='/export/map.pdf']")
    assert page.locator("#ex-dialog").evaluate("d => d.open")
    assert page.locator("#ex-form input[name=format][value=pdf]").is_checked()
    wait_preview(page)
    page.check("#ex-form input[name=extent][value=auto]")
    page.check("#ex-form input[name=orientation][value=portrait]")
    page.wait_for_function("() => document.getElementById('ex-preview-img').dataset.url.includes('A4-portrait')",
                           timeout=10_000)
    wait_preview(page)
    assert page.evaluate("() => document.getElementById('ex-preview-img').naturalHeight") == 584  # portrait
    href = page.get_attribute("#ex-download", "href")
    query = parse_qs(urlsplit(href).query)
    assert href.startswith("/export/map.pdf?") and "bbox" not in query and "extent" not in query
    resp = page.request.get(live_server.url + href)
    assert resp.status == 200 and resp.headers["content-type"] == "application/pdf"
    assert page.evaluate("window.__cspViolations") == []
    page_log.assert_clean()


def test_a_bad_option_is_shown_in_the_dialog(page: Page, page_log: PageLog, live_server: LiveServer) -> None:
    open_map(page, live_server.url + YIBIN)
    page.click("#ex-open")
    wait_preview(page)
    page.evaluate("""() => { const t = document.querySelector('#ex-form input[name=title]');
        t.value = 'a\\u0001b'; t.dispatchEvent(new Event('input', {bubbles: true})); }""")
    page.wait_for_function("() => document.getElementById('ex-dialog').dataset.preview === 'error'", timeout=10_000)
    assert "title" in page.inner_text("#ex-error")
    page_log.failed_responses.clear()  # the 400 was asked for
    assert page.evaluate("window.__cspViolations") == []


def test_a_corridor_page_exports_its_map_view(page: Page, page_log: PageLog, live_server: LiveServer) -> None:
    page.add_init_script(RECORD_VIOLATIONS)
    page.goto(live_server.url + "/corridors/luo-gong")
    page.frame_locator("iframe.map").locator(".leaflet-container").wait_for()
    page.wait_for_function("""() => { const f = document.querySelector('iframe.map').contentWindow;
        return f.document.body.dataset.loaded === 'true'; }""", timeout=20_000)
    page.click("a[href='/export/map.svg?corridor=luo-gong']")
    assert page.locator("#ex-form input[name=format][value=svg]").is_checked()
    wait_preview(page)
    assert page.get_attribute("#ex-dialog", "data-preview") == "ready", page.inner_text("#ex-error")
    href = page.get_attribute("#ex-download", "href")
    query = parse_qs(urlsplit(href).query)
    assert href.startswith("/export/map.svg?") and query["corridor"] == ["luo-gong"] and "bbox" in query
    resp = page.request.get(live_server.url + href)
    assert resp.status == 200 and resp.headers["content-type"].startswith("image/svg+xml")
    assert resp.headers["content-disposition"].startswith("attachment;")
    assert {f.url.split("?")[0]: f.evaluate("window.__cspViolations") for f in page.frames} == {
        live_server.url + "/corridors/luo-gong": [], live_server.url + "/corridors/luo-gong/map": []}
    page_log.assert_clean()


def test_the_site_page_gets_svg_too(page: Page, page_log: PageLog, live_server: LiveServer) -> None:
    page.add_init_script(RECORD_VIOLATIONS)
    page.goto(live_server.url + "/site?industry=battery-materials&top=5")
    page.frame_locator("#site-map").locator(".site-rank").first.wait_for()
    svg = page.locator("a.ex-added")
    assert svg.count() == 1 and svg.inner_text() == "SVG"
    svg.click()
    assert page.locator("#ex-form input[name=format][value=svg]").is_checked()
    wait_preview(page)
    assert page.get_attribute("#ex-dialog", "data-preview") == "ready", page.inner_text("#ex-error")
    href = page.get_attribute("#ex-download", "href")
    query = parse_qs(urlsplit(href).query)
    assert query["industry"] == ["battery-materials"] and query["top"] == ["5"]
    resp = page.request.get(live_server.url + href)
    assert resp.status == 200 and resp.headers["content-type"].startswith("image/svg+xml")
    assert "选址排序" in resp.text()
    # without a ranking there is nothing to export: no button
    page.goto(live_server.url + "/site")
    assert page.locator("#ex-open").is_hidden()
    assert page.evaluate("window.__cspViolations") == []
    page_log.assert_clean()
