"""20 clients importing and editing at once lose no change and the history holds every one (both stores).

The real server (gunicorn, several worker processes) over a private copy of each store. Half the clients
import small CSV files of new projects (``POST /api/import``), half edit existing projects
(``PATCH /api/features/<id>`` with ``If-Match``), all at once, with a bearer token. An editor follows the
protocol: GET the record for its ETag, PATCH with it, and on 409 GET again and retry. Two editors share
each record (each its own field), so they overtake each other and some of their PATCHes get a 409.
Afterwards every import's records and every edit's last value are there, ``/api/history`` holds exactly
one change per successful request, and no request got a 5xx. Finally two clients PATCH the same record
from the same ETag at once: one gets 200, the other 409. The protocol itself (ETag, If-Match, 428, 401,
403, 400 naming the field, 201 for an add, delete) is checked first on the app without a server.
"""

from __future__ import annotations

import itertools
import json
import shutil
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from geo import accounts
from geo.postgis import PostGISStore
from geo.store import GeoPackageStore
from tests.postgis_cluster import new_database
from tests.serving import running_server
from webmap import create_app

IMPORTERS = 10
EDITORS = 10
FILES_PER_IMPORTER = 1
ROUNDS = 2  # edits per editor, each from a fresh GET
SHARED = 5  # records the editors share: two editors per record, each its own field
FIELDS = ("status_note_en", "status_note_zh")
MAX_RETRIES = 50
_numbers = itertools.count()


@dataclass
class Store:
    """A private copy of a built store with an editor and a viewer, as the server is started on it."""

    location: str
    token: str
    viewer_token: str


def _with_users(store: GeoPackageStore | PostGISStore) -> tuple[str, str]:
    accounts.add_user(store, "editor1", "a-long-password", "editor")
    accounts.add_user(store, "viewer1", "a-long-password", "viewer")
    return accounts.add_token(store, "editor1")[1], accounts.add_token(store, "viewer1")[1]


@pytest.fixture(params=["geopackage", "postgis"])
def store(request: pytest.FixtureRequest, tmp_path: Path, store_path: Path) -> Iterator[Store]:
    if request.param == "geopackage":
        path = tmp_path / "corridors.gpkg"
        shutil.copy(store_path, path)
        yield Store(str(path), *_with_users(GeoPackageStore(path)))
        return
    url = new_database(request.getfixturevalue("postgis_url"), f"concurrency_{next(_numbers)}",
                       template=request.getfixturevalue("postgis_built_template"))
    with PostGISStore(url) as pg:
        tokens = _with_users(pg)
    yield Store(url, *tokens)


@dataclass
class Client:
    """An HTTP client of the server with the editor's token; it keeps every status it got."""

    base_url: str
    token: str
    statuses: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def call(self, method: str, path: str, *, body: bytes | None = None, headers: dict[str, str] | None = None,
             auth: bool = True) -> tuple[int, dict[str, str], Any]:
        head = {"Authorization": f"Bearer {self.token}"} if auth else {}
        req = urllib.request.Request(self.base_url + path, data=body, method=method, headers={**head, **(headers or {})})
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                status, got, data = resp.status, dict(resp.headers), resp.read()
        except urllib.error.HTTPError as err:
            status, got, data = err.code, dict(err.headers), err.read()
        with self.lock:
            self.statuses.append(status)
        try:
            doc = json.loads(data)
        except ValueError:
            doc = data
        return status, got, doc

    def patch(self, feature_id: str, properties: dict[str, Any], etag: str) -> tuple[int, dict[str, str], Any]:
        return self.call("PATCH", f"/api/features/{feature_id}", body=json.dumps({"properties": properties}).encode(),
                         headers={"Content-Type": "application/json", "If-Match": etag})

    def import_csv(self, name: str, text: str) -> tuple[int, dict[str, str], Any]:
        boundary = uuid.uuid4().hex
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
                f"Content-Type: text/csv\r\n\r\n").encode() + text.encode("utf-8") + f"\r\n--{boundary}--\r\n".encode()
        return self.call("POST", "/api/import?layer=projects", body=body,
                         headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})


def _csv(importer: int, number: int) -> tuple[str, list[str]]:
    """A small file of two new projects with names of their own (and points of their own in 偃师区)."""
    names = [f"并发测试{importer}号文件{number}项目{k}" for k in "甲乙"]
    lines = ["项目名称,状态,经度,纬度"]
    for k, name in enumerate(names):
        lines.append(f"{name},在建,{112.70 + importer * 0.004 + k * 0.001:.4f},{34.72 + number * 0.004:.4f}")
    return "\n".join(lines) + "\n", names


