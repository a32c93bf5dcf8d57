"""Editing in place on a phone (issue 16, "Phone" and "Edit in place"): at 390 × 844 CSS px a logged-in editor opens
a card's edit form; the form lies inside the viewport, every field and button can be reached and tapped (nothing
covers it: not the map, the popup or the panel; each at least 32 px high, fields in 16 px text so that focusing one
does not zoom the page), the edit marker stays in sight below it, and saving works.

Served in-process (werkzeug, as ``live_server``) over this module's own copy of the store, so the edit changes
nothing that other browser tests read.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page
from werkzeug.serving import make_server

from geo import accounts
from geo.store import GeoPackageStore
from tests.browser.conftest import HOST, PHONE_HEIGHT, PHONE_WIDTH, PageLog
from tests.browser.test_edit_in_place import (
    PASSWORD,
    PROJECT,
    VIEW,
    feature,
    log_in,
    open_editable_map,
    open_editor,
    saved,
)
from webmap import create_app

WIDTH, HEIGHT = PHONE_WIDTH, PHONE_HEIGHT


@pytest.fixture(scope="module")
def phone_server(tmp_path_factory: pytest.TempPathFactory, store_path: Path) -> Iterator[str]:
    path = tmp_path_factory.mktemp("edit-phone") / "corridors.gpkg"
    shutil.copy(store_path, path)
    accounts.add_user(GeoPackageStore(path), "editor1", PASSWORD, "editor")
    app = create_app({"TESTING": True, "CORRIDORS_STORE": str(path), "SECRET_KEY": "edit-phone-test-" + "s" * 32})
    server = make_server(HOST, 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="edit-phone-server", daemon=True)
    thread.start()
    try:
        yield f"http://{HOST}:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


#: Each control of the form a phone user must reach: scrolled into view in the dialog, wholly inside it and the
#: viewport, and the topmost element at its centre (so a tap lands on it).
REACH = """(sel) => {
  const el = document.querySelector(sel), dlg = document.getElementById('cm-edit');
  el.scrollIntoView({block: 'nearest'});
  const r = el.getBoundingClientRect(), d = dlg.getBoundingClientRect();
  const hit = document.elementFromPoint((r.left + r.right) / 2, (r.top + r.bottom) / 2);
  return {sel, w: r.width, h: r.height, inDialog: r.left >= d.left - 0.5 && r.right <= d.right + 0.5 &&
          r.top >= d.top - 0.5 && r.bottom <= d.bottom + 0.5,
          inViewport: r.left >= 0 && r.right <= innerWidth && r.top >= 0 && r.bottom <= innerHeight,
          onTop: !!hit && (hit === el || el.contains(hit) || (el.labels && [...el.labels].some(l => l.contains(hit))))};
}"""


def test_an_editor_edits_and_saves_on_a_phone(phone: Page, page_log: PageLog, phone_server: str) -> None:
    log_in(phone, phone_server, "editor1")
    open_editable_map(phone, phone_server, VIEW)
    open_editor(phone, PROJECT)
    # the dialog: inside the viewport, no wider than it, leaving part of the map free below it for the marker
    box = phone.evaluate("""() => { const d = document.getElementById('cm-edit'), r = d.getBoundingClientRect();
        return {left: r.left, right: r.right, top: r.top, bottom: r.bottom, scrollW: d.scrollWidth, clientW: d.clientWidth,
                docW: document.documentElement.scrollWidth}; }""")
    assert box["left"] >= 0 and box["right"] <= WIDTH and box["top"] >= 0 and box["bottom"] <= HEIGHT, box
    assert box["scrollW"] <= box["clientW"] + 1 and box["docW"] <= WIDTH, box  # nothing to scroll sideways
    assert HEIGHT - box["bottom"] >= 200, box  # the map shows below the form
    pin = phone.evaluate("() => { const r = document.querySelector('.cm-edit-pin').getBoundingClientRect(); "
                         "return {top: r.top, bottom: r.bottom, left: r.left, right: r.right}; }")
    assert pin["top"] >= box["bottom"] and pin["bottom"] <= HEIGHT and 0 <= pin["left"] and pin["right"] <= WIDTH, pin
    # every visible field and button of the form can be reached and tapped
    controls = phone.evaluate("""() => [...document.querySelectorAll(
        '#cm-edit-form input, #cm-edit-form select, #cm-edit-form button')]
        .filter(e => e.getClientRects().length && e.type !== 'hidden').map(e => '#' + e.id)""")
    assert {"#cm-edit-f-name_zh", "#cm-edit-f-status", "#cm-edit-paste", "#cm-edit-save", "#cm-edit-cancel"} <= set(controls)
    for sel in controls:
        reach = phone.evaluate(REACH, sel)
        assert reach["inDialog"] and reach["inViewport"] and reach["onTop"], reach
        assert reach["w"] >= 32 and reach["h"] >= 32, reach  # big enough for a finger (WCAG 2.5.8 asks 24 px)
    # 16 px text in the fields: smaller makes a phone's browser zoom the page when a field takes the focus
    small = phone.evaluate("""() => [...document.querySelectorAll('#cm-edit-form input[type=text], #cm-edit-form select')]
        .filter(e => e.getClientRects().length && parseFloat(getComputedStyle(e).fontSize) < 16).map(e => e.id)""")
    assert small == []
    # an edit and a save, tapped as a phone user would
    phone.tap("#cm-edit-f-name_en")
    phone.fill("#cm-edit-f-name_en", "Zhongzhou Shidai base I (edited on a phone)")
    phone.select_option("#cm-edit-f-status", "operating")
    phone.locator("#cm-edit-save").scroll_into_view_if_needed()
    phone.tap("#cm-edit-save")
    assert saved(phone).startswith("c")
    assert not phone.is_visible("#cm-edit")
    p = feature(phone, PROJECT)["properties"]
    assert p["name_en"] == "Zhongzhou Shidai base I (edited on a phone)" and p["status"] == "operating"
    page_log.assert_clean()
