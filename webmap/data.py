"""The dataset a request answers from: one snapshot of the store per request, however often it is asked."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable

from flask import Flask, Response, current_app, g

from geo.dataset import Dataset, LiveDataset
from geo.postgis import PostGISStore
from geo.settings import Settings
from geo.store import GeoPackageStore
from webmap import memory

#: Response header naming the data version an answer was computed from.
VERSION_HEADER = "X-Data-Version"


def current_data() -> Dataset:
    """The snapshot of the store this request uses (taken on first use; the same for the whole request)."""
    if "dataset" not in g:
        g.dataset = live_data().current()
        _announce(g.dataset)
    return g.dataset


def on_new_snapshot(app: Flask, hook: Callable[[Dataset], None]) -> None:
    """Call ``hook(dataset)`` once for each new snapshot of the store this process loads (to prepare what the
    next requests will need; it runs in the request that loaded the snapshot, so it should be quick)."""
    app.extensions.setdefault("corridors_on_snapshot", []).append(hook)


_announced = threading.Lock()


def _announce(dataset: Dataset) -> None:
    """Run the app's new-snapshot hooks if ``dataset`` is a snapshot this process has not announced yet."""
    with _announced:
        if current_app.extensions.get("corridors_announced") is dataset:
            return
        current_app.extensions["corridors_announced"] = dataset
    for hook in current_app.extensions.get("corridors_on_snapshot", ()):
        hook(dataset)


def current_settings() -> Settings:
    """The settings of the running app (checked once, in ``create_app``)."""
    return current_app.extensions["settings"]


def live_data() -> LiveDataset:
    """The app's live handle on its store."""
    return current_app.extensions["corridors_data"]


def _tag_version(resp: Response) -> Response:
    dataset = g.get("dataset")
    if dataset is not None:
        resp.headers[VERSION_HEADER] = dataset.version
    return resp


@functools.lru_cache(maxsize=8)
def _database(url: str) -> PostGISStore:
    """One PostGIS store (one connection pool) per database and process, however many apps use it."""
    return PostGISStore(url)


def init_app(app: Flask) -> None:
    """Open the configured store lazily (a missing store is a 503 per request, not a failed start)."""
    settings = app.extensions["settings"]
    store = _database(settings.store) if settings.is_postgis else GeoPackageStore(settings.store)
    app.extensions["corridors_data"] = LiveDataset(store, settings.belt_km, radii_km=settings.radii_km)
    app.after_request(_tag_version)
    on_new_snapshot(app, memory.settle)
