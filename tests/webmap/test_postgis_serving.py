"""The app served from PostGIS: same answers as the GeoPackage, queries in SQL, commits seen by every worker."""

from __future__ import annotations

import csv
import io
import itertools

import pytest

from geo.dataset import LiveDataset
from geo.postgis import PostGISStore
from tests.postgis_cluster import database_url, new_database
from webmap import create_app

PARK = "luoyang-new-energy-park"
#: Answers compared whole between the two stores (everything but the data version).
SAME_ANSWERS = (
    "/api/near?lon=112.45&lat=34.62&radius_km=30",
    "/api/near?feature=luo-mian&radius_km=25&layer=parks,projects&format=csv",
    "/api/near?lon=112.7946&lat=34.7259&crs=gcj02&radius_km=60&layer=districts",
    "/api/nearest?lon=112.45&lat=34.62&layer=institutions&k=4",
    "/api/layers/projects?status=under_construction",
    "/api/corridors",
    "/api/chain?corridor=luo-mian",
    "/api/site?industry=battery-materials&within_km=40&lon=112.45&lat=34.62",
    f"/api/features/{PARK}",
)
_numbers = itertools.count()


def _client(store: str):
    return create_app({"TESTING": True, "CORRIDORS_STORE": store}).test_client()


@pytest.fixture()
def own_postgis(postgis_url: str, postgis_built_template: str) -> str:
    """A private copy of the built PostGIS store that a test may write to."""
    return new_database(postgis_url, f"serving_{next(_numbers)}", template=postgis_built_template)


def _rows(resp) -> object:
    """An answer as data: parsed JSON, or the rows of a CSV."""
    if resp.is_json:
        return resp.get_json(force=True)
    return list(csv.DictReader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))


def _assert_same(pg: object, gpkg: object, where: str = "") -> None:
    """Equal, except that a distance (km, rounded to 0.1 m) may differ by one unit of its rounding: the two
    stores measure the same distance to well under a millimetre, which can fall either side of a rounding."""
    if isinstance(gpkg, dict):
        assert isinstance(pg, dict) and list(pg) == list(gpkg), where
        for key in gpkg:
            _assert_same(pg[key], gpkg[key], f"{where}.{key}")
    elif isinstance(gpkg, list):
        assert isinstance(pg, list) and len(pg) == len(gpkg), where
        for i, (p, g) in enumerate(zip(pg, gpkg)):
            _assert_same(p, g, f"{where}[{i}]")
    elif where.endswith(".distance_km") and gpkg not in (None, ""):
        assert abs(float(pg) - float(gpkg)) <= 1.0001e-4, (where, pg, gpkg)
    else:
        assert pg == gpkg, (where, pg, gpkg)


@pytest.mark.parametrize("url", SAME_ANSWERS)
def test_postgis_answers_as_the_geopackage(store_path, postgis_store_url, url):
    gpkg, pg = _client(str(store_path)).get(url), _client(postgis_store_url).get(url)
    assert gpkg.status_code == pg.status_code == 200, (gpkg.status_code, pg.get_data(as_text=True)[:300])
    assert pg.mimetype == gpkg.mimetype
    _assert_same(_rows(pg), _rows(gpkg))
    assert pg.headers["X-Data-Version"] != gpkg.headers["X-Data-Version"]  # each store's own version


def test_buffer_queries_run_in_sql(postgis_store_url, monkeypatch):
    calls = []
    real_near = PostGISStore.near

    def spy(self, layer, geometry_wgs84, radius_m, **kwargs):
        calls.append((layer, radius_m))
        return real_near(self, layer, geometry_wgs84, radius_m, **kwargs)

    monkeypatch.setattr(PostGISStore, "near", spy)
    doc = _client(postgis_store_url).get("/api/near?lon=112.45&lat=34.62&radius_km=10&layer=parks,projects").json
    # out to the radius (no street or town records here, so no circle to add) and the candidate margin
    assert calls == [("parks", 10_000.0 * 1.01 + 50), ("projects", 10_000.0 * 1.01 + 50)]
    assert doc["summary"]["feature_count"] == len(doc["features"]) > 0
    # the register's titles are joined to what SQL found, as to the in-memory rows
    assert all(f["properties"]["source_title_zh"] for f in doc["features"])


