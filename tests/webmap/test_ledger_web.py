"""The /ledger page over a private copy of the store: who sees the form, the template downloads, the latest
changes, and the same CSP checks as every other page (``tests/webmap/test_security.py``).

CSRF is really checked (no WTF_CSRF_ENABLED=False): the session's token is read from the page, as ledger.js
reads it.
"""

from __future__ import annotations

import io
import re
import shutil
import zipfile
from pathlib import Path

import pytest

import webmap
from geo import accounts
from geo.ledger.imports import IMPORT_LAYERS
from geo.store import GeoPackageStore
from tests.webmap.test_security import assert_common_headers, inline_scripts, parsed_scripts, policy
from webmap import create_app

ROOT = Path(__file__).resolve().parents[2]
LEDGER_JS = ROOT / "webmap" / "static" / "app" / "ledger.js"
PASSWORD = "a long password"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
OFFICE_CSV = ("项目名称,区县,状态,总投资(万元),经度,纬度\n"
              "台账页面测试项目,偃师区,在建,250000,112.7946,34.7259\n"
              "坏的状态,偃师区,不知道,,,\n")


@pytest.fixture(scope="module")
def users_store(tmp_path_factory: pytest.TempPathFactory, store_path: Path) -> Path:
    """The built store with an editor and a viewer."""
    path = tmp_path_factory.mktemp("ledger-web") / "corridors.gpkg"
    shutil.copy(store_path, path)
    store = GeoPackageStore(path)
    accounts.add_user(store, "editor1", PASSWORD, "editor")
    accounts.add_user(store, "viewer1", PASSWORD, "viewer")
    return path


@pytest.fixture()
def app(tmp_path: Path, users_store: Path, monkeypatch: pytest.MonkeyPatch):
    """The app over this test's own copy of the store (an import here changes no other test's data)."""
    path = tmp_path / "corridors.gpkg"
    shutil.copy(users_store, path)
    monkeypatch.setattr(webmap, "INSTANCE_DIR", tmp_path / "instance")
    return create_app({"TESTING": True, "CORRIDORS_STORE": str(path), "SECRET_KEY": "ledger-web-test-" + "k" * 32})


@pytest.fixture()
def client(app):
    return app.test_client()


def log_in(client, name: str) -> str:
    """Log in through the form; the CSRF token of the session, read from /ledger as ledger.js reads it."""
    token = CSRF_FIELD.search(client.get("/login").get_data(as_text=True)).group(1)
    resp = client.post("/login", data={"name": name, "password": PASSWORD, "csrf_token": token, "next": "/ledger"})
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/ledger")
    found = CSRF_FIELD.search(client.get("/ledger").get_data(as_text=True))
    assert found, "no csrf_token on the signed-in page"
    return found.group(1)


def page(client) -> str:
    resp = client.get("/ledger")
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    return resp.get_data(as_text=True)


def assert_template_links(html: str) -> None:
    for layer in IMPORT_LAYERS:
        assert f'href="/api/import/template?layer={layer}"' in html, layer
        assert f"{layer}-template.xlsx" in html


def test_anonymous_users_get_the_login_hint_the_templates_and_the_latest_changes(client):
    resp = client.get("/ledger")
    html = page(client)
    assert 'id="ledger-login"' in html and 'href="/login?next=/ledger"' in html
    assert "导入需要登录" in html and "needs a login" in html
    assert 'id="ledger-form"' not in html and 'type="file"' not in html and "csrf_token" not in html
    assert "Set-Cookie" not in resp.headers  # looking at the page starts no session
    assert_template_links(html)
    recent = html.split('id="ledger-recent"', 1)[1]
    assert recent.count("<tr>") == 21  # the header and the latest 20 changes (the build's seed changes)
    assert 'href="/api/history?change=' in recent
    assert '<a href="/ledger">台账 Ledger</a>' in html  # the nav link of every page


def test_a_signed_in_editor_gets_the_form(client):
    token = log_in(client, "editor1")
    html = page(client)
    assert 'id="ledger-login"' not in html and 'id="ledger-role"' not in html
    form = html.split('id="ledger-form"', 1)[1].split("</form>", 1)[0]
    assert f'name="csrf_token" value="{token}"' in form
    for layer in IMPORT_LAYERS:
        assert f'<option value="{layer}"' in form
    assert '<option value="projects" selected>' in form
    for crs, label in (("wgs84", "GPS"), ("gcj02", "高德/腾讯"), ("bd09", "百度"), ("cgcs2000", "天地图")):
        assert re.search(rf'<option value="{crs}">[^<]*{label}', form), crs
    assert 'name="sheet"' in form and 'type="file" name="file"' in form
    assert "预览 Preview" in form
    assert re.search(r'id="ledger-commit" disabled>提交 Commit<', form)
    assert re.search(r'id="ledger-commit-valid" disabled>提交有效行 Commit valid rows<', form)
    assert '<script src="/static/app/ledger.js"></script>' in html
    assert_template_links(html)
    assert "editor1 (editor)" in html


