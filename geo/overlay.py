"""Which polygon holds each point: the few polygons, prepared, queried against a tree of the many points."""

from __future__ import annotations

import numpy as np
import shapely


def covering_polygon(points: np.ndarray, polygons: np.ndarray) -> np.ndarray:
    """For each point, the position of the first polygon (in order) that covers it, -1 for none (any one CRS).

    The polygons are the queries: each is prepared once and tested against the points its box holds, which is
    far faster than testing every point against unprepared polygons when points outnumber polygons."""
    polygons = np.array(polygons, dtype=object)
    shapely.prepare(polygons)
    polygon, point = shapely.STRtree(np.asarray(points)).query(polygons, predicate="covers")
    order = np.lexsort((polygon, point))  # by point, then polygon: each point's first polygon leads
    point, polygon = point[order], polygon[order]
    first = np.r_[True, point[1:] != point[:-1]] if len(point) else np.zeros(0, dtype=bool)
    out = np.full(len(points), -1, dtype=np.int64)
    out[point[first]] = polygon[first]
    return out
