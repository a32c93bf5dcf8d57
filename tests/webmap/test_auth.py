"""Who may write: logins, roles, bearer tokens, CSRF and READ_ACCESS over a private copy of the store.

CSRF is really checked here (no WTF_CSRF_ENABLED=False): a session's token is read from the login form, as a
browser would.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from flask import request

import webmap
from geo import accounts
from geo.settings import SettingsError
from geo.store import GeoPackageStore
from tests.webmap.test_security import assert_common_headers, inline_scripts, parsed_scripts, policy
from webmap import create_app
from webmap.auth import WRONG_PASSWORD, current_writer, require_writer, safe_next

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "ying-tian-men-2024"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="module")
def accounts_store(tmp_path_factory: pytest.TempPathFactory, store_path: Path) -> tuple[Path, dict[str, str]]:
    """The built store with a viewer, an editor, an admin and two tokens of the editor (one revoked)."""
    path = tmp_path_factory.mktemp("accounts") / "corridors.gpkg"
    shutil.copy(store_path, path)
    store = GeoPackageStore(path)
    for name, role in (("viewer1", "viewer"), ("editor1", "editor"), ("管理员", "admin")):
        accounts.add_user(store, name, PASSWORD, role)
    _, token = accounts.add_token(store, "editor1")
    revoked_id, revoked = accounts.add_token(store, "editor1")
    _, viewer_token = accounts.add_token(store, "viewer1")
    accounts.revoke_token(store, revoked_id)
    return path, {"editor": token, "revoked": revoked, "viewer": viewer_token}


@pytest.fixture()
def store_copy(tmp_path: Path, accounts_store) -> Path:
    path = tmp_path / "corridors.gpkg"
    shutil.copy(accounts_store[0], path)
    return path


@pytest.fixture()
def tokens(accounts_store) -> dict[str, str]:
    return accounts_store[1]


@pytest.fixture()
def instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The app's instance folder (where the session key is kept), private to the test."""
    folder = tmp_path / "instance"
    monkeypatch.setattr(webmap, "INSTANCE_DIR", folder)
    return folder


def make_app(store: Path, **config):
    """The app with test-only routes that record every call (a write the checks must stop before)."""
    app = create_app({"TESTING": True, "CORRIDORS_STORE": str(store), **config})
    app.calls = []

    def body():
        return request.get_json() if request.is_json else request.form.to_dict()

    @app.post("/_test/write")
    @require_writer()
    def _write():
        app.calls.append(("write", body()))
        return {"ok": True, "user": current_writer().name}

    @app.post("/_test/admin")
    @require_writer("admin")
    def _admin():
        app.calls.append(("admin", body()))
        return {"ok": True}

    @app.post("/_test/form")
    def _form():  # no writer check: only the CSRF guard of form posts stands before it
        app.calls.append(("form", body()))
        return {"ok": True}

    return app


@pytest.fixture()
def app(store_copy, instance):
    return make_app(store_copy)


@pytest.fixture()
def client(app):
    return app.test_client()


def csrf_token(client, url: str = "/login") -> str:
    page = client.get(url)
    assert page.status_code == 200, page.get_data(as_text=True)[:300]
    found = CSRF_FIELD.search(page.get_data(as_text=True))
    assert found, "no csrf_token field on " + url
    return found.group(1)


def log_in(client, name: str, password: str = PASSWORD, **extra):
    return client.post("/login", data={"name": name, "password": password, "csrf_token": csrf_token(client), **extra})


def logged_in(client, name: str) -> str:
    """Log in and return the CSRF token of the session (read from the login form, as a page's script would)."""
    resp = log_in(client, name)
    assert resp.status_code == 303, resp.get_data(as_text=True)[:300]
    return csrf_token(client)


def test_anonymous_write_is_a_json_401_and_the_view_never_runs(app, client):
    resp = client.post("/_test/write", json={"name_en": "x"})
    assert resp.status_code == 401 and resp.mimetype == "application/json"
    body = resp.get_json()
    assert body["type"] == "Unauthorized"
    assert "Authorization: Bearer <token>" in body["error"] and "请登录" in body["error"]
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert_common_headers(resp)
    assert app.calls == []


def test_a_viewer_gets_403_naming_the_role(app, client):
    token = logged_in(client, "viewer1")
    resp = client.post("/_test/write", json={"a": 1}, headers={"X-CSRFToken": token})
    assert resp.status_code == 403
    body = resp.get_json()
    assert body["type"] == "Forbidden" and body["role_required"] == "editor" and "'editor'" in body["error"]
    assert app.calls == []


