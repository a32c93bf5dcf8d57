"""Shared fixtures: a store built once from the real sources into a temporary folder."""

from __future__ import annotations

import contextlib
import csv
import itertools
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from geo.build import build_store
from geo.io import DEFAULT_SOURCES_DIR
from geo.store import GeoPackageStore

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Path of a GeoPackage built from the repository's sources for this test session."""
    out = tmp_path_factory.mktemp("store") / "corridors.gpkg"
    build_store(out)
    return out


@pytest.fixture(scope="session")
def real_layers() -> dict:
    """The repository's layers as ``run.py build`` writes them (spatial layers first, then the register)."""
    from geo.build import in_store_order
    from geo.io import read_sources

    return in_store_order(read_sources())


@pytest.fixture(scope="session")
def store(store_path: Path) -> GeoPackageStore:
    """The built store, opened."""
    return GeoPackageStore(store_path)


@pytest.fixture(scope="session")
def layers(store: GeoPackageStore) -> dict:
    """Every layer of the built store, read back from the GeoPackage."""
    return {name: store.read(name) for name in store.layer_names()}


@pytest.fixture()
def sources_copy(tmp_path: Path) -> Path:
    """A writable copy of data/sources/ that a test may break."""
    dst = tmp_path / "sources"
    shutil.copytree(DEFAULT_SOURCES_DIR, dst)
    return dst


def set_name_en(sources: Path, table: str, record_id: str, name_en: str) -> None:
    """Give one record of a copy of data/sources/ (``<table>.csv``) a new English name."""
    path = sources / f"{table}.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        if row["id"] == record_id:
            row["name_en"] = name_en
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture(scope="session")
def postgis_url() -> Iterator[str]:
    """URL of a database with PostGIS in a throwaway cluster, started the first time a test asks for it.

    Stopped and removed at the end of the session (``tests/postgis_cluster.py``). Without PostgreSQL and
    PostGIS the tests that need it fail, saying to run ``scripts/install_postgis.sh`` (``make test`` does):
    no test is skipped for a missing part."""
    from tests.postgis_cluster import ClusterUnavailable, postgis_cluster

    with contextlib.ExitStack() as stack:
        try:
            url = stack.enter_context(postgis_cluster())
        except ClusterUnavailable as exc:
            pytest.fail(f"{exc} (install it with scripts/install_postgis.sh, as make test does)")
        from geo.postgis import PostGISStore

        # runs before the cluster stops (an ExitStack unwinds last-in first): no pooled connection outlives it
        stack.callback(PostGISStore.close_all)
        yield url


@pytest.fixture(scope="session")
def postgis_built_template(postgis_url: str) -> str:
    """Name of a PostGIS database built from the repository's sources (``run.py build``), never connected to
    afterwards: a template for copies a test may write to (``new_database(postgis_url, name, template)``)."""
    from tests.postgis_cluster import new_database

    build_store(new_database(postgis_url, "built_template"))  # closes its connections: a template must have none
    return "built_template"


@pytest.fixture(scope="session")
def postgis_store_url(postgis_url: str, postgis_built_template: str) -> str:
    """URL of a PostGIS database built from the repository's sources, as ``store_path`` is (``run.py build``)."""
    from tests.postgis_cluster import new_database

    return new_database(postgis_url, "served", template=postgis_built_template)


@pytest.fixture(scope="session", params=["geopackage", "postgis"])
def served_store(request: pytest.FixtureRequest) -> str:
    """The built store's location, as the app is configured with it: a test using it runs on each store."""
    if request.param == "geopackage":
        return str(request.getfixturevalue("store_path"))
    return request.getfixturevalue("postgis_store_url")


_copies = itertools.count()


@pytest.fixture(params=["geopackage", "postgis"])
def built(request: pytest.FixtureRequest, tmp_path: Path, store_path: Path) -> Iterator[GeoPackageStore]:
    """A private copy of the built store (seed change c000001), once as a GeoPackage and once in PostGIS:
    a test using it runs on each store and may write to it."""
    if request.param == "geopackage":
        path = tmp_path / "corridors.gpkg"
        shutil.copy(store_path, path)
        yield GeoPackageStore(path)
        return
    from geo.postgis import PostGISStore
    from tests.postgis_cluster import new_database

    url = new_database(request.getfixturevalue("postgis_url"), f"copy_{next(_copies)}",
                       template=request.getfixturevalue("postgis_built_template"))
    with PostGISStore(url) as store:
        yield store  # type: ignore[misc]
