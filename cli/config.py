"""What every sub-command reads first: the settings (environment, overridden by options) and the dataset."""

from __future__ import annotations

import argparse
import os

from geo.dataset import Dataset, load_dataset
from geo.settings import Settings
from geo.store import open_store


def settings(args: argparse.Namespace, store: str | None = None) -> Settings:
    """The settings, read once from the environment (``store``, else ``--store``, and ``--belt-km`` override them)."""
    raw: dict[str, object] = dict(os.environ)
    store = store or getattr(args, "store", None)
    if store:
        raw["CORRIDORS_STORE"] = str(store)
    if getattr(args, "belt_km", None) is not None:
        raw["CORRIDOR_BELT_KM"] = str(args.belt_km)
    return Settings.from_mapping(raw)


def dataset(args: argparse.Namespace) -> Dataset:
    """The store's layers (WGS84) with their indexes, belts (of the configured width) and joins."""
    config = settings(args)
    return load_dataset(open_store(config.store), config.belt_km, radii_km=config.radii_km)