def test_an_editor_writes_through_the_session_with_the_csrf_header(app, client):
    token = logged_in(client, "editor1")
    resp = client.post("/_test/write", json={"a": 1}, headers={"X-CSRFToken": token})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.get_json() == {"ok": True, "user": "editor1"}
    assert app.calls == [("write", {"a": 1})]
    # an editor is not an admin
    resp = client.post("/_test/admin", json={}, headers={"X-CSRFToken": token})
    assert resp.status_code == 403 and resp.get_json()["role_required"] == "admin"
    assert len(app.calls) == 1


def test_a_session_write_without_the_csrf_token_is_refused_and_nothing_runs(app, client):
    token = logged_in(client, "editor1")
    # tampered in the signed part (the signature's last character may carry only padding bits)
    tampered = token[:3] + ("A" if token[3] != "A" else "B") + token[4:]
    for headers in ({}, {"X-CSRFToken": "forged"}, {"X-CSRFToken": tampered}):
        resp = client.post("/_test/write", json={"a": 1}, headers=headers)
        assert resp.status_code == 400, headers
        assert resp.get_json()["type"] == "Bad Request" and "CSRF" in resp.get_json()["error"]
    # a form post too (the field), and a token of another session is no good
    assert client.post("/_test/write", data={"a": "1"}).status_code == 400
    other = app.test_client()
    other_token = logged_in(other, "editor1")
    assert client.post("/_test/write", json={}, headers={"X-CSRFToken": other_token}).status_code == 400
    assert app.calls == []
    assert client.post("/_test/write", data={"a": "1", "csrf_token": token}).status_code == 200
    assert len(app.calls) == 1 and app.calls[0][1]["a"] == "1"


def test_the_login_form_token_is_replaced_when_the_session_begins(client):
    before = csrf_token(client)
    assert log_in(client, "editor1").status_code == 303
    assert client.post("/_test/write", json={}, headers={"X-CSRFToken": before}).status_code == 400
    after = csrf_token(client)
    assert after != before
    assert client.post("/_test/write", json={}, headers={"X-CSRFToken": after}).status_code == 200


def test_a_bearer_token_writes_without_csrf(app, client, tokens):
    resp = client.post("/_test/write", json={"b": 2}, headers={"Authorization": f"Bearer {tokens['editor']}"})
    assert resp.status_code == 200 and resp.get_json()["user"] == "editor1"
    # a form body with a session cookie alongside: the token decides, and it needs no CSRF token
    logged_in(client, "viewer1")
    resp = client.post("/_test/write", data={"c": "3"}, headers={"Authorization": f"bearer {tokens['editor']}"})
    assert resp.status_code == 200 and resp.get_json()["user"] == "editor1"
    assert [c[0] for c in app.calls] == ["write", "write"]
    viewer = client.post("/_test/write", json={}, headers={"Authorization": f"Bearer {tokens['viewer']}"})
    assert viewer.status_code == 403 and len(app.calls) == 2


