"""CSV for Excel on Chinese Windows: web downloads are UTF-8 with a BOM by default, GB18030 or plain UTF-8 on
request (``encoding=``); the command line's CSV on stdout stays plain UTF-8."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from geo import downloads, exports, formats
from geo.errors import ValidationError
from webmap import create_app

ROOT = Path(__file__).resolve().parents[2]
BOM = b"\xef\xbb\xbf"
CSV_URLS = ("/api/layers/parks?format=csv", "/api/near?lon=112.45&lat=34.62&radius_km=10&format=csv",
            "/api/nearest?lon=112.45&lat=34.62&layer=projects&k=3&format=csv")


@pytest.fixture()
def client(store_path):
    return create_app({"TESTING": True, "CORRIDORS_STORE": str(store_path)}).test_client()


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize("url", CSV_URLS)
def test_api_csv_has_a_bom_by_default_and_gb18030_on_request(client, url):
    plain = client.get(url)
    assert plain.status_code == 200 and plain.data.startswith(BOM)
    assert plain.headers["Content-Type"] == "text/csv; charset=utf-8"
    text = plain.data.decode("utf-8-sig")
    assert "id" in rows(text)[0] and any("\u4e00" <= ch <= "\u9fff" for ch in text)  # Chinese names kept
    gb = client.get(url + "&encoding=gb18030")
    assert gb.status_code == 200 and gb.headers["Content-Type"] == "text/csv; charset=gb18030"
    assert not gb.data.startswith(BOM) and gb.data.decode("gb18030") == text
    assert gb.data != text.encode("utf-8")  # really another encoding
    bare = client.get(url + "&encoding=UTF-8")  # the name is matched case-insensitively
    assert bare.data == text.encode("utf-8") and not bare.data.startswith(BOM)
    assert client.get(url + "&encoding=utf-8-sig").data == plain.data


def test_post_near_csv_takes_the_encoding_too(client):
    ring = [[112.40, 34.60], [112.50, 34.60], [112.50, 34.68], [112.40, 34.68], [112.40, 34.60]]
    r = client.post("/api/near?radius_km=1&format=csv&encoding=gb18030", json={"type": "Polygon", "coordinates": [ring]})
    assert r.status_code == 200 and r.headers["Content-Type"] == "text/csv; charset=gb18030"
    assert rows(r.data.decode("gb18030"))


@pytest.mark.parametrize("query", ["format=json&encoding=gb18030", "encoding=gb18030", "format=csv&encoding=latin-1",
                                   "format=compact&encoding=utf-8"])
def test_a_bad_or_ignored_encoding_is_refused(client, query):
    r = client.get(f"/api/layers/projects?{query}")
    assert r.status_code == 400 and r.get_json()["field"] == "encoding"


def test_export_data_csv_has_a_bom(client):
    r = client.get("/export/data.csv?layer=projects")
    assert r.status_code == 200 and r.data.startswith(BOM) and r.mimetype == "text/csv"
    assert {"id", "source_title_zh"} <= set(rows(r.data.decode("utf-8-sig"))[0])
    assert not client.get("/export/data.geojson?layer=projects").data.startswith(BOM)


def test_encode_download_gives_gb18030_and_refuses_other_formats(store_path):
    """What /export/data.csv sends for ``encoding=`` (webmap/export.py passes its download through it)."""
    body, mimetype, _ = downloads.layer_download(_layers(store_path), "parks", "csv")
    assert body.startswith(BOM) and mimetype == "text/csv; charset=utf-8"
    gb, gb_type = formats.encode_download(body, mimetype, "csv", "gb18030")
    assert gb_type == "text/csv; charset=gb18030" and gb.decode("gb18030") == body.decode("utf-8-sig")
    assert formats.encode_download(body, mimetype, "csv", None) == (body, mimetype)
    assert formats.encode_download(body, mimetype, "csv", "utf-8")[0] == body[len(BOM):]
    geo_body = b"{}"
    assert formats.encode_download(geo_body, "application/geo+json", "geojson", None) == (geo_body,
                                                                                        "application/geo+json")
    with pytest.raises(ValidationError) as err:
        formats.encode_download(geo_body, "application/geo+json", "geojson", "gb18030")
    assert err.value.field == "encoding"
    with pytest.raises(ValidationError):
        formats.check_csv_encoding("big5")


def _layers(store_path: Path) -> dict:
    from geo.store import GeoPackageStore

    store = GeoPackageStore(store_path)
    return {name: store.read(name) for name in store.layer_names()}


def test_the_cli_stdout_csv_has_no_bom(store_path):
    env = {**os.environ, "CORRIDORS_STORE": str(store_path)}
    out = subprocess.run([sys.executable, "run.py", "near", "--feature", "luo-mian", "--radius-km", "10", "--format",
                          "csv"], capture_output=True, env=env, cwd=ROOT, timeout=300, check=False)
    assert out.returncode == 0, out.stderr.decode("utf-8", "replace")
    assert out.stdout.startswith(b"id,") and not out.stdout.startswith(BOM)
    assert rows(out.stdout.decode("utf-8"))


def test_a_download_has_one_bom(store_path):
    """``run.py export --out x.csv`` writes the same bytes as /export/data.csv (tests/test_cli.py): one BOM."""
    assert exports.DATA_FORMATS == downloads.FORMATS
    body, _, _ = downloads.download(_layers(store_path)["projects"], "csv", "projects")
    assert body.startswith(BOM) and body.count(BOM) == 1


def test_export_data_csv_takes_the_encoding(client):
    r = client.get("/export/data.csv?layer=parks&encoding=gb18030")
    assert r.status_code == 200 and "gb18030" in r.headers["Content-Type"].lower()
    assert "洛阳新能源产业园".encode("gb18030") in r.data
    bad = client.get("/export/data.geojson?layer=parks&encoding=gb18030")
    assert bad.status_code == 400 and bad.get_json()["field"] == "encoding"
