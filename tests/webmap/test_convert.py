"""``GET /api/convert`` (a pasted position in GCJ-02/BD-09/WGS84 as WGS84) and ``GET /api/me`` (the session's
user, whether they may edit, an editor's CSRF token) over a private copy of the store."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import webmap
from geo import accounts, crs
from geo.store import GeoPackageStore
from tests.webmap.test_auth import PASSWORD, log_in
from webmap import create_app

#: 中州时代 in AMap (GCJ-02) and Baidu (BD-09) coordinates, near 洛阳
GCJ = (112.7946, 34.7259)


@pytest.fixture(scope="module")
def users_store(tmp_path_factory: pytest.TempPathFactory, store_path: Path) -> tuple[Path, str]:
    path = tmp_path_factory.mktemp("convert") / "corridors.gpkg"
    shutil.copy(store_path, path)
    store = GeoPackageStore(path)
    accounts.add_user(store, "viewer1", PASSWORD, "viewer")
    accounts.add_user(store, "editor1", PASSWORD, "editor")
    _, token = accounts.add_token(store, "editor1")
    return path, token


@pytest.fixture()
def client(users_store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(webmap, "INSTANCE_DIR", tmp_path / "instance")
    return create_app({"TESTING": True, "CORRIDORS_STORE": str(users_store[0])}).test_client()


@pytest.mark.parametrize("system", ["gcj02", "bd09", "wgs84"])
def test_convert_gives_the_wgs84_position_geo_crs_gives(client, system: str) -> None:
    lon, lat = crs.from_wgs84(*GCJ, system)  # a position in that system
    resp = client.get(f"/api/convert?lon={float(lon)}&lat={float(lat)}&crs={system}")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    doc = resp.get_json()
    assert doc["crs"] == "EPSG:4326" and doc["from"]["crs"] == system
    assert abs(doc["lon"] - GCJ[0]) < 1e-6 and abs(doc["lat"] - GCJ[1]) < 1e-6


def test_convert_gcj02_moves_the_point_west_and_north(client) -> None:
    doc = client.get(f"/api/convert?lon={GCJ[0]}&lat={GCJ[1]}&crs=gcj02").get_json()
    want = crs.to_wgs84(*GCJ, "gcj02")
    assert abs(doc["lon"] - float(want[0])) < 1e-6 and abs(doc["lat"] - float(want[1])) < 1e-6
    assert doc["lon"] < GCJ[0] and doc["lat"] > GCJ[1]


@pytest.mark.parametrize(("query", "field"), [
    ("lon=112.5&lat=34.6&crs=mars", "crs"),
    ("lon=abc&lat=34.6", "lon"),
    ("lon=112.5", "lat"),
    ("lon=120.5&lat=34.6&crs=gcj02", "lon"),  # outside the study area
    ("", "lon"),
])
def test_convert_names_the_bad_parameter(client, query: str, field: str) -> None:
    resp = client.get(f"/api/convert?{query}")
    assert resp.status_code == 400 and resp.mimetype == "application/json"
    assert resp.get_json()["field"] == field


def test_me_anonymous_viewer_editor_and_token(client, users_store) -> None:
    resp = client.get("/api/me")
    assert resp.get_json() == {"user": None, "can_edit": False, "csrf_token": None}
    assert "no-store" in resp.headers["Cache-Control"] and "Cookie" in resp.headers["Vary"]

    assert log_in(client, "viewer1").status_code == 303
    doc = client.get("/api/me").get_json()
    assert doc == {"user": {"name": "viewer1", "role": "viewer"}, "can_edit": False, "csrf_token": None}

    client.post("/logout", data={"csrf_token": client.get("/api/me").get_json()["csrf_token"] or ""})
    other = client.application.test_client()
    assert log_in(other, "editor1").status_code == 303
    doc = other.get("/api/me").get_json()
    assert doc["user"] == {"name": "editor1", "role": "editor"} and doc["can_edit"] is True and doc["csrf_token"]
    # the token is the session's: a write with it in the header passes the CSRF check (here: a 428, no If-Match)
    resp = other.patch("/api/features/zhongzhou-shidai-phase-1", json={"properties": {"name_en": "x"}},
                       headers={"X-CSRFToken": doc["csrf_token"]})
    assert resp.status_code == 428, resp.get_data(as_text=True)

    token = client.application.test_client().get("/api/me", headers={"Authorization": f"Bearer {users_store[1]}"})
    assert token.get_json() == {"user": {"name": "editor1", "role": "editor"}, "can_edit": True, "csrf_token": None}


def test_both_are_documented(client) -> None:
    paths = client.get("/api/openapi.json").get_json()["paths"]
    assert "/api/convert" in paths and "/api/me" in paths
