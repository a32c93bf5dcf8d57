"""The command line: help, build, layers and clear errors with a non-zero exit."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
    assert set(rows) == {"districts", "corridors", "parks", "projects", "institutions", "sources"}


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
    assert doc["type"] == "FeatureCollection" and len(doc["features"]) == 5
    props = doc["features"][0]["properties"]
    assert {"id", "layer", "name_zh", "name_en", "distance_km"} <= set(props)
    assert doc["features"][0]["geometry"]["type"] == "Point"
    assert doc["summary"]["investment_cny_100m"] == 140


def test_near_feature_csv_and_table(store_path):
    out = run("near", "--feature", "luo-mian", "--radius-km", "10", "--format", "csv", env_store=store_path)
    assert out.returncode == 0, out.stderr
    header = out.stdout.splitlines()[0].split(",")
    assert header[:5] == ["id", "layer", "name_zh", "name_en", "distance_km"] and "crs" in header
    table = run("near", "--lon", "112.45", "--lat", "34.62", "--radius-km", "10", env_store=store_path)
    assert "investment inside" in table.stdout and "distance_km" in table.stdout


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
