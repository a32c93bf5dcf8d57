"""The map's time slider (issue 16, "Time") in headless Chromium: from the ledger's first day to today; moving it
shows the map, the counts, the buffer query and the corridor standing as the ledger stood that day and puts the day
in the permalink; a permalink with as_of opens with the slider on that day; "now" returns to the latest data."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import Page

from tests.browser.test_map_ux import api_count, counts, open_map

FIRST_DAY = date(2021, 7, 23)  # the ledger's first day: the earliest valid_from of its seed
PAST = date(2022, 1, 1)  # between the first article (2021-07-23) and the later ones (2024-09-27 …)


def today_china() -> date:
    return datetime.now(timezone(timedelta(hours=8))).date()


def open_timeline(page: Page, url: str) -> None:
    open_map(page, url)
    page.wait_for_selector("#cm-timeline[data-ready=true]")
    page.wait_for_selector("#cm-timeline-standing[data-day]")
    page.wait_for_function(f"() => document.querySelector('#cm-timeline-first').textContent === '{FIRST_DAY}'")


def slide_to(page: Page, day: date | None) -> None:
    """Move the slider as a dragging hand does: a burst of input events, the last on ``day``, then change."""
    page.evaluate("""(target) => { const r = document.querySelector('#cm-timeline-range');
        const first = Date.parse(document.querySelector('#cm-timeline-first').textContent + 'T00:00:00Z');
        const to = target ? Math.round((Date.parse(target + 'T00:00:00Z') - first) / 86400000) : +r.max;
        for (const v of [+r.value - 3, Math.floor((+r.value + to) / 2), to + 5, to]) {
            r.value = String(Math.max(0, Math.min(+r.max, v))); r.dispatchEvent(new Event('input', {bubbles: true})); }
        }""", None if day is None else day.isoformat())


def wait_applied(page: Page, day: date | None) -> None:
    want = "" if day is None else day.isoformat()
    page.wait_for_function(f"""() => {{ const t = document.querySelector('#cm-timeline');
        return t.dataset.applied === 'true' && document.body.dataset.loaded === 'true'
            && (new URLSearchParams(location.search).get('as_of') || '') === '{want}'
            && document.querySelector('#cm-timeline-standing').dataset.day === '{want}'; }}""", timeout=20_000)


def test_the_slider_spans_the_ledger_and_moves_the_map_counts_query_and_standing(page, page_log, live_server):
    url = live_server.url + "/?lat=34.62&lon=112.6&z=10&qlon=112.64&qlat=34.615&qr=10"
    open_timeline(page, url)
    page.wait_for_selector("#cm-results li")
    # from the ledger's first day to today (China time); at first on "now", whose button is off
    rng = page.evaluate("() => { const r = document.querySelector('#cm-timeline-range'); return [+r.min, +r.max, +r.value]; }")
    span = (today_china() - FIRST_DAY).days
    assert rng == [0, span, span]
    assert "现在" in page.inner_text("#cm-timeline-day") and "now" in page.inner_text("#cm-timeline-day")
    assert page.is_disabled("#cm-timeline-now") and page.is_enabled("#cm-timeline-range")
    now_counts = counts(page)
    standing_now = page.locator("#cm-timeline-standing tbody tr").count()
    assert standing_now == 4  # the four corridors, in both languages
    assert "洛济焦" in page.inner_text("#cm-timeline-standing") and "Luoyang" in page.inner_text("#cm-timeline-standing")

    # drag to a past day: one setAsOf (debounced) for the day the hand stopped on
    before = len(page_log.requests)
    slide_to(page, PAST)
    wait_applied(page, PAST)
    asked = [u for u in page_log.requests[before:] if "as_of=" in u]
    assert page.inner_text("#cm-timeline-day") == PAST.isoformat()
    for layer in ("parks", "projects", "institutions"):
        assert counts(page)[layer] == api_count(page, layer, f"as_of={PAST}")
    assert counts(page)["projects"] < now_counts["projects"]
    assert PAST.isoformat() in page.inner_text("#cm-as-of")
    assert {parse_qs(urlsplit(u).query)["as_of"][0] for u in asked} == {PAST.isoformat()}  # no day passed over
    assert sum("/api/layers/projects" in u for u in asked) == 1
    assert any("/api/near" in u for u in asked)  # the buffer query follows
    assert any("/api/corridors" in u for u in asked)  # and the corridor standing
    params = parse_qs(urlsplit(page.url).query)
    assert params["as_of"] == [PAST.isoformat()] and params["qr"] == ["10"]  # the other keys are kept
    assert page.is_enabled("#cm-timeline-now")

    # the permalink opens with the slider on that day
    page.goto(page.url)
    open_timeline(page, page.url)
    wait_applied(page, PAST)
    assert page.inner_text("#cm-timeline-day") == PAST.isoformat()
    assert page.evaluate("+document.querySelector('#cm-timeline-range').value") == (PAST - FIRST_DAY).days
    assert counts(page)["projects"] == api_count(page, "projects", f"as_of={PAST}")

    # one day on with the button, then by keyboard back; "now" returns to the latest data and drops as_of
    page.click("#cm-timeline-next")
    wait_applied(page, PAST + timedelta(days=1))
    page.focus("#cm-timeline-range")
    page.keyboard.press("ArrowLeft")
    wait_applied(page, PAST)
    page.click("#cm-timeline-now")
    wait_applied(page, None)
    assert counts(page) == now_counts
    assert "as_of" not in parse_qs(urlsplit(page.url).query)
    assert page.is_disabled("#cm-timeline-now")
    page_log.assert_clean()


def test_the_slider_is_bilingual_and_follows_the_language_switch(page, page_log, live_server):
    open_timeline(page, live_server.url + f"/?lang=en&as_of={PAST}")
    wait_applied(page, PAST)
    assert page.is_visible("#cm-timeline h2 .en") and not page.is_visible("#cm-timeline h2 .zh")
    assert "Corridor standing" in page.inner_text("#cm-timeline-standing")
    assert "产业带进展" not in page.inner_text("#cm-timeline-standing")
    page.click("#cm-lang [data-lang=zh]")
    assert page.is_visible("#cm-timeline h2 .zh") and not page.is_visible("#cm-timeline h2 .en")
    assert "产业带进展" in page.inner_text("#cm-timeline-standing")
    page_log.assert_clean()


def test_axes_and_belts_follow_the_day_and_come_back(page, page_log, live_server):
    """Before the ledger held any corridor (2021-01-01) no axis or belt is drawn, nor listed in the legend."""
    open_map(page, live_server.url + "/?lat=34.62&lon=112.6&z=9")
    drawn = """() => [document.querySelectorAll('.leaflet-cm-axes-pane path').length,
        document.querySelectorAll('.leaflet-cm-belts-pane path').length,
        document.querySelectorAll('#cm-legend li[data-corridor]:not([hidden])').length]"""
    before = page.evaluate(drawn)
    assert before == [4, 4, 4]
    page.evaluate("() => window.CorridorsMap.setAsOf('2021-01-01')")
    page.wait_for_function(f"() => ({drawn})()[0] === 0")
    assert page.evaluate(drawn) == [0, 0, 0]
    page.evaluate(f"() => window.CorridorsMap.setAsOf('{PAST.isoformat()}')")
    page.wait_for_function(f"() => ({drawn})()[0] === 4")
    assert page.evaluate(drawn) == before
    page_log.assert_clean()