@pytest.mark.parametrize("which", ["revoked", "wrong", "empty", "digest"])
def test_a_revoked_or_wrong_token_is_401_even_with_a_session(app, client, tokens, which):
    logged_in(client, "editor1")  # the session would do, but a bad token is never ignored
    token = {"revoked": tokens["revoked"], "wrong": tokens["editor"][:-3] + "abc", "empty": "",
             "digest": accounts.token_digest(tokens["editor"])}[which]
    resp = client.post("/_test/write", json={}, headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 401
    assert 'error="invalid_token"' in resp.headers["WWW-Authenticate"]
    assert "revoked" in resp.get_json()["error"]
    assert app.calls == []


def test_a_token_revoked_while_the_app_runs_stops_at_the_next_request(app, client, store_copy, tokens):
    headers = {"Authorization": f"Bearer {tokens['editor']}"}
    assert client.post("/_test/write", json={}, headers=headers).status_code == 200
    accounts.revoke_token(GeoPackageStore(store_copy), "t000001")
    assert client.post("/_test/write", json={}, headers=headers).status_code == 401
    assert len(app.calls) == 1


def test_a_removed_users_session_ends(app, client, store_copy):
    token = logged_in(client, "editor1")
    assert client.post("/_test/write", json={}, headers={"X-CSRFToken": token}).status_code == 200
    accounts.remove_user(GeoPackageStore(store_copy), "editor1")
    assert client.post("/_test/write", json={}, headers={"X-CSRFToken": token}).status_code == 401
    # added again with the same name: the old session does not come back
    accounts.add_user(GeoPackageStore(store_copy), "editor1", PASSWORD, "editor")
    assert client.post("/_test/write", json={}, headers={"X-CSRFToken": token}).status_code == 401
    assert len(app.calls) == 1


def test_logout_needs_the_csrf_token_and_ends_the_session(app, client):
    token = logged_in(client, "editor1")
    page = client.get("/data").get_data(as_text=True)
    assert "editor1 (editor)" in page and 'action="/logout"' in page
    assert client.post("/logout").status_code == 400  # a forged logout
    assert client.post("/_test/write", json={}, headers={"X-CSRFToken": token}).status_code == 200
    out = client.post("/logout", data={"csrf_token": token})
    assert out.status_code == 303 and out.headers["Location"] == "/"
    assert client.post("/_test/write", json={}, headers={"X-CSRFToken": token}).status_code == 401
    assert "登录 Log in" in client.get("/data").get_data(as_text=True)


def test_a_wrong_password_is_401_with_a_bilingual_message(app, client):
    for name, password in (("editor1", "wrong password"), ("nobody", PASSWORD), ("", "")):
        resp = log_in(client, name, password)
        assert resp.status_code == 401 and resp.mimetype == "text/html"
        html = resp.get_data(as_text=True)
        assert WRONG_PASSWORD in html and "用户名或密码不正确" in html and "Wrong user name or password" in html
        assert password not in html or not password
    assert client.post("/_test/write", json={}).status_code == 401  # still anonymous


def test_the_login_form_needs_its_csrf_token(client):
    resp = client.post("/login", data={"name": "editor1", "password": PASSWORD})
    assert resp.status_code == 400 and "CSRF" in resp.get_data(as_text=True)
    assert client.post("/_test/write", json={}).status_code == 401


def test_the_login_page_keeps_the_security_headers(client):
    resp = client.get("/login?next=/data")
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    assert_common_headers(resp)
    csp = policy(resp)
    assert csp["script-src"] == ["'self'"] and csp["default-src"] == ["'self'"]
    assert csp["form-action"] == ["'self'"]
    html = resp.get_data(as_text=True)
    assert parsed_scripts(html) == inline_scripts(html) == []  # no inline script at all
    assert " onclick=" not in html.lower() and "javascript:" not in html.lower()
    urls = re.findall(r'(?:src|href|action)="([^"]+)"', html)
    assert urls and all(u.startswith("/") and not u.startswith("//") for u in urls), urls
    assert "登录" in html and "Log in" in html and 'name="next" value="/data"' in html
    assert "no-store" in resp.headers["Cache-Control"]


def test_login_goes_to_a_local_next_only(client):
    resp = log_in(client, "editor1", next="/corridors/luo-ru?x=1")
    assert resp.status_code == 303 and resp.headers["Location"] == "/corridors/luo-ru?x=1"
    for evil in ("https://evil.example", "//evil.example", "/\\evil.example", "https:/evil.example",
                 "/\t/evil.example", "javascript:alert(1)"):
        client.post("/logout", data={"csrf_token": csrf_token(client)})
        resp = log_in(client, "editor1", next=evil)
        assert resp.status_code == 303 and resp.headers["Location"] == "/", evil


@pytest.mark.parametrize(("target", "safe"), [
    ("/data", True), ("/parks/x?y=1#z", True), ("/", True), ("https://evil.example", False),
    ("//evil.example", False), ("/\\evil.example", False), ("evil.example", False), ("", False), (None, False),
    ("/a\r\nLocation: x", False)])
def test_safe_next(target, safe):
    assert safe_next(target) == (target if safe else None)


def test_read_access_login_guards_everything_but_login_and_probes(store_copy, instance, tokens):
    client = make_app(store_copy, READ_ACCESS="login").test_client()
    api = client.get("/api/layers")
    assert api.status_code == 401 and api.mimetype == "application/json"
    assert "Bearer" in api.headers["WWW-Authenticate"] and "请登录" in api.get_json()["error"]
    page = client.get("/corridors/luo-ru?x=1")
    assert page.status_code == 302 and page.headers["Location"].startswith("/login?next=")
    assert client.get("/").headers["Location"] == "/login?next=/"
    assert client.get("/export/map.svg?corridor=luo-ru", headers={"Accept": "application/json"}).status_code == 401
    for url in ("/healthz", "/readyz", "/login", "/static/app/pages.css", "/favicon.ico"):
        assert client.get(url).status_code == 200, url
    assert client.get("/nope").status_code == 302  # what exists is not told before a login
    # a token reads; a session reads
    assert client.get("/api/layers", headers={"Authorization": f"Bearer {tokens['viewer']}"}).status_code == 200
    assert client.get("/api/layers", headers={"Authorization": f"Bearer {tokens['revoked']}"}).status_code == 401
    resp = log_in(client, "viewer1", next="/corridors/luo-ru")
    assert resp.headers["Location"] == "/corridors/luo-ru"
    assert client.get("/corridors/luo-ru").status_code == 200 and client.get("/api/layers").status_code == 200
    assert client.post("/_test/write", json={}, headers={"X-CSRFToken": csrf_token(client)}).status_code == 403


def test_reading_stays_public_by_default(client):
    for url in ("/", "/api/layers", "/data"):
        assert client.get(url).status_code == 200, url
    assert "登录 Log in" in client.get("/data").get_data(as_text=True)
    # a public API post without a session needs no CSRF token (POST /api/near with a GeoJSON body)
    square = ('{"type": "Polygon", "coordinates": [[[112.4, 34.6], [112.5, 34.6], [112.5, 34.7], [112.4, 34.7], '
              '[112.4, 34.6]]]}')
    assert client.post("/api/near?radius_km=1", data=square, content_type="application/geo+json").status_code == 200
    assert client.post("/api/near?radius_km=1", data=square,
                       content_type="application/x-www-form-urlencoded").status_code == 200


def test_a_form_post_with_a_session_cookie_needs_the_csrf_token(app, client):
    assert client.post("/_test/form", data={"a": "1"}).status_code == 200  # no cookie: nothing to forge
    token = logged_in(client, "viewer1")
    assert client.post("/_test/form", data={"a": "2"}).status_code == 400
    assert client.post("/_test/form", data="x", content_type="text/plain").status_code == 400
    assert client.post("/_test/form", data={"a": "3", "csrf_token": token}).status_code == 200
    assert [c[1]["a"] for c in app.calls] == ["1", "3"]


def test_session_cookie_flags(store_copy, instance, monkeypatch):
    resp = log_in(make_app(store_copy).test_client(), "editor1")
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "1")
    resp = log_in(make_app(store_copy).test_client(), "editor1")
    assert "; Secure" in resp.headers["Set-Cookie"]
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "maybe")
    with pytest.raises(SettingsError, match="SESSION_COOKIE_SECURE"):
        make_app(store_copy)


