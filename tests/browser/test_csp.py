"""The Content-Security-Policy in headless Chromium: the app's pages run under it without a single violation,
and it is really enforced (an inline event handler is refused)."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.browser.conftest import LiveServer, PageLog

#: Runs in every document before its own scripts: records CSP violations (and ignores none).
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(`${e.effectiveDirective} blocked ${e.blockedURI || 'inline'} at ${e.sourceFile}:${e.lineNumber}`);
});
"""


def violations(page: Page) -> list[str]:
    return page.evaluate("window.__cspViolations")


def test_main_map_runs_under_the_csp(page: Page, page_log: PageLog, live_server: LiveServer) -> None:
    page.add_init_script(RECORD_VIOLATIONS)
    resp = page.goto(live_server.url + "/?qlon=112.45&qlat=34.62&qr=10")
    csp = resp.headers["content-security-policy"]
    assert "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";", 1)[0]
    page.wait_for_function("() => document.body.dataset.loaded === 'true'", timeout=20_000)
    page.wait_for_selector("#cm-hit-count")  # the buffer query from the permalink ran
    # a popup: built by map.js from the API, its button wired with addEventListener
    page.evaluate("""() => { const g = CorridorMap.clusters.parks; let first = null;
        g.eachLayer(m => { if (!first) first = m; }); g.zoomToShowLayer(first, () => first.openPopup()); }""")
    page.wait_for_selector(".cm-popup .cm-query-here")
    page.click(".cm-popup .cm-query-here")
    page.wait_for_function("() => location.search.includes('qfeature=')")
    assert violations(page) == []
    page_log.assert_clean()


def test_framed_maps_run_under_the_csp(page: Page, page_log: PageLog, live_server: LiveServer) -> None:
    """The site and corridor pages embed their maps in an iframe: framing by the app itself is allowed."""
    page.add_init_script(RECORD_VIOLATIONS)
    page.goto(live_server.url + "/site?industry=battery-materials&top=5")
    site_map = page.frame_locator("#site-map")
    site_map.locator(".site-rank").first.wait_for()
    site_map.locator(".legend svg#legend").wait_for(state="attached")  # branca's colour legend, drawn by d3
    assert {f.url.split("?")[0]: f.evaluate("window.__cspViolations") for f in page.frames} == {
        live_server.url + "/site": [], live_server.url + "/site/map": []}
    page.goto(live_server.url + "/corridors/luo-ru")
    page.frame_locator("iframe.map").locator(".leaflet-container").wait_for()
    assert {f.url.split("?")[0]: f.evaluate("window.__cspViolations") for f in page.frames} == {
        live_server.url + "/corridors/luo-ru": [], live_server.url + "/corridors/luo-ru/map": []}
    page_log.assert_clean()


def test_the_policy_is_enforced(page: Page, live_server: LiveServer) -> None:
    """An inline handler is refused and reported, so the clean runs above are not vacuous."""
    page.add_init_script(RECORD_VIOLATIONS)
    url = live_server.add_page("inline-handler", lambda: (
        "<!doctype html><title>csp</title><script>window.hashed = true;</script>"
        "<button id=b onclick=\"window.clicked = true\">b</button>"))
    page.goto(url)
    assert page.evaluate("window.hashed") is True  # the page's own inline script runs (its hash is listed)
    page.click("#b")
    page.wait_for_function("() => window.__cspViolations.length > 0")
    assert page.evaluate("window.clicked") is None
    assert violations(page)[0].startswith("script-src-attr blocked inline")
