"""The layers of the store, loaded once per process and shared by the views."""

from __future__ import annotations

import threading

import geopandas as gpd
from flask import current_app

from geo.store import GeoPackageStore


class Data:
    """Lazily read every layer of a GeoPackage store once and keep it in memory (WGS84)."""

    def __init__(self, path: str) -> None:
        self.store = GeoPackageStore(path)
        self._layers: dict[str, gpd.GeoDataFrame] | None = None
        self._lock = threading.Lock()

    @property
    def layers(self) -> dict[str, gpd.GeoDataFrame]:
        """Every layer by name, read on first use."""
        if self._layers is None:
            with self._lock:
                if self._layers is None:
                    self._layers = {name: self.store.read(name) for name in self.store.layer_names()}
        return self._layers

    def layer(self, name: str) -> gpd.GeoDataFrame:
        """One layer by name; unknown names raise NotFoundError."""
        if name not in self.layers:
            return self.store.read(name)  # raises NotFoundError naming the known layers
        return self.layers[name]


def current_data() -> Data:
    """The Data of the running app."""
    return current_app.extensions["corridors_data"]