@dataclass
class Tally:
    imports: list[dict[str, Any]] = field(default_factory=list)  # the reports of committed imports
    edits: list[str] = field(default_factory=list)  # the change ids of successful PATCHes
    conflicts: int = 0
    last_values: dict[tuple[str, str], str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _importer(client: Client, tally: Tally, i: int, start: threading.Barrier) -> None:
    start.wait()
    for n in range(FILES_PER_IMPORTER):
        text, names = _csv(i, n)
        status, _, doc = client.import_csv(f"office-{i}-{n}.csv", text)
        with tally.lock:
            if status == 200 and doc.get("committed") and sorted(a["name_zh"] for a in doc["added"]) == sorted(names):
                tally.imports.append(doc)
            else:
                tally.problems.append(f"import {i}/{n}: {status} {str(doc)[:300]}")


def _editor(client: Client, tally: Tally, j: int, record_id: str, start: threading.Barrier) -> None:
    name = FIELDS[j // SHARED]
    start.wait()
    for r in range(ROUNDS):
        value = f"client {j} round {r}"
        for _ in range(MAX_RETRIES):
            status, headers, doc = client.call("GET", f"/api/features/{record_id}")
            if status != 200 or "ETag" not in headers:
                with tally.lock:
                    tally.problems.append(f"GET {record_id}: {status} {str(doc)[:200]}")
                return
            status, headers, doc = client.patch(record_id, {name: value}, headers["ETag"])
            if status == 409:
                with tally.lock:
                    tally.conflicts += 1
                continue
            with tally.lock:
                if status == 200 and doc["change_id"] and doc["properties"][name] == value and headers.get("ETag"):
                    tally.edits.append(doc["change_id"])
                    tally.last_values[(record_id, name)] = value
                else:
                    tally.problems.append(f"PATCH {record_id}: {status} {str(doc)[:300]}")
            break
        else:
            with tally.lock:
                tally.problems.append(f"PATCH {record_id}: still a conflict after {MAX_RETRIES} tries")


def _history(client: Client) -> list[dict[str, Any]]:
    status, _, doc = client.call("GET", "/api/history?limit=10000", auth=False)
    assert status == 200
    assert doc["total"] == doc["count"]
    return doc["changes"]


def test_the_edit_protocol_etag_if_match_and_refusals(store: Store) -> None:
    client = create_app({"TESTING": True, "CORRIDORS_STORE": store.location}).test_client()
    editor = {"Authorization": f"Bearer {store.token}"}
    viewer = {"Authorization": f"Bearer {store.viewer_token}"}
    url = "/api/features/zhongzhou-shidai-phase-1"
    got = client.get(url)
    etag = got.headers["ETag"]
    assert got.status_code == 200 and etag.startswith('"') and etag.endswith('"')
    change = {"properties": {"status": "operating"}}
    assert client.patch(url, json=change, headers={"If-Match": etag}).status_code == 401
    assert client.patch(url, json=change, headers={**viewer, "If-Match": etag}).status_code == 403
    missing = client.patch(url, json=change, headers=editor)
    assert missing.status_code == 428 and missing.get_json()["field"] == "If-Match"
    for body, name in [({"properties": {"status": "finished"}}, "status"), ({"properties": {"colour": "red"}}, "colour"),
                       ({"properties": {"source_id": "x"}}, "source_id"), ({"colour": "red"}, "colour"),
                       ({"properties": {}, "geometry": {"type": "Point", "coordinates": [121.47, 31.23]}}, "geometry")]:
        bad = client.patch(url, json=body, headers={**editor, "If-Match": etag})
        assert bad.status_code == 400 and bad.get_json()["field"] == name, (body, bad.get_json())
    assert client.patch(url, data=b"{not json", headers={**editor, "If-Match": etag}).get_json()["field"] == "body"
    assert client.get(url).headers["ETag"] == etag  # nothing was written

    done = client.patch(url, json=change, headers={**editor, "If-Match": etag})
    doc = done.get_json()
    assert done.status_code == 200 and doc["change_id"] and doc["properties"]["status"] == "operating"
    assert doc["properties"]["source_kind"] == "edit" and doc["properties"]["layer"] == "projects"
    assert done.headers["ETag"] == client.get(url).headers["ETag"] == f'"{doc["etag"]}"' != etag
    stale = client.patch(url, json={"properties": {"status": "planned"}}, headers={**editor, "If-Match": etag})
    assert stale.status_code == 409 and "reload" in stale.get_json()["error"]
    assert client.delete(url, headers={**editor, "If-Match": etag}).status_code == 409

    point = {"type": "Point", "coordinates": [112.79, 34.72]}
    added = client.post("/api/layers/projects/features", json={"properties": {"name_zh": "协议测试项目"},
                                                               "geometry": point}, headers=editor)
    assert added.status_code == 201 and added.headers["Location"].startswith("/api/features/prj-")
    assert client.get(added.headers["Location"]).headers["ETag"] == added.headers["ETag"]
    assert client.post("/api/layers/corridors/features", json={"properties": {"name_zh": "x"}, "geometry": point},
                       headers=editor).get_json()["field"] == "layer"
    assert client.post("/api/layers/roads/features", json={}, headers=editor).status_code == 404
    gone = client.delete(added.headers["Location"], headers={**editor, "If-Match": added.headers["ETag"]})
    assert gone.status_code == 200 and gone.get_json()["change_id"]
    assert client.get(added.headers["Location"]).status_code == 404
    kinds = [c["kind"] for c in client.get("/api/history?limit=3").get_json()["changes"]]
    assert kinds == ["edit", "edit", "edit"]


def test_twenty_clients_importing_and_editing_at_once_lose_no_change(store: Store) -> None:
    began = time.monotonic()
    with running_server(store.location, env={"SECRET_KEY": "concurrency-test-" + "k" * 40}, workers=2) as server:
        client = Client(server.base_url, store.token)
        status, _, layer = client.call("GET", "/api/layers/projects?format=json", auth=False)
        assert status == 200
        records = [f["id"] for f in layer["features"]]
        shared, last = records[:SHARED], records[SHARED]
        before = _history(client)
        seen = {c["change_id"] for c in before}

        tally = Tally()
        clients_began = time.monotonic()
        start = threading.Barrier(IMPORTERS + EDITORS)
        with ThreadPoolExecutor(IMPORTERS + EDITORS) as pool:
            jobs = [pool.submit(_importer, client, tally, i, start) for i in range(IMPORTERS)]
            jobs += [pool.submit(_editor, client, tally, j, shared[j % SHARED], start) for j in range(EDITORS)]
            for job in jobs:
                job.result()
        busy = time.monotonic() - clients_began

        assert not tally.problems, tally.problems
        assert len(tally.imports) == IMPORTERS * FILES_PER_IMPORTER
        assert len(tally.edits) == EDITORS * ROUNDS

        # every import's records and every edit's last value are in the layer
        status, _, layer = client.call("GET", "/api/layers/projects?format=json", auth=False)
        assert status == 200
        now = {f["id"]: f for f in layer["features"]}
        for report in tally.imports:
            for added in report["added"]:
                assert now[added["id"]]["name_zh"] == added["name_zh"]
                assert now[added["id"]]["source_id"] == report["source_id"]
        assert len(now) == len(records) + 2 * IMPORTERS * FILES_PER_IMPORTER
        for (record_id, name), value in tally.last_values.items():
            assert value.endswith(f"round {ROUNDS - 1}")
            assert now[record_id][name] == value, (record_id, name)

        # the history holds one change per successful request, and nothing else
        new = [c for c in _history(client) if c["change_id"] not in seen]
        by_change = Counter(c["change_id"] for c in new)
        kinds = {c["change_id"]: c["kind"] for c in new}
        assert set(by_change) == {r["change_id"] for r in tally.imports} | set(tally.edits)
        assert Counter(kinds.values()) == {"import": len(tally.imports), "edit": len(tally.edits)}
        assert len(new) == 2 * len(tally.imports) + len(tally.edits)  # record changes: 2 per file, 1 per edit
        assert all(by_change[r["change_id"]] == 2 for r in tally.imports)
        assert all(by_change[c] == 1 and kinds[c] == "edit" for c in tally.edits)

        # two clients edit the same record from the same ETag at once: one wins, the other must reload
        status, headers, _ = client.call("GET", f"/api/features/{last}")
        assert status == 200
        etag, both = headers["ETag"], threading.Barrier(2)

        def race(n: int) -> int:
            both.wait()
            return client.patch(last, {"status_note_en": f"racer {n}"}, etag)[0]

        with ThreadPoolExecutor(2) as pool:
            outcome = sorted(pool.map(race, (1, 2)))
        assert outcome == [200, 409]
        assert len(_history(client)) == len(before) + len(new) + 1

        assert not [s for s in client.statuses if s >= 500], Counter(client.statuses)
        assert "Traceback" not in server.log(), server.log()[-3000:]
    elapsed = time.monotonic() - began
    print(f"\n{Path(store.location).name if '://' not in store.location else 'postgis'}: "
          f"{len(tally.imports)} imports and {len(tally.edits)} edits by {IMPORTERS + EDITORS} clients in "
          f"{busy:.1f} s ({tally.conflicts} conflicts retried), {elapsed:.1f} s in all; "
          f"statuses {dict(Counter(client.statuses))}")
