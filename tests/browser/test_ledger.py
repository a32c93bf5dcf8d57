"""The ledger page in headless Chromium: an editor logs in, previews an office's XLSX (GCJ-02, two bad rows),
commits the valid rows and finds the new projects on the map at their WGS84 positions; a name from the file
is shown as text.

The server is the real one (``run.py serve``, two workers, as ``make serve`` starts it) over a private copy
of the store, so the import changes nothing that other browser tests read.
"""

from __future__ import annotations

import io
import math
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import xlsxwriter
from playwright.sync_api import Page

from geo import accounts, crs
from geo.store import GeoPackageStore
from tests.browser.conftest import PageLog
from tests.serving import running_server

PASSWORD = "a long password"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADERS = ["项目名称", "区县", "状态", "总投资(万元)", "经度", "纬度"]
SCRIPT_NAME = "<script>alert(1)</script>"
#: An office's list: Chinese headers, 万元, GCJ-02 coordinates (an AMap picker); rows 4 and 6 (as Excel numbers
#: them, the header being row 1) are bad.
ROWS = [
    ["偃师台账测试储能项目", "偃师区", "在建", 250000, 112.7946, 34.7259],
    [SCRIPT_NAME, "孟津区", "规划", 1000, 112.45, 34.80],
    ["状态不明的测试项目", "偃师区", "不知道", 100, 112.70, 34.70],
    ["洛龙台账测试装备项目", "洛龙区", "运营", 50000, 112.46, 34.62],
    ["经度写错的测试项目", "偃师区", "在建", 100, "abc", 34.70],
]
GOOD = {r[0]: (r[4], r[5]) for r in ROWS if r[0] not in ("状态不明的测试项目", "经度写错的测试项目")}


def office_xlsx() -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("项目")
    for i, row in enumerate([HEADERS, *ROWS]):
        for j, value in enumerate(row):
            sheet.write(i, j, value)
    book.close()
    return out.getvalue()


@pytest.fixture(scope="module")
def ledger_server(tmp_path_factory: pytest.TempPathFactory, store_path: Path) -> Iterator[str]:
    """The real server over this module's own copy of the store, with an editor; its base URL."""
    path = tmp_path_factory.mktemp("ledger-browser") / "corridors.gpkg"
    shutil.copy(store_path, path)
    accounts.add_user(GeoPackageStore(path), "editor1", PASSWORD, "editor")
    with running_server(path, env={"SECRET_KEY": "ledger-browser-test-" + "s" * 32, "READ_ACCESS": "public"}) as server:
        yield server.base_url


