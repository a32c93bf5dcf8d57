"""Benchmark: an office's import of projects (preview, commit) and how soon every worker serves it.

The goal (the issue): 10k rows previewed in under 3 s and committed in under 3 s on this kind of machine.

The file: N projects as an office's list writes them (fixed seed): Chinese headers (序号, 项目名称, 企业名称,
区县, 行业, 状态, 总投资(万元), 经度, 纬度, 计划开工), unique Chinese project names, firms, the 区县 names of
the built store's districts layer (some written without 区/县, some by code), statuses in Chinese (规划,
在建, 已投产, 签约, ...), 总投资 in 万元 (some empty), industries by their Chinese names; most rows
(``--site-share``, 85 %) with GCJ-02 lon/lat (an AMap picker, 6 decimals) of a random point inside
their district, the others with the district only (placed at the district's representative point).
Written as XLSX (xlsxwriter) and CSV (UTF-8); the sizes are ``--sizes`` (1k, 10k, 100k). A file may
hold at most ``geo.ledger.readers.MAX_IMPORT_ROWS`` data rows, so a size above that limit is checked to
be refused and then timed at the largest allowed size (printed, never silent).

For each size and format, on a fresh copy of the built store (a GeoPackage; and a PostGIS database
made from a built template in a throwaway cluster with ``--postgis``):

- parse: ``geo.ledger.rows.parse_file`` alone (``read_table``, the cells, also shown alone), with the
  context built once;
- preview: ``import_file(store, …, dry_run=True)`` as ``run.py import --dry-run`` calls it (it reads
  the store's snapshot, parses, plans each row);
- commit: ``import_file(store, …)`` on the same store right after the preview, as ``run.py import``
  calls it (snapshot, parse, plan, then the commit under the store's write lock: plan again, check,
  apply, log rows, write). Where the commit's CPU time goes is printed per step (the functions of
  ``geo.ledger`` and the store wrapped for the call; "other" is the rest).

Every time is wall seconds and, in brackets, CPU seconds of the process doing the work (this one, or the
server's workers read from ``/proc``): on a shared machine other processes inflate the wall time, not the
CPU time, so the CPU figure says what an idle machine would take (on PostGIS the database server's own CPU
is not counted). The load average is printed along.
Rows per second are rows of the file / wall seconds. Then the real server (``running_server``, gunicorn,
``--workers`` workers, default 2) over a fresh copy of each store, with an editor and a bearer token made
by ``geo.accounts`` before it starts: every worker is warmed (it answers ``/api/features/<id>``), the
XLSX is previewed (``POST /api/import?dry_run=1``) and committed (``POST /api/import``), and from the
commit's answer, probes of ``/api/features/<a new id>`` on fresh connections (8 at a time) until every
worker has answered 200 with the new data version (``X-Data-Version``). Which worker answered is read
from ``/proc`` (the process holding the server end of the kept-alive connection), so "every worker" is
checked, not assumed. A worker that has not loaded the new version loads it on its next request, so
the time is that of its reload. Last: a summary table and whether the 3 s goals are met.

Usage: python bench/import.py [--sizes 1000,10000,100000] [--formats xlsx,csv] [--postgis] [--workers 2]
                              [--seed 7] [--no-server]
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import hashlib
import http.client
import io
import json
import math
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np
import pandas as pd
import shapely
import xlsxwriter

from geo import accounts
from geo import crs as geocrs
from geo.build import build_store
from geo.errors import ValidationError
from geo.ledger import changes as ledger_changes
from geo.ledger import imports as ledger_imports
from geo.ledger.imports import import_file
from geo.ledger.readers import MAX_IMPORT_ROWS, read_table
from geo.ledger.rows import ImportContext, derived_id, parse_file
from geo.postgis import PostGISStore
from geo.store import GeoPackageStore

GOAL_ROWS = 10_000
GOAL_S = 3.0
HEADERS = ["序号", "项目名称", "企业名称", "区县", "行业", "状态", "总投资(万元)", "经度", "纬度", "计划开工"]
STATUS_WORDS = ["规划", "在建", "已投产", "签约", "前期", "续建", "新开工", "建成投产", "拟建", "运营"]
STATUS_WEIGHTS = [0.22, 0.25, 0.12, 0.1, 0.08, 0.07, 0.06, 0.04, 0.04, 0.02]
BRANDS = ["华锂", "恒达", "中硅", "宏兴", "凯盛", "龙宇", "豫能", "洛钼", "伊川", "中孚", "万基", "新强联", "麦斯克",
          "中信重工", "普莱柯", "国润", "银隆", "昊华", "隆华", "鑫泰", "金鹭", "嵩岳", "黄河", "河洛", "牡丹",
          "北方", "中航", "博通", "正大", "天瑞"]
PRODUCTS = ["正极材料", "负极材料", "电解液", "锂电隔膜", "储能电池", "动力电池模组", "光伏组件", "氢燃料电池",
            "电池箔", "石墨烯导电剂", "硅碳负极", "钠离子电池", "储能变流器", "电池回收", "精密轴承", "智能装备",
            "新材料", "铝板带箔", "高纯硅", "碳纤维"]
KINDS = ["产业园", "生产基地", "扩建", "技改", "一期", "二期", "研发中心", "智能工厂"]
FIRM_SUFFIXES = ["有限公司", "科技有限公司", "新能源有限公司", "材料股份有限公司", "集团有限公司"]
#: Share of rows written with the district's short name (涧西 for 涧西区) or its code instead of its name.
SHORT_SHARE, CODE_SHARE = 0.05, 0.03
PROBES_AT_ONCE = 8
PROBE_TIMEOUT_S = 900


# -- the office's file ---------------------------------------------------------------------------------------

def _points_in(polygon: shapely.Geometry, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """N random points inside a polygon (rejection sampling in its bounds; WGS84)."""
    west, south, east, north = polygon.bounds
    shapely.prepare(polygon)
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    have = 0
    while have < n:
        x, y = rng.uniform(west, east, 2 * n + 16), rng.uniform(south, north, 2 * n + 16)
        inside = shapely.contains_xy(polygon, x, y)
        xs.append(x[inside])
        ys.append(y[inside])
        have += int(inside.sum())
    return np.concatenate(xs)[:n], np.concatenate(ys)[:n]


def office_table(n: int, districts: pd.DataFrame, industries: list[str], rng: np.random.Generator,
                 site_share: float) -> pd.DataFrame:
    """N rows of an office's project list (see the module): cells as they go into the file."""
    codes = districts["code"].astype(str).to_numpy()
    names = districts["name_zh"].astype(str).to_numpy()
    pick = rng.integers(0, len(codes), n)
    district_cells = names[pick].astype(object)
    style = rng.random(n)
    for i in np.flatnonzero(style < SHORT_SHARE + CODE_SHARE):
        name = names[pick[i]]
        if style[i] < CODE_SHARE:
            district_cells[i] = codes[pick[i]]
        elif len(name) > 2 and name.endswith(("区", "县")) and not name.endswith("回族区"):
            district_cells[i] = name[:-1]
    lon = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    sited = rng.random(n) < site_share
    for d in range(len(codes)):
        rows = np.flatnonzero(sited & (pick == d))
        if len(rows):
            x, y = _points_in(districts.geometry.iloc[d], len(rows), rng)
            gx, gy = geocrs.from_wgs84(x, y, "gcj02")  # what an AMap picker shows
            lon[rows], lat[rows] = np.round(gx, 6), np.round(gy, 6)
    brand = rng.integers(0, len(BRANDS), n)
    product = rng.integers(0, len(PRODUCTS), n)
    kind = rng.integers(0, len(KINDS), n)
    project = [f"{BRANDS[b]}{PRODUCTS[p]}{KINDS[k]}项目（{i + 1:06d}）" for i, (b, p, k) in
               enumerate(zip(brand.tolist(), product.tolist(), kind.tolist()))]
    firm = [f"洛阳{BRANDS[b]}{FIRM_SUFFIXES[s]}" for b, s in
            zip(brand.tolist(), rng.integers(0, len(FIRM_SUFFIXES), n).tolist())]
    investment = np.round(np.exp(rng.normal(np.log(80_000), 1.2, n)) / 100) * 100  # 万元, ~8亿 median
    investment = np.where(rng.random(n) < 0.1, np.nan, np.clip(investment, 500, 5_000_000))
    year = rng.integers(2023, 2027, n)
    month = rng.integers(1, 13, n)
    start = [f"{y}-{m:02d}" if r > 0.2 else "" for y, m, r in zip(year.tolist(), month.tolist(), rng.random(n))]
    status = rng.choice(STATUS_WORDS, n, p=STATUS_WEIGHTS)
    return pd.DataFrame({
        "序号": np.arange(1, n + 1), "项目名称": project, "企业名称": firm, "区县": district_cells,
        "行业": np.asarray(industries, dtype=object)[rng.integers(0, len(industries), n)], "状态": status,
        "总投资(万元)": investment, "经度": lon, "纬度": lat, "计划开工": start,
    })