def test_a_viewer_is_told_the_role_it_lacks(client):
    log_in(client, "viewer1")
    html = page(client)
    assert 'id="ledger-role"' in html and "viewer" in html and "editor" in html
    assert 'id="ledger-form"' not in html
    assert_template_links(html)


@pytest.mark.parametrize("who", [None, "editor1"])
def test_the_page_passes_the_csp_checks_of_every_page(client, who):
    if who:
        log_in(client, who)
    resp = client.get("/ledger")
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    assert_common_headers(resp)
    csp = policy(resp)
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]  # no inline script at all, so no hash either
    assert not any("unsafe" in v for v in csp["script-src"] + csp["default-src"])
    assert csp["connect-src"] == ["'self'"] and csp["form-action"] == ["'self'"] and csp["object-src"] == ["'none'"]
    html = resp.get_data(as_text=True)
    assert parsed_scripts(html) == inline_scripts(html) == []
    assert " onclick=" not in html.lower() and "javascript:" not in html.lower()
    assert not re.search(r"\son[a-z]+\s*=", html, re.IGNORECASE)  # no event-handler attribute of any kind
    # every script and stylesheet is the app's own, served from here (works offline)
    assets = re.findall(r"""<(?:script|link)\b[^>]*?\b(?:src|href)="([^"]+)\"""", html)
    assert "/static/app/ledger.js" in assets and "/static/app/ledger.css" in assets
    assert not re.search(r"""(?:src|href)=["'](?:https?:)?//""", html)
    for url in assets:
        assert url.startswith("/static/app/"), url
        served = client.get(url)
        assert served.status_code == 200 and served.mimetype in ("text/javascript", "text/css", "image/svg+xml"), url


def test_ledger_js_writes_no_html():
    """Names, values and messages from a file are shown with textContent / createElement, never as HTML."""
    js = LEDGER_JS.read_text(encoding="utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in js, sink
    assert "X-CSRFToken" in js


def test_template_downloads_are_xlsx(client):
    for layer in IMPORT_LAYERS:
        resp = client.get(f"/api/import/template?layer={layer}")
        assert resp.status_code == 200 and resp.mimetype == XLSX, layer
        assert f"{layer}-template.xlsx" in resp.headers["Content-Disposition"]
        assert resp.headers["Content-Disposition"].startswith("attachment")
        with zipfile.ZipFile(io.BytesIO(resp.data)) as book:
            assert "xl/workbook.xml" in book.namelist()


def test_what_the_page_sends_previews_commits_and_lists_the_change(client):
    """The requests ledger.js makes: multipart with the X-CSRFToken header; the new change heads the list."""
    token = log_in(client, "editor1")
    url = "/api/import?layer=projects&crs=gcj02"

    def send(query: str, csrf: str | None = token):
        return client.post(url + query, data={"file": (io.BytesIO(OFFICE_CSV.encode()), "项目库.csv")},
                           headers={"X-CSRFToken": csrf} if csrf else {}, content_type="multipart/form-data")

    assert send("&dry_run=1", csrf=None).status_code == 400  # a session's write needs its token
    preview = send("&dry_run=1")
    assert preview.status_code == 200
    report = preview.get_json()
    assert report["counts"]["rejected"] == 1 and report["rejected"][0]["row"] == 3
    refused = send("")
    assert refused.status_code == 422 and refused.get_json()["change_id"] is None
    done = send("&skip_invalid=1")
    assert done.status_code == 200 and done.get_json()["committed"]
    change = done.get_json()["change_id"]
    html = page(client)
    first = html.split('id="ledger-recent"', 1)[1].split("<tbody>", 1)[1].split("</tr>", 1)[0]
    assert f'<a href="/api/history?change={change}">{change}</a>' in first and "editor1" in first
    assert f'href="/projects/{report["added"][0]["id"]}"' in first
    undo = client.post(f"/api/history/{change}/revert", headers={"X-CSRFToken": token})
    assert undo.status_code == 200 and undo.get_json()["reverts"] == change
