"""The command line: help, build, layers and clear errors with a non-zero exit."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str, env_store: Path | None = None) -> subprocess.CompletedProcess[str]:
    import os

    env = dict(os.environ)
    if env_store is not None:
        env["CORRIDORS_STORE"] = str(env_store)
    return subprocess.run([sys.executable, "run.py", *args], cwd=ROOT, capture_output=True, text=True,
                          env=env, timeout=120, check=False)


def test_help_names_the_commands():
    out = run("--help")
    assert out.returncode == 0
    for word in ("build", "layers", "WGS84", "CORRIDORS_STORE"):
        assert word in out.stdout


def test_build_then_layers(tmp_path):
    store = tmp_path / "s.gpkg"
    built = run("build", env_store=store)
    assert built.returncode == 0, built.stderr
    assert "validated parks: 20 records" in built.stdout
    assert "wrote layer institutions" in built.stdout
    listed = run("layers", env_store=store)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[1].split() == ["layer", "features", "geometry", "crs"]
    rows = {line.split()[0]: line.split()[1:] for line in lines[2:]}
    assert rows["corridors"] == ["4", "LineString", "EPSG:4326"]
    assert set(rows) == {"districts", "corridors", "parks", "projects", "institutions", "sources", "changes"}


def test_bad_sources_exit_non_zero_with_the_message(tmp_path):
    sources = tmp_path / "sources"
    sources.mkdir()
    for f in (ROOT / "data" / "sources").iterdir():
        (sources / f.name).write_bytes(f.read_bytes())
    text = (sources / "parks.csv").read_text(encoding="utf-8").replace("112.789,34.727", "34.727,112.789", 1)
    (sources / "parks.csv").write_text(text, encoding="utf-8")
    out = run("build", "--sources", str(sources), "--out", str(tmp_path / "s.gpkg"))
    assert out.returncode == 2
    assert "parks.csv, row 4, field 'lon'" in out.stderr and "swapped" in out.stderr
    assert not (tmp_path / "s.gpkg").exists()


def test_layers_without_a_store_explains(tmp_path):
    out = run("layers", env_store=tmp_path / "missing.gpkg")
    assert out.returncode == 2
    assert "python run.py build" in out.stderr


def test_near_geojson(store_path):
    import json

    out = run("near", "--lon", "112.64", "--lat", "34.615", "--radius-km", "1", "--layer", "projects",
              "--format", "geojson", env_store=store_path)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["type"] == "FeatureCollection" and len(doc["features"]) == 6
    props = doc["features"][0]["properties"]
    assert {"id", "layer", "name_zh", "name_en", "distance_km", "distance_min_km", "distance_max_km", "certainty",
            "located_to_zh", "located_to_en"} <= set(props)
    assert props["certainty"] == "possible" and props["located_to_zh"] == "仅定位到洛龙区"
    assert doc["features"][0]["geometry"]["type"] == "Point"
    assert doc["summary"]["investment_cny_100m"] == 140
    assert (doc["summary"]["certain"], doc["summary"]["possible"]) == (0, 6)
    only = run("near", "--lon", "112.64", "--lat", "34.615", "--radius-km", "1", "--layer", "projects",
               "--certain-only", "--format", "geojson", env_store=store_path)
    assert json.loads(only.stdout)["features"] == []


def test_near_feature_csv_and_table(store_path):
    out = run("near", "--feature", "luo-mian", "--radius-km", "10", "--format", "csv", env_store=store_path)
    assert out.returncode == 0, out.stderr
    header = out.stdout.splitlines()[0].split(",")
    assert header[:8] == ["id", "layer", "name_zh", "name_en", "distance_km", "distance_min_km", "distance_max_km",
                          "certainty"] and "crs" in header
    table = run("near", "--lon", "112.45", "--lat", "34.62", "--radius-km", "10", env_store=store_path)
    assert "investment inside" in table.stdout and "distance_min_km" in table.stdout
    assert "4 certainly and 30 possibly within" in table.stdout


def test_near_in_gcj02(store_path):
    out = run("near", "--lon", "112.7946", "--lat", "34.7259", "--crs", "gcj02", "--radius-km", "2",
              "--layer", "projects", "--format", "json", env_store=store_path)
    assert out.returncode == 0, out.stderr
    assert '"youbo-battery-foil"' in out.stdout and '"input_crs": "gcj02"' in out.stdout


def test_nearest_corridors_chain(store_path):
    out = run("nearest", "--lon", "112.45", "--lat", "34.62", "--layer", "institutions", "-k", "3",
              env_store=store_path)
    assert out.returncode == 0 and len(out.stdout.strip().splitlines()) == 4
    out = run("corridors", env_store=store_path)
    assert out.returncode == 0 and "luo-ji-jiao" in out.stdout and "unknown" in out.stdout
    out = run("chain", "--park", "luoyang-new-energy-park", env_store=store_path)
    assert out.returncode == 0 and "MISSING" in out.stdout and "中州时代" in out.stdout


def test_query_errors_exit_non_zero(store_path):
    for args, message in [
        (("near", "--lon", "112.45", "--lat", "34.62", "--radius-km", "0"), "radius_km"),
        (("near", "--lon", "121.47", "--lat", "31.23", "--radius-km", "5"), "outside the Luoyang metro area"),
        (("near", "--feature", "nope", "--radius-km", "5"), "unknown feature id 'nope'"),
        (("nearest", "--lon", "112.45", "--lat", "34.62", "--layer", "roads"), "unknown layer 'roads'"),
        (("chain", "--corridor", "nope"), "unknown corridor 'nope'"),
    ]:
        out = run(*args, env_store=store_path)
        assert out.returncode == 2, args
        assert message in out.stderr, (args, out.stderr)


def test_loopback_hosts():
    from webmap.server import is_loopback

    for host in ("127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost", "LocalHost"):
        assert is_loopback(host), host
    for host in ("0.0.0.0", "::", "", "192.168.1.20", "10.0.0.1", "example.org", "localhost.example.org"):
        assert not is_loopback(host), host


def test_serve_dev_refuses_a_host_that_is_not_loopback(tmp_path):
    import os

    store = tmp_path / "never-built.gpkg"
    out = run("serve", "--dev", "--host", "192.168.1.20", "--port", "1", env_store=store)
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert "--dev" in out.stderr and "'192.168.1.20', which is not a loopback address" in out.stderr
    assert out.stdout == ""
    env = {**os.environ, "HOST": "0.0.0.0", "CORRIDORS_STORE": str(store)}  # as make serve passes it
    out = subprocess.run([sys.executable, "run.py", "serve", "--dev"], cwd=ROOT, capture_output=True, text=True,
                         env=env, timeout=120, check=False)
    assert out.returncode == 2 and "'0.0.0.0', which is not a loopback address" in out.stderr
    assert not store.exists()  # refused before building anything


def test_serve_dev_on_loopback_serves(store_path):
    import os
    import time
    import urllib.request

    from webmap.server import free_port, stop

    port = free_port()
    proc = subprocess.Popen([sys.executable, "run.py", "serve", "--dev", "--host", "127.0.0.1", "--port", str(port),
                             "--store", str(store_path)], cwd=ROOT, env=dict(os.environ), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, "the dev server exited"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/layers", timeout=5) as resp:
                    assert resp.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, "the dev server did not answer"
                time.sleep(0.3)
    finally:
        stop(proc)


# -- export ----------------------------------------------------------------------------------------------
def test_export_writes_each_output_kind(store_path, tmp_path):
    import json

    import pyogrio
    from PIL import Image
    from pypdf import PdfReader

    cases = [
        (("--out", str(tmp_path / "m.png"), "--size", "640x400", "--dpi", "72", "--status", "planned"), "640x400 px"),
        (("--out", str(tmp_path / "c.svg"), "--corridor", "luo-ru", "--title", "洛汝 Luo–Ru"), "10 listed"),
        (("--out", str(tmp_path / "n.pdf"), "--lon", "112.45", "--lat", "34.62", "--radius-km", "5"), "842x595 pt"),
        (("--out", str(tmp_path / "s.geojson"), "--site", "battery-materials", "--top", "3"), "geojson, WGS84"),
        (("--out", str(tmp_path / "n.csv"), "--near", "--feature", "luo-mian", "--radius-km", "10"), "csv, WGS84"),
        (("--out", str(tmp_path / "sub" / "p.gpkg"), "--layer", "projects", "--status", "planned"), "gpkg, WGS84"),
    ]
    for args, said in cases:
        out = run("export", *args, env_store=store_path)
        assert out.returncode == 0, (args, out.stderr)
        assert out.stdout.startswith(f"wrote {args[1]} (") and said in out.stdout, (args, out.stdout)
    assert Image.open(tmp_path / "m.png").size == (640, 400)
    assert "洛汝 Luo–Ru" in (tmp_path / "c.svg").read_text(encoding="utf-8")
    box = PdfReader(tmp_path / "n.pdf").pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (842, 595)
    doc = json.loads((tmp_path / "s.geojson").read_text(encoding="utf-8"))
    assert len(doc["features"]) == 3 and doc["industry"]["id"] == "battery-materials"
    header = (tmp_path / "n.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
    assert {"distance_km", "source_id", "source_title_zh", "source_kind"} <= set(header)  # the register's titles
    layers = [name for name, _ in pyogrio.list_layers(tmp_path / "sub" / "p.gpkg")]
    assert layers == ["projects_filtered", "sources"]


def test_export_errors_exit_non_zero_naming_the_option(store_path, tmp_path):
    for args, message in [
        (("--out", "m.gif"), "unknown output extension '.gif'"),
        (("--out", "m.png", "--near", "--lon", "112.45", "--lat", "34.62"), "--near needs --radius-km"),
        (("--out", "m.csv"), "for data give --layer, --corridor, --near or --site"),
        (("--out", "m.png", "--status", "finished"), "unknown status 'finished'"),
        (("--out", "m.png", "--corridor", "nope"), "unknown corridor 'nope'"),
        (("--out", "m.png", "--radius-km", "5", "--feature", "nope"), "unknown feature id 'nope'"),
        (("--out", "m.png", "--dpi", "5000"), "field 'dpi'"),
        (("--out", "m.png", "--size", "B5"), "unknown size 'B5'"),
    ]:
        out = run("export", *[str(tmp_path / a) if a.startswith("m.") else a for a in args], env_store=store_path)
        assert out.returncode == 2, (args, out.stdout)
        assert message in out.stderr, (args, out.stderr)
    assert not list(tmp_path.iterdir())  # nothing written


def test_export_without_a_store_explains(tmp_path):
    out = run("export", "--out", str(tmp_path / "m.png"), env_store=tmp_path / "missing.gpkg")
    assert out.returncode == 2 and "python run.py build" in out.stderr


# -- the command line and the web export the same -----------------------------------------------------------
#: The same request to `run.py export` and to /export/ (the web's query string), for a map and for data.
SAME_REQUESTS = [
    (("--corridor", "luo-mian"), "corridor=luo-mian"),
    (("--lon", "112.45", "--lat", "34.62", "--radius-km", "10"), "qlon=112.45&qlat=34.62&qr=10"),
    (("--feature", "luo-mian", "--radius-km", "10", "--layer", "parks,projects"),
     "qfeature=luo-mian&qr=10&qlayer=parks,projects"),
    (("--lon", "112.7946", "--lat", "34.7259", "--crs", "gcj02", "--radius-km", "2"),
     "qlon=112.7946&qlat=34.7259&crs=gcj02&qr=2"),
    (("--site", "battery-materials", "--top", "5"), "industry=battery-materials&top=5"),
    (("--status", "planned", "--layers", "districts,corridors,projects"), "status=planned&layers=districts,corridors,projects"),
    (("--district", "410300", "--q", "洛阳"), "district=410300&q=洛阳"),
]


@pytest.fixture(scope="module")
def web(store_path):
    from webmap import create_app

    return create_app({"TESTING": True, "CORRIDORS_STORE": str(store_path)})


@pytest.mark.parametrize("cli_args, query", SAME_REQUESTS)
def test_the_cli_and_the_web_plan_the_same_map(web, cli_args, query):
    """Both read a request into a subject of geo.exports, which alone decides what a map shows."""
    from cli.export import subject_of
    from run import build_parser
    from webmap import export
    from webmap.data import current_data

    args = build_parser().parse_args(["export", "--out", "x.svg", *cli_args])
    with web.test_request_context(f"/export/map.svg?{query}"):
        assert subject_of(args) == export.map_subject(current_data())


@pytest.mark.parametrize("cli_args, query", [
    *[r for r in SAME_REQUESTS if "--corridor" not in r[0] and "--layers" not in r[0] and "--q" not in r[0]],
    (("--layer", "projects", "--status", "planned"), "layer=projects&status=planned"),
    (("--layer", "sources"), "layer=sources"),
])
def test_the_cli_and_the_web_plan_the_same_data(web, cli_args, query):
    from cli.export import subject_of
    from run import build_parser
    from webmap import export
    from webmap.data import current_data

    args = build_parser().parse_args(["export", "--out", "x.csv", *cli_args])
    with web.test_request_context(f"/export/data.csv?{query}"):
        assert subject_of(args) == export.data_subject(current_data())


@pytest.mark.parametrize("ext, cli_args, url", [
    ("geojson", ("--lon", "112.45", "--lat", "34.62", "--radius-km", "10"), "qlon=112.45&qlat=34.62&qr=10"),
    ("gpkg", ("--feature", "luo-mian", "--radius-km", "10"), "qfeature=luo-mian&qr=10"),
    ("geojson", ("--site", "battery-materials", "--top", "5"), "industry=battery-materials&top=5"),
    ("csv", ("--layer", "projects", "--status", "planned"), "layer=projects&status=planned"),
    ("svg", ("--corridor", "luo-mian", "--dpi", "150"), "corridor=luo-mian"),
])
def test_the_cli_and_the_web_write_the_same_bytes(web, store_path, tmp_path, ext, cli_args, url):
    path = tmp_path / f"x.{ext}"
    out = run("export", "--out", str(path), *cli_args, env_store=store_path)
    assert out.returncode == 0, out.stderr
    kind = "map" if ext == "svg" else "data"
    r = web.test_client().get(f"/export/{kind}.{ext}?{url}")
    assert r.status_code == 200, r.get_json()
    assert path.read_bytes() == r.data


def test_build_into_postgis_then_read_it_back(postgis_url, layers):
    import pandas as pd

    from geo.postgis import PostGISStore
    from geo.store import open_store

    built = run("build", "--out", postgis_url)
    assert built.returncode == 0, built.stderr
    assert "validated parks: 20 records" in built.stdout and "wrote layer institutions" in built.stdout
    assert "seed change c000001: 52 added" in built.stdout
    assert "wrote table sources: 9 rows (no geometry)" in built.stdout
    store = open_store(postgis_url)
    assert isinstance(store, PostGISStore)
    assert store.layer_names() == list(layers)
    version = store.data_version()
    for name, frame in store.read_all().items():
        expected = layers[name]
        assert list(frame.columns) == list(expected.columns) and len(frame) == len(expected)
        if name == "changes":  # the same seed change, recorded at the time of each build
            frame, expected = frame.drop(columns="recorded_at"), expected.drop(columns="recorded_at")
        elif name != "sources":
            assert frame.geometry.geom_equals_exact(expected.geometry, tolerance=1e-9).all()
            frame, expected = frame.drop(columns="geometry"), expected.drop(columns="geometry")
        pd.testing.assert_frame_equal(pd.DataFrame(frame), pd.DataFrame(expected))
    assert len(version) == 32  # a new one on every write (tests/geo/test_store_contract.py)
