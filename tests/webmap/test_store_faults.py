"""A missing, truncated or corrupt store gives 503 saying what to do; a rebuild is served at once, whole."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from geo.build import build_store
from tests.conftest import set_name_en
from webmap import create_app

DATA_URLS = ("/api/layers", "/api/layers/parks", "/api/layers/sources?format=json", "/api/near?lon=112.45&lat=34.62&radius_km=10",
             "/api/site?industry=battery-materials", "/", "/data", "/corridors", "/export/data.csv?layer=parks")
PARK = "luoyang-new-energy-park"


@pytest.fixture()
def own_store(store_path: Path, tmp_path: Path) -> Path:
    """A private copy of the built store that a test may break or replace."""
    path = tmp_path / "instance" / "corridors.gpkg"
    path.parent.mkdir()
    shutil.copy(store_path, path)
    return path


def _client(path: Path):
    return create_app({"TESTING": True, "CORRIDORS_STORE": str(path)}).test_client()


def _assert_unavailable(client, path: Path) -> None:
    for url in DATA_URLS:
        resp = client.get(url)
        body = resp.get_data(as_text=True)
        assert resp.status_code == 503, (url, resp.status_code, body[:200])
        assert resp.is_json and "run.py build" in resp.json["error"], (url, body[:200])
        assert str(path.parent) not in body and "/tmp" not in body and "Traceback" not in body, body
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json["status"] == "unavailable"
    assert "run.py build" in ready.json["error"] and str(path.parent) not in ready.get_data(as_text=True)
    assert client.get("/healthz").status_code == 200


def test_healthy_store_is_ready(own_store):
    client = _client(own_store)
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["status"] == "ready"
    assert ready.json["layers"]["parks"] > 0 and len(ready.json["data_version"]) == 16
    assert ready.json["layers"]["sources"] > 0  # the register of sources is read like every layer
    assert client.get("/api/layers/parks").headers["X-Data-Version"] == ready.json["data_version"]


def test_missing_store_gives_503_without_path(tmp_path):
    _assert_unavailable(_client(tmp_path / "nothing.gpkg"), tmp_path / "nothing.gpkg")


@pytest.mark.parametrize("damage", ["deleted", "truncated", "corrupted", "empty"])
def test_damaged_store_after_warm_answers_gives_503_everywhere(own_store, damage):
    client = _client(own_store)
    assert client.get("/api/layers/parks").status_code == 200  # warm: the layers are loaded
    if damage == "deleted":
        own_store.unlink()
    elif damage == "truncated":
        data = own_store.read_bytes()
        own_store.write_bytes(data[: len(data) // 3])
    elif damage == "corrupted":
        data = bytearray(own_store.read_bytes())
        data[4096:4096 + 8192] = b"\xa5" * 8192  # overwrite pages in the middle
        own_store.write_bytes(bytes(data))
    else:
        own_store.write_bytes(b"")
    _assert_unavailable(client, own_store)


def test_store_restored_is_served_again(own_store, store_path):
    client = _client(own_store)
    own_store.unlink()
    assert client.get("/api/layers/parks").status_code == 503
    shutil.copy(store_path, own_store)
    assert client.get("/api/layers/parks").status_code == 200
    assert client.get("/readyz").status_code == 200


def _rebuild_with_park_name(sources: Path, out: Path, name_en: str) -> None:
    set_name_en(sources, "parks", PARK, name_en)
    build_store(out, sources_dir=sources)


def test_rebuild_is_served_by_the_next_request_with_a_new_version(own_store, sources_copy):
    client = _client(own_store)
    before = client.get(f"/api/features/{PARK}")
    assert before.json["properties"]["name_en"] == "Luoyang New Energy Industrial Park"
    _rebuild_with_park_name(sources_copy, own_store, "Rebuilt Park Name")
    after = client.get(f"/api/features/{PARK}")
    assert after.json["properties"]["name_en"] == "Rebuilt Park Name"
    assert after.headers["X-Data-Version"] != before.headers["X-Data-Version"]
    near = client.get(f"/api/near?feature={PARK}&radius_km=1&layer=parks&format=json")
    assert near.headers["X-Data-Version"] == after.headers["X-Data-Version"]


def test_a_store_built_before_the_register_still_serves(tmp_path, layers):
    from geo.store import GeoPackageStore

    path = tmp_path / "old.gpkg"
    GeoPackageStore(path).write({n: f for n, f in layers.items() if n != "sources"})
    client = _client(path)
    for url in ("/", "/data", "/projects/youbo-battery-foil", "/corridors/luo-gong", "/api/layers/projects",
                "/export/data.gpkg?layer=parks"):
        assert client.get(url).status_code == 200, url
    assert "未知 unknown" in client.get("/projects/youbo-battery-foil").get_data(as_text=True)
    assert client.get("/api/layers/sources").status_code == 404
