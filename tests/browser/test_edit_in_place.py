"""Editing a record in place on the map (issue 16, "Edit in place") in headless Chromium: an editor opens a card's
edit button, changes fields and moves the point (pasted GCJ-02 coordinates converted by the server; dragging the
marker) and saves through the ledger; a 409 shows the current version and loads it; a 400 is shown next to its
field; viewers and anonymous users get no active edit button.

The server is the real one (two workers) over this module's own copy of the store, so the edits change nothing
that other browser tests read.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page

from geo import accounts, crs
from geo.store import GeoPackageStore
from tests.browser.conftest import PageLog
from tests.browser.test_map_ux import open_map, open_popup
from tests.serving import running_server

PASSWORD = "a long password"
PROJECT = "zhongzhou-shidai-phase-1"
VIEW = "/?lat=34.62&lon=112.64&z=11"
#: a point in 偃师区 as AMap (GCJ-02) gives it
GCJ = (112.7946, 34.7259)


@pytest.fixture(scope="module")
def edit_server(tmp_path_factory: pytest.TempPathFactory, store_path: Path) -> Iterator[str]:
    path = tmp_path_factory.mktemp("edit-browser") / "corridors.gpkg"
    shutil.copy(store_path, path)
    store = GeoPackageStore(path)
    accounts.add_user(store, "editor1", PASSWORD, "editor")
    accounts.add_user(store, "viewer1", PASSWORD, "viewer")
    with running_server(path, env={"SECRET_KEY": "edit-browser-test-" + "s" * 32, "READ_ACCESS": "public"}) as server:
        yield server.base_url


def log_in(page: Page, base: str, name: str) -> None:
    page.goto(base + "/login?next=/ledger")
    page.fill("#login-name", name)
    page.fill("#login-password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(base + "/ledger")


def open_editable_map(page: Page, base: str, query: str = VIEW) -> None:
    open_map(page, base + query)
    page.wait_for_selector("#cm-edit[data-started=true]", state="attached")


def open_editor(page: Page, feature_id: str) -> None:
    open_popup(page, feature_id)
    page.click(f".cm-popup button.cm-edit[data-edit-id='{feature_id}']")
    page.wait_for_selector("#cm-edit[data-ready=true]")


def feature(page: Page, feature_id: str) -> dict:
    return page.evaluate("async (id) => (await fetch('/api/features/' + id, {cache: 'no-store'})).json()", feature_id)


def marker_latlng(page: Page) -> tuple[float, float]:
    return tuple(page.evaluate("""() => { let ll = null; CorridorsMap.map.eachLayer(l => {
        if (l.options && l.options.icon && l.options.icon.options.className === 'cm-edit-marker') ll = l.getLatLng(); });
        return [ll.lng, ll.lat]; }"""))


def expected_failures(page_log: PageLog, status: int) -> None:
    """Drop the failed responses of this status (and the browser's console line for each) the test asked for."""
    page_log.failed_responses = [r for r in page_log.failed_responses if not r.startswith(f"{status} ")]
    page_log.console_errors = [e for e in page_log.console_errors
                               if not e.startswith(f"Failed to load resource: the server responded with a status of {status}")]


def saved(page: Page) -> str:
    page.wait_for_selector("#cm-edit-status[data-reloaded=true]")
    page.wait_for_function("() => document.body.dataset.loaded === 'true'")
    return page.get_attribute("#cm-edit-status", "data-change-id")


def test_anonymous_and_viewers_get_no_active_edit_button(page, page_log: PageLog, edit_server: str) -> None:
    open_editable_map(page, edit_server)
    open_popup(page, PROJECT)
    assert page.is_disabled(".cm-popup button.cm-edit")
    assert page.evaluate("document.body.dataset.editor") == "false"
    assert not page.is_visible("#cm-edit")
    log_in(page, edit_server, "viewer1")
    open_editable_map(page, edit_server)
    open_popup(page, PROJECT)
    assert page.is_disabled(".cm-popup button.cm-edit")
    assert page.evaluate("document.body.dataset.editor") == "false"
    page_log.assert_clean()


def test_an_editor_edits_fields_and_moves_the_point_by_pasted_gcj02(page, page_log: PageLog, edit_server: str) -> None:
    log_in(page, edit_server, "editor1")
    open_editable_map(page, edit_server)
    assert page.evaluate("document.body.dataset.editor") == "true"
    open_editor(page, PROJECT)
    # the record's editable fields, filled; the status as a bilingual choice; a marker at its point
    assert page.input_value("#cm-edit-f-name_zh") == "中州时代生产基地一期"
    assert page.input_value("#cm-edit-f-status") == "under_construction"
    assert page.input_value("#cm-edit-f-investment_cny_100m") == "140"
    assert page.input_value("#cm-edit-f-location_precision") == "district"
    assert "在建" in page.inner_text("#cm-edit-f-status") and "under construction" in page.inner_text("#cm-edit-f-status")
    assert page.locator(".cm-edit-row[data-field=status_note_en]").is_visible()
    assert marker_latlng(page) == pytest.approx((112.64, 34.615), abs=1e-9)
    assert "中州时代生产基地一期" in page.inner_text("#cm-edit-name")

    name_en = "Zhongzhou Shidai base I <img src=x id=injected>"
    page.fill("#cm-edit-f-name_en", name_en)
    page.select_option("#cm-edit-f-status", "operating")
    page.fill("#cm-edit-f-investment_cny_100m", "150.5")
    page.select_option("#cm-edit-crs", "gcj02")
    page.fill("#cm-edit-paste", f"{GCJ[0]}, {GCJ[1]}")
    page.click("#cm-edit-place")
    page.wait_for_selector("#cm-edit[data-moved=true]")
    want = tuple(float(v) for v in crs.to_wgs84(*GCJ, "gcj02"))
    assert marker_latlng(page) == pytest.approx(want, abs=1e-6)  # converted by the server, not the browser
    assert any("/api/convert?" in u and "crs=gcj02" in u for u in page_log.requests)
    assert page.input_value("#cm-edit-f-location_precision") == "site"  # a moved point is a site unless said
    page.click("#cm-edit-save")
    change = saved(page)
    assert change.startswith("c")
    assert not page.is_visible("#cm-edit")
    status = page.inner_text("#cm-edit-status")
    assert "已保存" in status and "Saved" in status and "reloaded" in status

    doc = feature(page, PROJECT)
    p = doc["properties"]
    assert p["name_en"] == name_en and p["status"] == "operating" and p["investment_cny_100m"] == 150.5
    assert p["name_zh"] == "中州时代生产基地一期" and p["location_precision"] == "site"
    assert doc["geometry"]["coordinates"] == pytest.approx(list(want), abs=1e-6)
    assert p["source_id"] == f"edit-{change}"
    history = page.evaluate("async (c) => (await (await fetch('/api/history?change=' + c)).json()).changes", change)
    assert [(h["record_id"], h["operation"], h["kind"]) for h in history] == [(PROJECT, "update", "edit")]
    # the map shows it there now; the name is text wherever it is shown
    open_editor(page, PROJECT)
    assert name_en in page.inner_text("#cm-edit-name")
    assert page.locator("#injected").count() == 0
    page.click("#cm-edit-cancel")
    assert not page.is_visible("#cm-edit")
    page_log.assert_clean()


def test_an_editor_drags_the_marker(page, page_log: PageLog, edit_server: str) -> None:
    log_in(page, edit_server, "editor1")
    open_editable_map(page, edit_server, "/?lat=34.70&lon=112.45&z=12")
    target = "luoyang-petrochemical-styrene"
    open_editor(page, target)
    start = marker_latlng(page)
    box = page.locator(".cm-edit-marker").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    for i in range(1, 11):
        page.mouse.move(x + 6 * i, y + 4 * i)
    page.mouse.up()
    page.wait_for_selector("#cm-edit[data-moved=true]")
    end = marker_latlng(page)
    assert end[0] > start[0] and end[1] < start[1]  # east and south, as dragged
    page.click("#cm-edit-save")
    saved(page)
    coords = feature(page, target)["geometry"]["coordinates"]
    assert coords == pytest.approx(list(end), abs=1e-6)
    assert page.locator(".cm-edit-marker").count() == 0  # gone with the dialog
    page_log.assert_clean()


def test_a_conflict_shows_the_current_version_and_loads_it(page, page_log: PageLog, edit_server: str) -> None:
    log_in(page, edit_server, "editor1")
    open_editable_map(page, edit_server)
    target = "zhongzhou-shidai-phase-2"
    open_editor(page, target)
    # meanwhile someone else renames it (the same API, another version)
    page.evaluate("""async (id) => {
        const me = await (await fetch('/api/me')).json();
        const got = await fetch('/api/features/' + id, {cache: 'no-store'});
        const r = await fetch('/api/features/' + id, {method: 'PATCH', headers: {'Content-Type': 'application/json',
            'If-Match': got.headers.get('ETag'), 'X-CSRFToken': me.csrf_token},
            body: JSON.stringify({properties: {name_zh: '他人改过的名称', name_en: 'Renamed by someone else'}})});
        if (!r.ok) throw new Error(await r.text()); }""", target)
    page.fill("#cm-edit-f-status_note_en", "my note")
    page.click("#cm-edit-save")
    page.wait_for_selector("#cm-edit[data-conflict=true]")
    text = page.inner_text("#cm-edit-conflict")
    assert "他人改过的名称" in text and "Renamed by someone else" in text  # the current version, both languages
    assert "未保存" in text and "nothing was saved" in text
    assert page.locator("#cm-edit-diff, .cm-edit-diff tr[data-field=status_note_en]").count() == 1
    assert page.is_visible("#cm-edit")
    assert feature(page, target)["properties"]["status_note_en"] != "my note"  # nothing written
    page.click("#cm-edit-reload")
    assert page.input_value("#cm-edit-f-name_zh") == "他人改过的名称"
    assert not page.is_visible("#cm-edit-conflict")
    page.fill("#cm-edit-f-status_note_en", "my note")
    page.click("#cm-edit-save")
    saved(page)
    p = feature(page, target)["properties"]
    assert p["status_note_en"] == "my note" and p["name_zh"] == "他人改过的名称"  # both edits kept
    expected_failures(page_log, 409)  # the conflict
    page_log.assert_clean()


def test_a_bad_value_is_shown_next_to_its_field(page, page_log: PageLog, edit_server: str) -> None:
    log_in(page, edit_server, "editor1")
    open_editable_map(page, edit_server)
    target = "zhongzhou-shidai-phase-1-line-1"
    open_editor(page, target)
    before = feature(page, target)
    page.fill("#cm-edit-f-investment_cny_100m", "lots")
    page.click("#cm-edit-save")
    msg = page.locator("[data-error-for=investment_cny_100m]")
    msg.wait_for()
    assert "investment_cny_100m" in msg.inner_text()
    assert page.get_attribute("#cm-edit-f-investment_cny_100m", "aria-invalid") == "true"
    assert page.is_visible("#cm-edit")
    page.fill("#cm-edit-f-investment_cny_100m", "-3")
    page.click("#cm-edit-save")
    page.wait_for_function("() => document.querySelector('[data-error-for=investment_cny_100m]').textContent.includes('-3')")
    # pasted coordinates outside the area: the server's message at the position
    page.fill("#cm-edit-f-investment_cny_100m", "")
    page.select_option("#cm-edit-crs", "bd09")
    page.fill("#cm-edit-paste", "120.5, 30.2")
    page.click("#cm-edit-place")
    geo_msg = page.locator("[data-error-for=geometry]")
    geo_msg.wait_for()
    assert "outside" in geo_msg.inner_text()
    page.fill("#cm-edit-paste", "not a place")
    page.click("#cm-edit-place")
    page.wait_for_function("() => document.querySelector('[data-error-for=geometry]').textContent.includes('112.7946')")
    assert feature(page, target) == before  # nothing written
    expected_failures(page_log, 400)  # the bad values
    page_log.assert_clean()