def test_a_commit_is_seen_by_every_worker_at_once(own_postgis, real_layers):
    # two workers (their own connection pools, as on two machines) and a writer, over one database
    workers = [LiveDataset(PostGISStore(own_postgis)), LiveDataset(PostGISStore(own_postgis))]
    before = {w.current().version for w in workers}
    assert len(before) == 1
    parks = real_layers["parks"].copy()
    parks.loc[parks["id"] == PARK, "name_en"] = "Renamed by another machine"
    with PostGISStore(own_postgis) as writer:
        writer.write({**real_layers, "parks": parks})
        version = writer.data_version()
    for worker in workers:
        data = worker.current()  # the very next request: no wait, no reload signal
        assert data.version == version and data.version not in before
        assert data.layers["parks"].set_index("id").at[PARK, "name_en"] == "Renamed by another machine"
        worker.store.close()


def test_app_serves_a_commit_on_the_next_request(own_postgis, real_layers):
    client = _client(own_postgis)
    first = client.get(f"/api/features/{PARK}")
    parks = real_layers["parks"].copy()
    parks.loc[parks["id"] == PARK, "name_en"] = "Committed elsewhere"
    with PostGISStore(own_postgis) as writer:
        writer.write({**real_layers, "parks": parks})
    second = client.get(f"/api/features/{PARK}")
    assert second.json["properties"]["name_en"] == "Committed elsewhere"
    assert second.headers["X-Data-Version"] != first.headers["X-Data-Version"]
    near = client.get("/api/near?lon=112.45&lat=34.62&radius_km=30&layer=parks").json
    assert "Committed elsewhere" in {f["properties"]["name_en"] for f in near["features"]}


def _assert_unavailable(client, says: str) -> None:
    for url in ("/api/layers", "/api/near?lon=112.45&lat=34.62&radius_km=10", "/", "/readyz"):
        resp = client.get(url)
        body = resp.get_data(as_text=True)
        assert resp.status_code == 503 and resp.is_json, (url, resp.status_code, body[:200])
        assert says in resp.json["error"] and "DATABASE_URL" in resp.json["error"], body
        assert "/tmp" not in body and "postgres@" not in body and "Traceback" not in body, body
    assert client.get("/healthz").status_code == 200


def test_an_unbuilt_database_gives_503_saying_to_build(postgis_url):
    empty = new_database(postgis_url, f"unbuilt_{next(_numbers)}")
    _assert_unavailable(_client(empty), "has not been built")


def test_an_unreachable_database_gives_503_saying_what_to_check(postgis_url):
    # a socket folder with no server behind it
    _assert_unavailable(_client(database_url(postgis_url, "corridors").replace("host=/", "host=/nowhere/")),
                        "cannot be reached")


def test_the_cli_builds_and_reads_postgis_from_database_url(postgis_url, monkeypatch, capsys):
    import run

    url = new_database(postgis_url, f"cli_{next(_numbers)}")
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("CORRIDORS_STORE", raising=False)
    assert run.main(["build"]) == 0
    assert run.main(["near", "--lon", "112.45", "--lat", "34.62", "--radius-km", "10", "--format", "json"]) == 0
    out = capsys.readouterr().out
    assert '"feature_count"' in out
    PostGISStore.close_all()


def test_real_server_workers_all_serve_a_commit_at_once(own_postgis, real_layers):
    """``run.py serve`` over PostGIS with 3 worker processes: after a commit, every answer is new."""
    import json
    import urllib.request

    from tests.serving import running_server

    url = "/api/near?lon=112.45&lat=34.62&radius_km=30&layer=parks&format=json"

    def names(base_url: str) -> tuple[set[str], str]:
        with urllib.request.urlopen(base_url + url, timeout=10) as resp:
            doc = json.loads(resp.read())
            return {f["name_en"] for f in doc["features"]}, resp.headers["X-Data-Version"]

    with running_server(own_postgis, workers=3) as server:
        before = {names(server.base_url)[1] for _ in range(12)}
        assert len(before) == 1
        parks = real_layers["parks"].copy()
        parks.loc[parks["id"] == PARK, "name_en"] = "Seen by all workers"
        with PostGISStore(own_postgis) as writer:
            writer.write({**real_layers, "parks": parks})
            version = writer.data_version()
        after = [names(server.base_url) for _ in range(24)]  # spread over the three processes
        assert all("Seen by all workers" in found and v == version for found, v in after), after
        assert "Traceback" not in server.log()