def test_the_secret_key_is_made_once_and_kept(store_copy, instance):
    first = make_app(store_copy)
    key_file = instance / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text().strip()
    assert len(key) >= 32 and first.secret_key == key
    client = first.test_client()
    token = logged_in(client, "editor1")
    # a restarted app (another worker) takes the same key: the session goes on
    second = make_app(store_copy)
    assert second.secret_key == key
    other = second.test_client()
    other.set_cookie("session", client.get_cookie("session").value)
    assert other.post("/_test/write", json={}, headers={"X-CSRFToken": token}).status_code == 200
    # the setting wins over the file; a short one is refused
    assert make_app(store_copy, SECRET_KEY="k" * 40).secret_key == "k" * 40
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        make_app(store_copy, SECRET_KEY="short")


def run_cli(store: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    """``python run.py ARGS`` on the store (``CORRIDORS_STORE``), as an admin would run it."""
    env = {**os.environ, "CORRIDORS_STORE": str(store)}
    env.pop("DATABASE_URL", None)
    return subprocess.run([sys.executable, "run.py", *args], input=stdin, env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False)


def test_a_user_added_with_the_command_line_can_log_in_at_once(app, client, store_copy):
    done = run_cli(store_copy, "users", "add", "王工", "--role", "editor", "--password-stdin", stdin=PASSWORD + "\n")
    assert done.returncode == 0, done.stderr
    assert PASSWORD not in store_copy.read_bytes().decode("latin-1")
    listed = run_cli(store_copy, "users", "list", "--format", "json")
    assert '"王工"' in listed.stdout and "scrypt" not in listed.stdout
    token = logged_in(client, "王工")  # the running app sees the new user without a restart
    resp = client.post("/_test/write", json={}, headers={"X-CSRFToken": token})
    assert resp.status_code == 200 and resp.get_json()["user"] == "王工"
    made = run_cli(store_copy, "tokens", "add", "王工")
    assert made.returncode == 0 and "shown this once" in made.stderr
    bearer = made.stdout.strip()
    resp = app.test_client().post("/_test/write", json={}, headers={"Authorization": f"Bearer {bearer}"})
    assert resp.status_code == 200 and resp.get_json()["user"] == "王工"
    bad = run_cli(store_copy, "users", "add", "x y", "--password-stdin", stdin=PASSWORD)
    assert bad.returncode == 2 and "field 'name'" in bad.stderr
