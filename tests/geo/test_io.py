"""Bad input stops the build with a message naming file, row, field and expectation; the store is untouched."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import pytest

from geo.build import build_store
from geo.io import DEFAULT_BOUNDARIES, SourceErrors, read_sources


def _edit_csv(path: Path, row: int, field: str, value: str) -> None:
    """Set one cell (row counts data rows from 1) of a CSV file."""
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
        fields = list(rows[0].keys())
    rows[row - 1][field] = value
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _drop_column(path: Path, field: str) -> None:
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        del r[field]
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, list(rows[0].keys()), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture()
def good_store(tmp_path: Path) -> Path:
    out = tmp_path / "build" / "corridors.gpkg"
    build_store(out)
    return out


def _expect_failure(sources: Path, store: Path, *fragments: str, boundaries: Path = DEFAULT_BOUNDARIES) -> SourceErrors:
    before = _digest(store)
    with pytest.raises(SourceErrors) as info:
        build_store(store, sources_dir=sources, boundaries=boundaries)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    assert _digest(store) == before, "a failed build changed the store"
    left = sorted(p.name for p in store.parent.iterdir() if p.name != f".{store.name}.lock")  # the writers' lock
    assert left == [store.name], "temporary files left behind"
    return info.value


def test_missing_column(sources_copy, good_store):
    _drop_column(sources_copy / "parks.csv", "name_en")
    err = _expect_failure(sources_copy, good_store, "parks.csv",
                          "field 'name_en'", "column is missing")
    assert err.field == "name_en"


def test_missing_required_value(sources_copy, good_store):
    _edit_csv(sources_copy / "projects.csv", 3, "status", "")
    _expect_failure(sources_copy, good_store, "projects.csv, row 3, field 'status'", "a value is required",
                    "one of planned, exploratory")


def test_non_number(sources_copy, good_store):
    _edit_csv(sources_copy / "projects.csv", 1, "capacity_gwh", "sixty")
    err = _expect_failure(sources_copy, good_store, "projects.csv, row 1, field 'capacity_gwh'",
                          "expected a number", "'sixty'")
    assert (err.row, err.field) == (1, "capacity_gwh")


def test_negative_investment(sources_copy, good_store):
    _edit_csv(sources_copy / "projects.csv", 1, "investment_cny_100m", "-5")
    _expect_failure(sources_copy, good_store, "row 1, field 'investment_cny_100m'", "a number >= 0")


def test_swapped_lon_lat(sources_copy, good_store):
    _edit_csv(sources_copy / "parks.csv", 4, "lon", "34.727")
    _edit_csv(sources_copy / "parks.csv", 4, "lat", "112.789")
    _expect_failure(sources_copy, good_store, "parks.csv, row 4, field 'lon'", "look swapped")


def test_point_outside_the_metro_area(sources_copy, good_store):
    _edit_csv(sources_copy / "institutions.csv", 2, "lon", "116.397")  # Beijing
    _edit_csv(sources_copy / "institutions.csv", 2, "lat", "39.909")
    _expect_failure(sources_copy, good_store, "institutions.csv, row 2, field 'lon'",
                    "outside the Luoyang metro area", "WGS84")


def test_point_in_another_district_than_named(sources_copy, good_store):
    _edit_csv(sources_copy / "parks.csv", 4, "district_code", "410482")  # says 汝州, lies in 偃师
    _expect_failure(sources_copy, good_store, "parks.csv, row 4, field 'district_code'",
                    "lies in 偃师区 (410307), not in 汝州市 (410482)")


def test_unknown_district_code(sources_copy, good_store):
    _edit_csv(sources_copy / "projects.csv", 6, "district_code", "410381")  # old 偃师市 code
    _expect_failure(sources_copy, good_store, "projects.csv, row 6, field 'district_code'",
                    "six-digit administrative code", "'410381'")


def test_duplicate_id(sources_copy, good_store):
    _edit_csv(sources_copy / "parks.csv", 5, "id", "yanshi-packaging-materials-park")
    _expect_failure(sources_copy, good_store, "parks.csv, row 5, field 'id'",
                    "duplicate id 'yanshi-packaging-materials-park'; first used in row 4")


def test_id_used_in_two_layers(sources_copy, good_store):
    _edit_csv(sources_copy / "projects.csv", 6, "id", "luo-gong")
    _expect_failure(sources_copy, good_store, "projects.csv, row 6, field 'id'", "already used in layer corridors")


def test_unknown_reference(sources_copy, good_store):
    _edit_csv(sources_copy / "projects.csv", 1, "park_id", "no-such-park")
    _expect_failure(sources_copy, good_store, "projects.csv, row 1, field 'park_id'", "unknown parks id 'no-such-park'")


def test_excerpt_too_long(sources_copy, good_store):
    _edit_csv(sources_copy / "parks.csv", 1, "source_excerpt", "很" * 41)
    _expect_failure(sources_copy, good_store, "parks.csv, row 1, field 'source_excerpt'", "at most 40 characters")


def test_invalid_line_geometry(sources_copy, good_store):
    path = sources_copy / "corridors.geojson"
    fc = json.loads(path.read_text(encoding="utf-8"))
    fc["features"][1]["geometry"]["coordinates"] = [[112.45, 34.62], [112.45, 34.62]]
    path.write_text(json.dumps(fc, ensure_ascii=False), encoding="utf-8")
    _expect_failure(sources_copy, good_store, "corridors.geojson, row 2, field 'geometry'", "at least two distinct")


def test_invalid_district_polygon(sources_copy, good_store, tmp_path):
    fc = json.loads(DEFAULT_BOUNDARIES.read_text(encoding="utf-8"))
    # a bow-tie: self-intersecting ring
    fc["features"][0]["geometry"] = {"type": "Polygon", "coordinates": [[[112.3, 34.6], [112.5, 34.8],
                                     [112.5, 34.6], [112.3, 34.8], [112.3, 34.6]]]}
    boundaries = tmp_path / "districts.geojson"
    boundaries.write_text(json.dumps(fc, ensure_ascii=False), encoding="utf-8")
    _expect_failure(sources_copy, good_store, "districts.geojson, row 1, field 'geometry'", "Self-intersection",
                    boundaries=boundaries)


def test_all_problems_are_reported_together(sources_copy):
    _edit_csv(sources_copy / "projects.csv", 1, "capacity_gwh", "x")
    _edit_csv(sources_copy / "parks.csv", 2, "status", "done")
    with pytest.raises(SourceErrors) as info:
        read_sources(sources_copy)
    assert len(info.value.errors) == 2
    assert info.value.to_dict()["errors"][0]["field"] in {"capacity_gwh", "status"}


def test_unreadable_csv(sources_copy, good_store):
    (sources_copy / "parks.csv").write_bytes("id,name_zh\n".encode("utf-16"))
    _expect_failure(sources_copy, good_store, "parks.csv")