def xlsx_bytes(table: pd.DataFrame, folder: Path) -> bytes:
    """The table as an XLSX (numbers as numbers, empty cells left out), as an office's Excel saves it."""
    path = folder / f"office-{uuid.uuid4().hex[:8]}.xlsx"
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet("项目清单")
    sheet.write_row(0, 0, list(table.columns))
    for r, row in enumerate(table.itertuples(index=False), start=1):
        for c, value in enumerate(row):
            if isinstance(value, float):
                if not math.isnan(value):
                    sheet.write_number(r, c, value)
            elif isinstance(value, (int, np.integer)):
                sheet.write_number(r, c, int(value))
            elif value:
                sheet.write_string(r, c, str(value))
    book.close()
    data = path.read_bytes()
    path.unlink()
    return data


def csv_bytes(table: pd.DataFrame) -> bytes:
    """The table as a UTF-8 CSV (with a BOM, as Excel saves "CSV UTF-8"); integers without .0."""
    out = table.copy()
    out["总投资(万元)"] = out["总投资(万元)"].map(lambda v: "" if math.isnan(v) else f"{v:.0f}")
    return out.to_csv(index=False, float_format="%.6f").encode("utf-8-sig")


# -- timing ----------------------------------------------------------------------------------------------

class Phases:
    """Cumulative CPU seconds of this process spent in wrapped functions while active (``with phases.active():``).

    CPU rather than wall time: what each step costs, whatever else the machine is running."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self._patches: list[tuple[object, str, object]] = []
        self._on = False

    def wrap(self, owner: object, name: str, label: str) -> None:
        raw = vars(owner).get(name) if isinstance(owner, type) else None
        original = raw.__func__ if isinstance(raw, staticmethod) else getattr(owner, name)

        @functools.wraps(original)
        def timed(*args, **kwargs):
            if not self._on:
                return original(*args, **kwargs)
            t0 = time.process_time()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[label] += time.process_time() - t0

        self._patches.append((owner, name, raw if isinstance(raw, staticmethod) else original))
        setattr(owner, name, staticmethod(timed) if isinstance(raw, staticmethod) else timed)

    @contextlib.contextmanager
    def active(self) -> Iterator[None]:
        self.seconds.clear()
        self._on = True
        try:
            yield
        finally:
            self._on = False

    def restore(self) -> None:
        for owner, name, original in reversed(self._patches):
            setattr(owner, name, original)


def commit_phases() -> Phases:
    """Wrap the steps of an import's commit (module attributes looked up at call time)."""
    phases = Phases()
    phases.wrap(ledger_imports, "parse_file", "parse the file")
    phases.wrap(ledger_imports, "plan_rows", "plan rows (x2: preview, then under the lock)")
    phases.wrap(ledger_changes, "_check_before", "check befores (records_of the layer)")
    phases.wrap(ledger_changes, "_apply_to_layer", "apply (records -> layer frame)")
    phases.wrap(ledger_changes, "log_rows", "log rows (JSON before/after)")
    phases.wrap(GeoPackageStore, "read_all", "read the store (x2)")
    phases.wrap(GeoPackageStore, "_write", "write the store (every layer)")
    phases.wrap(PostGISStore, "_read", "read the store (x2)")
    phases.wrap(PostGISStore, "_put_layer", "write the store (replaced layers)")
    phases.wrap(PostGISStore, "_insert_rows", "write the store (appended rows)")
    return phases


