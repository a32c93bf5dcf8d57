"""Which polygon holds each point (geo.overlay), checked against shapely's plain predicate one pair at a time."""

from __future__ import annotations

import numpy as np
import shapely

from geo.io import read_sources
from geo.overlay import covering_polygon


def test_the_first_covering_polygon_or_minus_one():
    left, right = shapely.box(0, 0, 2, 2), shapely.box(1, 0, 3, 2)  # overlap on 1 <= x <= 2
    points = shapely.points([(0.5, 1), (1.5, 1), (2.5, 1), (9, 9), (0, 0), (3, 2)])
    assert covering_polygon(points, [left, right]).tolist() == [0, 0, 1, -1, 0, 1]  # corners are covered
    assert covering_polygon(points, [right, left]).tolist() == [1, 0, 0, -1, 1, 0]
    assert covering_polygon(points[:0], [left]).tolist() == []


def test_agrees_with_covered_by_on_the_real_counties():
    districts = read_sources()["districts"]
    rng = np.random.default_rng(3)
    x0, y0, x1, y1 = districts.total_bounds
    points = shapely.points(rng.uniform(x0 - 0.1, x1 + 0.1, 3000), rng.uniform(y0 - 0.1, y1 + 0.1, 3000))
    polygons = districts.geometry.to_numpy()
    expected = [next((j for j, poly in enumerate(polygons) if shapely.covered_by(p, poly)), -1) for p in points]
    got = covering_polygon(points, polygons)
    assert got.tolist() == expected
    assert (got == -1).any() and len(set(got.tolist())) > 10  # some outside, many counties hit
