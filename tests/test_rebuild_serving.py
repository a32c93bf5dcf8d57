"""A rebuild under the real multi-worker server: every worker serves the new data within a second, and
no answer mixes the old version with the new one."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from geo.io import DEFAULT_SOURCES_DIR
from tests.conftest import set_name_en
from tests.serving import running_server

ROOT = Path(__file__).resolve().parents[1]
PARK, PROJECT = "luoyang-new-energy-park", "youbo-battery-foil"
# every park and project of the metro area: one answer that reads two layers
URL = "/api/near?lon=112.45&lat=34.62&radius_km=300&layer=parks,projects&format=json"


def _names(base_url: str) -> tuple[str, str, str, float]:
    """(data version, park name, project name, time the request started) of one answer."""
    started = time.monotonic()
    with urllib.request.urlopen(base_url + URL, timeout=10) as resp:
        doc = json.loads(resp.read())
        version = resp.headers["X-Data-Version"]
    names = {f["id"]: f["name_en"] for f in doc["features"]}
    return version, names[PARK], names[PROJECT], started


def test_rebuild_is_served_by_every_worker_within_a_second_never_mixed(store_path: Path, tmp_path: Path) -> None:
    store = tmp_path / "instance" / "corridors.gpkg"
    store.parent.mkdir()
    shutil.copy(store_path, store)
    sources = tmp_path / "sources"
    shutil.copytree(DEFAULT_SOURCES_DIR, sources)
    set_name_en(sources, "parks", PARK, "Park After Rebuild")
    set_name_en(sources, "projects", PROJECT, "Project After Rebuild")

    with running_server(store, workers=3) as server:
        with ThreadPoolExecutor(12) as pool:  # warm every worker: each holds the old version
            before = list(pool.map(lambda _: _names(server.base_url), range(36)))
        assert {(p, q) for _, p, q, _ in before} == {("Luoyang New Energy Industrial Park",
                                                      "Youbo (Luoyang) 150 kt/yr battery foil project")}
        answers: list[tuple[str, str, str, float]] = []
        stop = threading.Event()

        def hammer() -> None:
            while not stop.is_set():
                answers.append(_names(server.base_url))

        threads = [threading.Thread(target=hammer) for _ in range(6)]
        for t in threads:
            t.start()
        build = subprocess.run([sys.executable, "run.py", "build", "--out", str(store), "--sources", str(sources)],
                               cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
        built_at = time.monotonic()
        assert build.returncode == 0, build.stderr
        time.sleep(2.0)
        stop.set()
        for t in threads:
            t.join()
        with ThreadPoolExecutor(12) as pool:
            after = list(pool.map(lambda _: _names(server.base_url), range(36)))

    new = ("Park After Rebuild", "Project After Rebuild")
    old = ("Luoyang New Energy Industrial Park", "Youbo (Luoyang) 150 kt/yr battery foil project")
    for version, park, project, _ in answers + after:
        assert (park, project) in (old, new), f"an answer mixed versions: {park!r} with {project!r}"
    versions = {}
    for version, park, project, _ in answers + after:
        versions.setdefault(version, set()).add((park, project))
    assert all(len(v) == 1 for v in versions.values()), versions  # one version, one content
    late = [a for a in answers + after if a[3] >= built_at + 1.0]
    assert len(late) >= 30 and all((a[1], a[2]) == new for a in late), "an answer a second after the build was old"