def timed(call: Callable[..., object], *args: object, **kwargs: object) -> tuple[float, float, Any]:
    """(wall seconds, CPU seconds of this process, result) of one call."""
    t0, c0 = time.perf_counter(), time.process_time()
    out = call(*args, **kwargs)
    return time.perf_counter() - t0, time.process_time() - c0, out


def load() -> str:
    """The load averages (1, 5, 15 min): other processes share the CPUs, and wall times grow with them."""
    return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())


@dataclass
class Row:
    """One line of the summary."""

    store: str
    rows: int
    fmt: str
    mb: float
    read_s: float
    parse_s: float
    parse_cpu: float
    preview_s: float
    preview_cpu: float
    commit_s: float
    commit_cpu: float
    added: int
    rejected: int
    phases: dict[str, float] = field(default_factory=dict)


# -- stores ----------------------------------------------------------------------------------------------

class Stores:
    """Fresh copies of the built store: GeoPackage files, and PostGIS databases from a built template."""

    def __init__(self, folder: Path, built: Path, postgis_url: str | None) -> None:
        self.folder, self.built, self.url = folder, built, postgis_url
        self.count = 0

    def fresh(self, kind: str) -> GeoPackageStore | PostGISStore:
        self.count += 1
        if kind == "geopackage":
            path = self.folder / f"store-{self.count}.gpkg"
            shutil.copy(self.built, path)
            return GeoPackageStore(path)
        from tests.postgis_cluster import new_database

        assert self.url is not None
        return PostGISStore(new_database(self.url, f"bench_{self.count}", template="built_template"))

    def drop(self, store: GeoPackageStore | PostGISStore) -> None:
        store.close()
        if isinstance(store, GeoPackageStore):
            store.path.unlink(missing_ok=True)
            return
        import sqlalchemy as sa

        from tests.postgis_cluster import database_url

        name = store.url.split("?")[0].rsplit("/", 1)[1]
        admin = sa.create_engine(database_url(self.url, "postgres").replace("postgresql:", "postgresql+psycopg:", 1),
                                 isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def store_version(store: GeoPackageStore | PostGISStore) -> str:
    """The data version the server sends as X-Data-Version (GeoPackage: content hash; PostGIS: data_version)."""
    if isinstance(store, GeoPackageStore):
        digest = hashlib.sha256()
        with open(store.path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()[:16]
    return store.data_version()


# -- the server ------------------------------------------------------------------------------------------

def worker_pids(master: int) -> set[int]:
    """The gunicorn workers: the processes whose parent is the master."""
    out = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = Path(f"/proc/{entry}/stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == master:
                    out.add(int(entry))
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def workers_cpu(pids: set[int]) -> dict[int, float]:
    return {pid: cpu_seconds(pid) for pid in pids}


def socket_owner(server_port: int, client_port: int, pids: set[int]) -> int | None:
    """The worker holding the server end of the connection from ``client_port`` (read from /proc)."""
    inode = None
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                parts = line.split()
                if (int(parts[1].rsplit(":", 1)[1], 16) == server_port
                        and int(parts[2].rsplit(":", 1)[1], 16) == client_port and parts[9] != "0"):
                    inode = parts[9]
    if inode is None:
        return None
    target = f"socket:[{inode}]"
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    if os.readlink(f"/proc/{pid}/fd/{fd}") == target:
                        return pid
    return None


def probe(host: str, port: int, path: str, pids: set[int]) -> tuple[int | None, int, str | None, float]:
    """GET ``path`` on a fresh connection: (worker pid, status, X-Data-Version, when it answered)."""
    conn = http.client.HTTPConnection(host, port, timeout=PROBE_TIMEOUT_S)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        resp.read()
        done = time.perf_counter()
        owner = socket_owner(port, conn.sock.getsockname()[1], pids) if conn.sock else None
        return owner, resp.status, resp.getheader("X-Data-Version"), done
    finally:
        conn.close()


def until_every_worker(host: str, port: int, path: str, pids: set[int], version: str | None, since: float,
                       deadline_s: float = PROBE_TIMEOUT_S) -> tuple[dict[int, float], int]:
    """Probe ``path`` until every worker answered 200 (with ``version`` when given): when each first did (s
    after ``since``), and how many probes it took."""
    served: dict[int, float] = {}
    probes = 0
    with ThreadPoolExecutor(PROBES_AT_ONCE) as pool:
        while set(served) != pids:
            if time.perf_counter() - since > deadline_s:
                raise RuntimeError(f"not every worker served {path} within {deadline_s} s: {served} of {pids}")
            for owner, status, got, done in pool.map(lambda _: probe(host, port, path, pids), range(PROBES_AT_ONCE)):
                probes += 1
                if owner is not None and status == 200 and (version is None or got == version):
                    served.setdefault(owner, done - since)
    return served, probes


def post_import(base_url: str, token: str, data: bytes, file_name: str, *, dry_run: bool) -> tuple[float, dict, int]:
    """POST /api/import (multipart ``file``), as an editor's client does: (seconds, report, status)."""
    host, port = base_url.removeprefix("http://").rsplit(":", 1)
    boundary = uuid.uuid4().hex
    body = io.BytesIO()
    body.write(f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n"
               "Content-Type: application/octet-stream\r\n\r\n".encode())
    body.write(data)
    body.write(f"\r\n--{boundary}--\r\n".encode())
    conn = http.client.HTTPConnection(host, int(port), timeout=PROBE_TIMEOUT_S)
    query = "layer=projects&crs=gcj02" + ("&dry_run=1" if dry_run else "")
    t0 = time.perf_counter()
    try:
        conn.request("POST", f"/api/import?{query}", body=body.getvalue(),
                     headers={"Authorization": f"Bearer {token}",
                              "Content-Type": f"multipart/form-data; boundary={boundary}"})
        resp = conn.getresponse()
        payload = resp.read()
        seconds = time.perf_counter() - t0
    finally:
        conn.close()
    try:
        doc = json.loads(payload)
    except ValueError:
        doc = {"error": payload[:500].decode("utf-8", "replace")}
    return seconds, doc, resp.status


def serve_and_commit(stores: Stores, kind: str, n: int, data: bytes, first_id: str, workers: int) -> dict[str, float]:
    """The server part for one store kind and size (see the module)."""
    from webmap.server import running_server

    store = stores.fresh(kind)
    try:
        accounts.add_user(store, "bench-editor", "bench-password-1", "editor")
        token = accounts.add_token(store, "bench-editor")[1]
        location = str(store.path) if isinstance(store, GeoPackageStore) else store.url
        existing = str(store.read("projects")["id"].iloc[0])
        env = {"WEB_WORKERS": str(workers)}
        with running_server(location, env=env, workers=workers, ready_timeout=120) as server:
            host, port = server.base_url.removeprefix("http://").rsplit(":", 1)
            pids = set()
            deadline = time.monotonic() + 60
            while len(pids) < workers and time.monotonic() < deadline:
                pids = worker_pids(server.process.pid)
                time.sleep(0.1)
            if len(pids) != workers:
                raise RuntimeError(f"expected {workers} workers, found {sorted(pids)}")
            warm, _ = until_every_worker(host, int(port), f"/api/features/{existing}", pids, None,
                                         time.perf_counter())
            cpu0 = workers_cpu(pids)
            preview_s, preview, status = post_import(server.base_url, token, data, f"项目清单-{n}.xlsx", dry_run=True)
            cpu1 = workers_cpu(pids)
            if status != 200 or preview.get("counts", {}).get("add") is None:
                raise RuntimeError(f"the API preview answered {status}: {str(preview)[:800]}\n{server.log()[-3000:]}")
            commit_s, report, status = post_import(server.base_url, token, data, f"项目清单-{n}.xlsx", dry_run=False)
            answered = time.perf_counter()
            cpu2 = workers_cpu(pids)
            if status != 200 or not report.get("committed"):
                raise RuntimeError(f"the API commit answered {status}: {str(report)[:800]}\n{server.log()[-3000:]}")
            version = store_version(store)
            served, probes = until_every_worker(host, int(port), f"/api/features/{first_id}", pids, version,
                                                answered)
            cpu3 = workers_cpu(pids)
        return {"api_preview_s": preview_s, "api_commit_s": commit_s, "all_workers_s": max(served.values()),
                "api_preview_cpu": sum(cpu1[p] - cpu0[p] for p in pids),
                "api_commit_cpu": sum(cpu2[p] - cpu1[p] for p in pids),
                "per_worker": ", ".join(f"pid {pid} {at:.2f} s (reload CPU {cpu3[pid] - cpu2[pid]:.2f} s)"
                                        for pid, at in sorted(served.items(), key=lambda kv: kv[1])),
                "probes": probes, "warm_s": max(warm.values()), "added": report["counts"]["add"]}
    finally:
        stores.drop(store)


# -- main ------------------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="rows per file, comma-separated")
    parser.add_argument("--formats", default="xlsx,csv", help="xlsx, csv or both (the server part uses XLSX)")
    parser.add_argument("--postgis", action="store_true", help="also on PostGIS (a throwaway cluster)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers of the server part (default 2)")
    parser.add_argument("--site-share", type=float, default=0.85, help="share of rows with lon/lat (default 0.85)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-server", action="store_true", help="skip the server part")
    args = parser.parse_args()
    start = time.perf_counter()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    kinds = ["geopackage", *(["postgis"] if args.postgis else [])]
    print(f"{os.cpu_count()} CPUs, {load()}; sizes {sizes}; formats {formats}; stores {kinds}; "
          f"server workers {args.workers if not args.no_server else '-'}; seed {args.seed}")
    print("Times are wall seconds (cpu: CPU seconds of the process doing the work, which other processes on the "
          "machine do not inflate); rows/s from the wall time.")

    with contextlib.ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-import-")))
        built = folder / "built.gpkg"
        t0 = time.perf_counter()
        build_store(built)
        print(f"built store in {time.perf_counter() - t0:.1f} s ({built.stat().st_size / 1e6:.1f} MB)")
        url = None
        if args.postgis:
            from tests.postgis_cluster import new_database, postgis_cluster

            t0 = time.perf_counter()
            url = stack.enter_context(postgis_cluster())
            stack.callback(PostGISStore.close_all)  # before the cluster stops
            build_store(new_database(url, "built_template"))
            print(f"throwaway PostGIS cluster up and built in {time.perf_counter() - t0:.1f} s")
        stores = Stores(folder, built, url)
        layers = GeoPackageStore(built).read_all()
        industries = pd.read_csv(ROOT / "data" / "industries.csv", dtype=str)["name_zh"].tolist()
        context = ImportContext.from_layers(layers)
        existing_projects = len(layers["projects"])
        rng = np.random.default_rng(args.seed)
        results: list[Row] = []
        served: list[tuple[str, int, dict[str, Any]]] = []

        for size in sizes:
            n = size
            if size > MAX_IMPORT_ROWS:
                n = MAX_IMPORT_ROWS
                over = csv_bytes(office_table(size, layers["districts"], industries, rng, args.site_share))
                try:
                    read_table(over, "over.csv")
                    refused = "NOT refused (the limit did not hold)"
                except ValidationError as exc:
                    refused = f"refused: {exc.detail.split(' / ')[-1][:120]}"
                print(f"\n{size} rows: over the limit MAX_IMPORT_ROWS = {MAX_IMPORT_ROWS} data rows "
                      f"(geo/ledger/readers.py): {refused}. Timing {n} rows, the most one file may hold.")
                del over
            t0 = time.perf_counter()
            table = office_table(n, layers["districts"], industries, rng, args.site_share)
            files = {"xlsx": xlsx_bytes(table, folder), "csv": csv_bytes(table)}
            sited = int(table["经度"].notna().sum())
            first_id = derived_id("projects", table["项目名称"].iloc[0])
            print(f"\n== {n} rows ({sited} with GCJ-02 lon/lat, {n - sited} district only); files made in "
                  f"{time.perf_counter() - t0:.1f} s: " + ", ".join(f"{k.upper()} {len(v) / 1e6:.1f} MB"
                                                                     for k, v in files.items()) + f"; {load()}")
            for fmt in formats:
                data, name = files[fmt], f"项目清单-{n}.{fmt}"
                read_s, read_cpu, _ = timed(read_table, data, name)
                parse_s, parse_cpu, parsed = timed(parse_file, data, name, layer="projects", crs="gcj02",
                                                   context=context)
                print(f"  {fmt.upper():4} read cells {read_s:6.2f} s (cpu {read_cpu:.2f})   parse (cells + checks) "
                      f"{parse_s:6.2f} s (cpu {parse_cpu:.2f}; {n / parse_s:6.0f} rows/s): {len(parsed.rows)} "
                      f"accepted, {len(parsed.rejected)} rejected, {sum(len(r.warnings) for r in parsed.rows)} warnings")
                del parsed
                for kind in kinds:
                    store = stores.fresh(kind)
                    try:
                        preview_s, preview_cpu, preview = timed(import_file, store, data, name, layer="projects",
                                                                input_crs="gcj02", user="bench", dry_run=True)
                        phases = commit_phases()
                        try:
                            with phases.active():
                                commit_s, commit_cpu, done = timed(import_file, store, data, name, layer="projects",
                                                                   input_crs="gcj02", user="bench")
                        finally:
                            phases.restore()
                        counts = done.to_dict()["counts"]
                        total = len(store.read("projects"))
                        assert done.committed and total == existing_projects + counts["add"], (total, counts)
                        print(f"    {kind:10} preview {preview_s:6.2f} s (cpu {preview_cpu:5.2f}; {n / preview_s:6.0f} "
                              f"rows/s)   commit {commit_s:6.2f} s (cpu {commit_cpu:5.2f}; {n / commit_s:6.0f} rows/s): "
                              f"change {done.change_id}, add {counts['add']} duplicate {counts['duplicate']} "
                              f"rejected {counts['rejected']}")
                        parts = sorted(phases.seconds.items(), key=lambda kv: -kv[1])
                        other = commit_cpu - sum(phases.seconds.values())
                        print("      where the commit's CPU goes: " + ", ".join(f"{label} {s:.2f}" for label, s in parts)
                              + f", other {other:.2f} s")
                        results.append(Row(kind, n, fmt, len(data) / 1e6, read_s, parse_s, parse_cpu, preview_s,
                                           preview_cpu, commit_s, commit_cpu, counts["add"], counts["rejected"],
                                           phases=dict(phases.seconds)))
                        del preview, done
                    finally:
                        stores.drop(store)
            if not args.no_server:
                for kind in kinds:
                    t0 = time.perf_counter()
                    got = serve_and_commit(stores, kind, n, files["xlsx"], first_id, args.workers)
                    print(f"  server over {kind} ({args.workers} workers; XLSX): API preview {got['api_preview_s']:.2f} s "
                          f"(workers' cpu {got['api_preview_cpu']:.2f}), API commit {got['api_commit_s']:.2f} s "
                          f"(cpu {got['api_commit_cpu']:.2f}; add {got['added']})")
                    print(f"    every worker serves the new data {got['all_workers_s']:.2f} s after the commit's "
                          f"answer: {got['per_worker']}; {got['probes']} probes (warm-up before the commit "
                          f"{got['warm_s']:.2f} s); this part took {time.perf_counter() - t0:.0f} s; {load()}")
                    served.append((kind, n, got))
            del files, table

    print("\nSummary (wall seconds, CPU seconds in brackets; the server: POST /api/import of the XLSX, the workers' "
          "CPU; every worker serves it: seconds from the commit's answer)")
    header = (f"{'store':10} {'rows':>6} {'file':4} {'MB':>5} {'parse':>14} {'preview':>14} {'commit':>14} "
              f"{'rows/s preview':>14} {'rows/s commit':>13}")
    print(header)
    print("-" * len(header))
    for r in results:
        print(f"{r.store:10} {r.rows:6d} {r.fmt:4} {r.mb:5.1f} {r.parse_s:6.2f} ({r.parse_cpu:5.2f}) "
              f"{r.preview_s:6.2f} ({r.preview_cpu:5.2f}) {r.commit_s:6.2f} ({r.commit_cpu:5.2f}) "
              f"{r.rows / r.preview_s:14.0f} {r.rows / r.commit_s:13.0f}")
    if served:
        header = (f"{'server over':11} {'rows':>6} {'workers':>7} {'API preview':>15} {'API commit':>15} "
                  f"{'every worker serves it':>22}")
        print(f"\n{header}\n{'-' * len(header)}")
        for kind, n, got in served:
            print(f"{kind:11} {n:6d} {args.workers:7d} {got['api_preview_s']:6.2f} ({got['api_preview_cpu']:6.2f}) "
                  f"{got['api_commit_s']:6.2f} ({got['api_commit_cpu']:6.2f}) {got['all_workers_s']:20.2f} s")
    goal = [r for r in results if r.rows == GOAL_ROWS]
    print(f"\nGoals ({GOAL_ROWS} rows previewed in < {GOAL_S:g} s and committed in < {GOAL_S:g} s; "
          f"wall time as measured, and CPU time: what an otherwise idle machine would take, about):")
    if not goal:
        print(f"  not measured: --sizes has no {GOAL_ROWS}")
    for r in goal:
        parts = []
        for what, wall, cpu in (("preview", r.preview_s, r.preview_cpu), ("commit", r.commit_s, r.commit_cpu)):
            parts.append(f"{what} {wall:.2f} s {'met' if wall < GOAL_S else 'NOT met'} "
                         f"(cpu {cpu:.2f} s {'met' if cpu < GOAL_S else 'NOT met'})")
        print(f"  {r.store:10} {r.fmt:4} " + ";  ".join(parts))
    print(f"\ndone in {time.perf_counter() - start:.0f} s; {load()}")


if __name__ == "__main__":
    main()