def log_in(page: Page, base: str) -> None:
    page.goto(base + "/login?next=/ledger")
    page.fill("#login-name", "editor1")
    page.fill("#login-password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(base + "/ledger")


def cells(page: Page, selector: str) -> list[list[str]]:
    return page.eval_on_selector_all(
        selector, "trs => trs.map(tr => [...tr.cells].map(td => td.textContent.trim()))")


def test_an_editor_imports_an_xlsx_in_gcj02_and_finds_the_projects_on_the_map(
        page: Page, page_log: PageLog, ledger_server: str) -> None:
    base = ledger_server
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    log_in(page, base)
    page.select_option("#ledger-layer", "projects")
    page.select_option("#ledger-crs", "gcj02")
    page.set_input_files("#ledger-file", files=[{"name": "项目库.xlsx", "mimeType": XLSX, "buffer": office_xlsx()}])
    page.click("#ledger-preview-button")
    page.wait_for_selector("#ledger-rejected")

    # the preview: counts, then the rejected rows first, named as Excel numbers them, with column and value
    count = {k: page.inner_text(f"#ledger-counts li[data-count={k}] b")
             for k in ("add", "update", "unchanged", "duplicate", "rejected")}
    assert count == {"add": "3", "update": "0", "unchanged": "0", "duplicate": "0", "rejected": "2"}
    order = page.eval_on_selector_all("#ledger-preview .ledger-section", "els => els.map(e => e.id)")
    assert order == ["ledger-rejected", "ledger-added"]
    rejected = cells(page, "#ledger-rejected-table tbody tr")
    assert [r[:3] for r in rejected] == [["4", "状态", "不知道"], ["6", "经度", "abc"]]
    assert "未知状态" in rejected[0][3] and "unknown status" in rejected[0][3]  # Chinese and English
    assert "经度" in rejected[1][3] and "decimal degrees" in rejected[1][3]
    added = cells(page, "#ledger-added-table tbody tr")
    assert [(r[0], r[1]) for r in added] == [("2", ROWS[0][0]), ("3", SCRIPT_NAME), ("5", ROWS[3][0])]
    # a name from the file is text: no element was made of it, and no dialog opened
    assert page.locator("#ledger-preview script").count() == 0
    assert page.locator("#ledger-added-table td", has_text=SCRIPT_NAME).count() == 1
    assert page.is_disabled("#ledger-commit") and page.is_enabled("#ledger-commit-valid")

    # commit the valid rows: the change, its history, undo and the map are offered
    page.click("#ledger-commit-valid")
    page.wait_for_selector("#ledger-change-id")
    change = page.inner_text("#ledger-change-id")
    assert change.startswith("c")
    assert page.get_attribute("#ledger-history-link", "href") == f"/api/history?change={change}"
    assert page.get_attribute("#ledger-map-link", "href") == "/"
    assert page.is_visible("#ledger-undo")
    assert page.locator("#ledger-added-table a[href^='/projects/']").count() == 3
    assert page.is_disabled("#ledger-commit") and page.is_disabled("#ledger-commit-valid")
    history = page.evaluate("async (u) => (await fetch(u)).json()", f"/api/history?change={change}")
    assert sorted(c["operation"] for c in history["changes"]) == ["add"] * 3

    # the map's layer has each new project at its WGS84 position: the GCJ-02 input converted
    layer = page.evaluate("async () => (await fetch('/api/layers/projects?format=json')).json()")
    found = {f["name_zh"]: f for f in layer["features"] if f["name_zh"] in GOOD}
    assert set(found) == set(GOOD)
    for name, (gcj_lon, gcj_lat) in GOOD.items():
        stored = found[name]
        lon, lat = crs.to_wgs84(gcj_lon, gcj_lat, "gcj02")
        assert abs(stored["lon"] - float(lon)) < 1e-6 and abs(stored["lat"] - float(lat)) < 1e-6, name
        # GCJ-02 near Luoyang lies ~574 m east and ~113 m south of WGS84: the stored point is that far
        # west and north of the input
        west_m = (gcj_lon - stored["lon"]) * 111_320 * math.cos(math.radians(gcj_lat))
        north_m = (stored["lat"] - gcj_lat) * 110_574
        assert 540 < west_m < 610 and 90 < north_m < 135, (name, west_m, north_m)
    # ... and the map page itself opens from the link
    page.click("#ledger-map-link")
    page.wait_for_url(base + "/")
    page.wait_for_function("() => document.body && document.body.dataset.loaded === 'true'", timeout=20_000)

    # back on the ledger page, the latest changes list it
    page.goto(base + "/ledger")
    recent = cells(page, "#ledger-recent tbody tr")
    assert sum(1 for r in recent if r[0] == change) == 3  # the latest changes list it
    assert dialogs == []
    page_log.assert_clean()


def test_an_editor_undoes_a_commit_from_the_page(page: Page, page_log: PageLog, ledger_server: str) -> None:
    base = ledger_server
    log_in(page, base)
    data = io.BytesIO()
    book = xlsxwriter.Workbook(data, {"in_memory": True})
    sheet = book.add_worksheet()
    for i, row in enumerate([HEADERS, ["撤销测试项目", "伊川县", "规划", 100, 112.43, 34.42]]):
        for j, value in enumerate(row):
            sheet.write(i, j, value)
    book.close()
    page.select_option("#ledger-crs", "wgs84")
    page.set_input_files("#ledger-file", files=[{"name": "undo.xlsx", "mimeType": XLSX, "buffer": data.getvalue()}])
    page.click("#ledger-preview-button")
    page.wait_for_selector("#ledger-added")
    assert page.is_enabled("#ledger-commit")  # nothing rejected: every row may be committed
    page.click("#ledger-commit")
    page.wait_for_selector("#ledger-change-id")
    names = "async () => (await fetch('/api/layers/projects?format=json')).json().then(d => d.features.map(f => f.name_zh))"
    assert "撤销测试项目" in page.evaluate(names)
    page.click("#ledger-undo")
    page.wait_for_selector("#ledger-undone:not([hidden])")
    assert "撤销测试项目" not in page.evaluate(names)
    assert page.is_disabled("#ledger-undo")
    page_log.assert_clean()


def test_errors_are_shown_as_the_server_gives_them(page: Page, page_log: PageLog, ledger_server: str) -> None:
    base = ledger_server
    log_in(page, base)
    page.set_input_files("#ledger-file", files=[{"name": "notes.pdf", "mimeType": "application/pdf",
                                                 "buffer": b"%PDF-1.4 not a table"}])
    page.click("#ledger-preview-button")
    page.wait_for_selector("#ledger-error:not([hidden])")
    error = page.inner_text("#ledger-error")
    assert error.startswith("400: ") and "不支持的文件类型" in error and "unsupported file type" in error
    assert page.is_hidden("#ledger-preview") and page.is_disabled("#ledger-commit-valid")
    assert page_log.failed_responses == [f"400 {base}/api/import?layer=projects&crs=wgs84&dry_run=1"]
    assert page_log.console_errors and all("400" in e for e in page_log.console_errors)


def test_anonymous_users_are_sent_to_the_login(page: Page, page_log: PageLog, ledger_server: str) -> None:
    base = ledger_server
    page.goto(base + "/ledger")
    assert page.locator("#ledger-form").count() == 0
    page.click("#ledger-login a")
    page.wait_for_url(base + "/login?next=/ledger")
    page.go_back()
    hrefs = page.eval_on_selector_all("#ledger-templates a", "as => as.map(a => a.getAttribute('href'))")
    assert hrefs == [f"/api/import/template?layer={layer}" for layer in ("parks", "projects", "institutions")]
    with page.expect_download() as download:
        page.click("#ledger-templates a >> nth=1")
    assert download.value.suggested_filename == "projects-template.xlsx"
    page_log.assert_clean()
