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
                          env=env, timeout=120)


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
    assert set(rows) == {"districts", "corridors", "parks", "projects", "institutions"}


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
