"""The layers of the store, loaded once per process, with the query engine and joins built on them."""

from __future__ import annotations

import threading
from functools import cached_property

import geopandas as gpd
from flask import current_app

from geo import analysis
from geo.query import QueryEngine
from geo.store import GeoPackageStore


class Data:
    """Every layer of a GeoPackage store read once (WGS84), plus its spatial indexes and joins."""

    def __init__(self, path: str, belt_km: float | None = None) -> None:
        self.store = GeoPackageStore(path)
        self.belt_km = belt_km
        self._lock = threading.Lock()

    @cached_property
    def layers(self) -> dict[str, gpd.GeoDataFrame]:
        """Every layer by name, read on first use."""
        with self._lock:
            return self.store.read_all()

    @cached_property
    def engine(self) -> QueryEngine:
        """The buffer/nearest query engine (its STRtrees are built once, on first use)."""
        return QueryEngine(self.layers)

    @cached_property
    def joined(self) -> dict[str, gpd.GeoDataFrame]:
        """Point layers with their county, belts and plan corridor."""
        return analysis.joined(self.layers, self.belt_km)

    @cached_property
    def belts(self) -> gpd.GeoDataFrame:
        """Corridor belts (WGS84 polygons)."""
        return analysis.corridor_belts(self.layers["corridors"], self.belt_km)

    def layer(self, name: str) -> gpd.GeoDataFrame:
        """One layer by name; unknown names raise NotFoundError naming the known layers."""
        if name not in self.layers:
            return self.store.read(name)  # raises NotFoundError
        return self.layers[name]


def current_data() -> Data:
    """The Data of the running app."""
    return current_app.extensions["corridors_data"]
