"""Exported maps of a big layer: density hexagons with counted classes in the legend, not one symbol per feature."""

from __future__ import annotations

import itertools

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from geo import mapspecs, render
from geo.render import layers as render_layers

N = render_layers.DENSITY_FROM + 1_000


@pytest.fixture(scope="module")
def big(layers) -> dict:
    """The real layers plus N random projects in the metro area (WGS84)."""
    rng = np.random.default_rng(3)
    lon, lat = rng.uniform(111.6, 113.2, N), rng.uniform(34.0, 35.1, N)
    real = layers["projects"]
    extra = gpd.GeoDataFrame({"id": [f"p{i}" for i in range(N)], "name_zh": "合成", "name_en": "synthetic",
                              "status": rng.choice(["planned", "operating"], N)},
                             geometry=gpd.points_from_xy(lon, lat), crs=real.crs)
    return {**layers, "projects": pd.concat([real, extra], ignore_index=True)}


def test_density_classes_are_round_and_cover_every_count():
    assert render_layers.density_classes(1) == [(1, 1)]
    assert render_layers.density_classes(96) == [(1, 1), (2, 4), (5, 19), (20, 49), (50, 96)]
    for top in (3, 57, 1000, 123_456):
        classes = render_layers.density_classes(top)
        assert classes[0][0] == 1 and classes[-1][1] == top and len(classes) <= 5
        assert all(a[1] + 1 == b[0] for a, b in itertools.pairwise(classes))  # no gap, no overlap


def test_a_big_layer_is_exported_as_density_with_its_total_and_the_rest_as_symbols(big, layers):
    total = len(big["projects"])
    _, facts = render.render_bytes(mapspecs.metro_map(big), "svg", dpi=72)
    rows = [t for t in facts.legend if t.startswith("项目密度")]
    assert f"{total:,} as density" in rows[0]  # every project counted in the frame
    assert rows[0].endswith(": 1") and 3 <= len(rows) <= 5  # classes from 1 up to the densest hexagon
    assert rows[-1].split(": ")[-1].split("–")[0].isdigit() and "per hexagon" in rows[-1]
    # the projects are no symbols (no marker row for them); parks and institutions still are
    assert not any(t.startswith("项目 Projects") for t in facts.legend)
    _, small = render.render_bytes(mapspecs.metro_map(layers), "svg", dpi=72)
    assert facts.marks == small.marks - len(layers["projects"])
    assert not any("density" in t or "密度" in t for t in small.legend)
