"""Tests of the ledger's import, first half: reading files, the header dictionary and row checks.

Real files throughout: XLSX written with xlsxwriter (formula cells with a cached value, date cells, a
title row), CSV in UTF-8 with BOM and GB18030, GeoJSON, GeoPackage, a zip bomb and a truncated XLSX;
rows checked against the real districts, parks and corridors (``geo.io.read_sources``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import struct
import unicodedata
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
import xlsxwriter
from python_calamine import CalamineWorkbook

from geo import crs
from geo.errors import ValidationError
from geo.io import read_sources
from geo.ledger import readers
from geo.ledger.headers import map_headers
from geo.ledger.readers import read_table
from geo.ledger.rows import (
    ImportContext,
    ParsedFile,
    RowMessage,
    derived_id,
    normalise_date,
    parse_figure,
    parse_file,
)
from geo.ledger.template import NOTES_SHEET, write_template
from geo.params import STUDY_AREA

DATA = Path(__file__).resolve().parents[1] / "data" / "ledger"
# A WGS84 point inside 偃师区 and the same place as an AMap (GCJ-02) picker gives it.
YANSHI_WGS = (112.79, 34.73)
YANSHI_GCJ = (112.79614, 34.728927)


@pytest.fixture(scope="module")
def layers() -> dict:
    return read_sources()


@pytest.fixture(scope="module")
def context(layers) -> ImportContext:
    return ImportContext.from_layers(layers)


@pytest.fixture(scope="module")
def districts(layers) -> gpd.GeoDataFrame:
    return layers["districts"].set_index("code")


def xlsx(rows: list[list[object]], *, sheet: str = "项目库", start_row: int = 0, formulas: dict | None = None,
         extra_sheets: tuple[str, ...] = ()) -> bytes:
    """An XLSX written by xlsxwriter; ``formulas`` maps (row, col) to (formula, cached value)."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    ws = book.add_worksheet(sheet)
    date_fmt = book.add_format({"num_format": "yyyy-mm-dd"})
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, dt.date):
                ws.write_datetime(start_row + r, c, dt.datetime.combine(value, dt.time()), date_fmt)
            else:
                ws.write(start_row + r, c, value)
    for (r, c), (formula, cached) in (formulas or {}).items():
        ws.write_formula(start_row + r, c, formula, None, cached)
    for name in extra_sheets:
        book.add_worksheet(name).write(0, 0, "x")
    book.close()
    return out.getvalue()


def csv_bytes(lines: list[str], encoding: str = "utf-8-sig") -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def parse_csv(context: ImportContext, lines: list[str], *, layer: str = "projects", crs_name: str = "wgs84"
              ) -> ParsedFile:
    return parse_file(csv_bytes(lines), "ledger.csv", layer=layer, context=context, crs=crs_name)


def by_row(parsed: ParsedFile) -> dict[int, dict]:
    return {r.row: r.record for r in parsed.rows}


def rejected(parsed: ParsedFile) -> dict[int, list[RowMessage]]:
    out: dict[int, list[RowMessage]] = {}
    for m in parsed.rejected:
        out.setdefault(m.row, []).append(m)
    return out


# --- XLSX -----------------------------------------------------------------------------------------

HEADERS = ["序号", "项目名称", "英文名称", "所在区县", "经度", "纬度", "项目状态", "总投资（亿元）", "产能（GWh）",
           "开工日期", "投产日期", "备注"]


@pytest.fixture(scope="module")
def office_xlsx() -> bytes:
    """Chinese headers, GCJ-02 coordinates, a formula whose cached value is used, a date cell, two bad rows."""
    rows = [
        HEADERS,
        [1, "偃师区电池箔项目", "Yanshi battery foil project", "偃师区", YANSHI_GCJ[0], YANSHI_GCJ[1], "在建", None,
         60.0, dt.date(2024, 3, 1), "2025-06", "测试"],
        [2, "洛龙区测试项目", None, "洛龙区", 112.4589, 34.6255, "投产", 3.5, None, "2023.05", "2024-05-01", None],
        [3, None, None, "偃师区", None, None, "在建", 1, None, None, None, "缺名称"],
        [],
        [5, "状态不明项目", None, "偃师区", None, None, "暂停", "十二", None, None, None, None],
        [6, "只给区县的项目", None, "偃师", None, None, "规划", "约20", None, "2024年二季度", None, None],
    ]
    # H2 holds =8+4 cached as 12, written by a tool that stored a different figure than the formula gives:
    # the cached value is what Excel showed, and the import never evaluates formulas.
    return xlsx(rows, formulas={(1, 7): ("=2+2", 12)})


def test_xlsx_office_file(context, office_xlsx):
    parsed = parse_file(office_xlsx, "项目库.xlsx", layer="projects", context=context, crs="gcj02")
    assert parsed.kind == "xlsx" and parsed.sheet == "项目库" and parsed.header_row == 1
    assert parsed.input_crs == "gcj02"
    assert parsed.columns["所在区县"] == "district_code" and parsed.columns["总投资（亿元）"] == "investment_cny_100m"
    assert parsed.ignored_columns == ["序号", "备注"]
    rows = by_row(parsed)
    # row numbers as Excel shows them: the empty row 5 is skipped, its number is not reused
    assert sorted(rows) == [2, 3, 7]
    assert sorted(rejected(parsed)) == [4, 6]
    first = rows[2]
    assert first["investment_cny_100m"] == 12.0  # the formula's cached value, not 2+2
    assert first["capacity_gwh"] == 60.0  # an integral float cell reads as 60
    assert first["start_date"] == "2024-03-01"  # a date cell
    assert first["planned_date"] == "2025-06" and first["planned_milestone_en"] == "start of operation"
    assert first["name_en"] == "Yanshi battery foil project"
    assert first["district_code"] == "410307" and first["location_precision"] == "site"
    assert first["lon"] == pytest.approx(YANSHI_WGS[0], abs=2e-6)
    assert first["lat"] == pytest.approx(YANSHI_WGS[1], abs=2e-6)
    assert rows[3]["status"] == "operating" and rows[3]["operation_date"] == "2024-05-01"
    assert rows[3]["start_date"] == "2023-05" and rows[3]["name_en"] is None
    assert rows[7]["investment_cny_100m"] == 20.0 and rows[7]["investment_cny_100m_qualifier"] == "approx"
    assert rows[7]["location_precision"] == "district" and rows[7]["start_date"] == "2024-Q2"
    bad = rejected(parsed)
    assert [m.column for m in bad[4]] == ["项目名称"]
    assert "缺少名称" in bad[4][0].message_zh and "name is missing" in bad[4][0].message_en
    cols = {m.column: m for m in bad[6]}
    assert set(cols) == {"项目状态", "总投资（亿元）"}
    assert cols["项目状态"].value == "暂停" and "在建" in cols["项目状态"].message_zh
    assert "under_construction" in cols["项目状态"].message_en
    assert cols["总投资（亿元）"].value == "十二" and "expected a number" in cols["总投资（亿元）"].message_en


def test_xlsx_title_row_keeps_excel_row_numbers(context):
    rows = [["洛阳市重点项目库（2024 年）"], [], ["项目名称", "区县", "状态"], ["项目甲", "偃师区", "在建"],
            ["项目乙", "不存在县", "在建"]]
    parsed = parse_file(xlsx(rows, start_row=1), "t.xlsx", layer="projects", context=context)
    # A2 title, A3 empty, A4 header: data rows are 5 and 6 as Excel shows them
    assert parsed.header_row == 4
    assert [r.row for r in parsed.rows] == [5]
    assert [(m.row, m.column, m.value) for m in parsed.rejected] == [(6, "区县", "不存在县")]


def test_xlsx_two_row_header(context):
    rows = [["序号", "项目名称", "坐标", None, "状态"], [None, None, "经度", "纬度", None],
            [1, "两行表头项目", YANSHI_GCJ[0], YANSHI_GCJ[1], "在建"]]
    parsed = parse_file(xlsx(rows), "t.xlsx", layer="projects", context=context, crs="gcj02")
    assert parsed.header_row == 2 and parsed.columns["经度"] == "lon" and parsed.columns["纬度"] == "lat"
    (row,) = parsed.rows
    assert row.row == 3 and row.record["district_code"] == "410307"


def test_xlsx_sheet_choice_and_unknown_sheet(context):
    data = xlsx([["名称", "区县"], ["甲", "偃师区"]], sheet="园区", extra_sheets=("项目",))
    assert read_table(data, "t.xlsx", "园区").rows == [["甲", "偃师区"]]
    assert read_table(data, "t.xlsx", None).sheet == "园区"
    assert read_table(data, "t.xlsx", None).sheets == ["园区", "项目"]
    with pytest.raises(ValidationError) as err:
        read_table(data, "t.xlsx", "计划")
    assert err.value.field == "file" and "园区" in str(err.value) and "项目" in str(err.value)
    assert "no sheet named" in str(err.value)


def test_truncated_xlsx_is_a_validation_error(office_xlsx):
    for data in (office_xlsx[: len(office_xlsx) // 2], office_xlsx[:100], b"PK\x03\x04" + b"\x00" * 50):
        with pytest.raises(ValidationError) as err:
            read_table(data, "项目库.xlsx", None)
        assert err.value.field == "file" and "XLSX" in str(err.value)


def test_extension_and_content_must_agree(office_xlsx):
    with pytest.raises(ValidationError, match="not XLSX"):
        read_table("名称,区县\n甲,偃师区\n".encode(), "项目库.xlsx", None)
    with pytest.raises(ValidationError, match="name it .xlsx"):
        read_table(office_xlsx, "项目库.csv", None)
    with pytest.raises(ValidationError, match="unsupported file type"):
        read_table(b"x", "项目库.docx", None)


def _zip(members: dict[str, bytes | int]) -> bytes:
    """A zip whose members are bytes, or an int: that many zero bytes, streamed (never held in memory)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            if isinstance(content, int):
                with archive.open(name, "w", force_zip64=True) as fh:
                    chunk = b"\x00" * (1 << 20)
                    for _ in range(content >> 20):
                        fh.write(chunk)
            else:
                archive.writestr(name, content)
    return out.getvalue()


def _declare_size(data: bytes, name: str, size: int) -> bytes:
    """Rewrite the uncompressed size a zip declares for one member (central directory and local header)."""
    buf = bytearray(data)
    encoded = name.encode()
    central = buf.find(b"PK\x01\x02")
    while central != -1:
        name_len = struct.unpack_from("<H", buf, central + 28)[0]
        if bytes(buf[central + 46: central + 46 + name_len]) == encoded:
            struct.pack_into("<I", buf, central + 24, size)
            local = struct.unpack_from("<I", buf, central + 42)[0]
            struct.pack_into("<I", buf, local + 22, size)
            return bytes(buf)
        central = buf.find(b"PK\x01\x02", central + 4)
    raise AssertionError(name)


def test_zip_bomb_is_refused_before_calamine():
    parts = {"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"}
    # a member inflating to 48 MB from ~50 kB: more than 100 times compressed
    bomb = _zip({**parts, "xl/worksheets/sheet1.xml": 48 << 20})
    assert len(bomb) < 200_000
    with pytest.raises(ValidationError, match="zip bomb") as err:
        read_table(bomb, "bomb.xlsx", None)
    assert err.value.field == "file" and "压缩炸弹" in str(err.value)
    # a member that says it is small but inflates to more than it declares
    liar = _declare_size(_zip({**parts, "xl/worksheets/sheet1.xml": 2 << 20}), "xl/worksheets/sheet1.xml", 1000)
    with pytest.raises(ValidationError, match="zip bomb"):
        readers.check_zip(liar)
    # more than 200 MB declared in total
    big = _declare_size(_zip({**parts, "xl/worksheets/sheet1.xml": b"<x/>"}), "xl/worksheets/sheet1.xml",
                        300 << 20)
    with pytest.raises(ValidationError, match="zip bomb"):
        readers.check_zip(big)
    # a zip that is not a workbook
    with pytest.raises(ValidationError, match="not an Excel workbook"):
        read_table(_zip({"a.txt": b"hello"}), "a.xlsx", None)


def test_sparse_xlsx_is_refused_before_calamine_allocates_it():
    """A cell in A1 and one in XFD1048576: calamine would allocate the whole rectangle (an abort, not an error)."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    small = book.add_worksheet("项目")
    small.write_row(0, 0, ["项目名称", "区县"])
    small.write_row(1, 0, ["甲", "偃师区"])
    huge = book.add_worksheet("草稿")
    huge.write(0, 0, "项目名称")
    huge.write(1_048_575, 16_383, "x")
    book.close()
    data = out.getvalue()
    assert read_table(data, "t.xlsx", "项目").rows == [["甲", "偃师区"]]  # only the sheet read is measured
    with pytest.raises(ValidationError, match="1048576 rows") as err:
        read_table(data, "t.xlsx", "草稿")
    assert err.value.field == "file"


def test_old_xls_is_refused_clearly():
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512
    with pytest.raises(ValidationError, match="unsupported file type"):
        read_table(ole, "项目库.xls", None)
    with pytest.raises(ValidationError, match="save it as .xlsx"):
        read_table(ole, "项目库.xlsx", None)


def test_size_row_and_cell_bounds(monkeypatch, context):
    with pytest.raises(ValidationError, match="limit of 20 MB") as err:
        read_table(b"a" * (readers.MAX_IMPORT_BYTES + 1), "big.csv", None)
    assert err.value.field == "file"
    lines = ["名称,区县"] + [f"项目{i},偃师区" for i in range(10)]
    monkeypatch.setattr(readers, "MAX_IMPORT_ROWS", 5)
    with pytest.raises(ValidationError, match="rows"):
        read_table(csv_bytes(lines), "t.csv", None)
    with pytest.raises(ValidationError, match="rows"):
        read_table(xlsx([line.split(",") for line in lines]), "t.xlsx", None)
    monkeypatch.setattr(readers, "MAX_IMPORT_ROWS", 100)
    monkeypatch.setattr(readers, "MAX_IMPORT_CELLS", 10)
    with pytest.raises(ValidationError, match="cells"):
        read_table(csv_bytes(lines), "t.csv", None)
    with pytest.raises(ValidationError, match="cells"):
        read_table(xlsx([line.split(",") for line in lines]), "t.xlsx", None)


# --- CSV ------------------------------------------------------------------------------------------


def test_csv_utf8_bom_gb18030_and_tabs(context):
    gb = (DATA / "projects_gb18030.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        gb.decode("utf-8")
    parsed_gb = parse_file(gb, "projects_gb18030.csv", layer="projects", context=context, crs="gcj02")
    text = gb.decode("gb18030")
    parsed_bom = parse_file(text.encode("utf-8-sig"), "p.csv", layer="projects", context=context, crs="gcj02")
    parsed_tab = parse_file(text.replace(",", "\t").replace('"12\t000"', "12000").encode("utf-8"), "p.tsv",
                            layer="projects", context=context, crs="gcj02")
    assert (parsed_gb.encoding, parsed_bom.encoding, parsed_tab.encoding) == ("gb18030", "utf-8-sig", "utf-8")
    assert read_table(text.replace(",", "\t").encode(), "p.tsv", None).delimiter == "\t"
    for parsed in (parsed_gb, parsed_bom, parsed_tab):
        rows = by_row(parsed)
        assert sorted(rows) == [2, 3]
        assert rows[2]["name_zh"] == "偃师区电池箔项目（测试）"
        assert rows[2]["investment_cny_100m"] == pytest.approx(1.2)  # 12,000 万元
        assert rows[2]["start_date"] == "2024-03"
        assert rows[3]["district_code"] == "410308"  # 孟津县, now 孟津区
        assert rows[3]["investment_cny_100m"] == pytest.approx(0.3)
        assert rows[3]["investment_cny_100m_qualifier"] == "approx"
        assert [m.row for m in parsed.rejected] == [4]  # no district, no coordinates: no position
    assert by_row(parsed_gb) == by_row(parsed_bom) == by_row(parsed_tab)


def test_unicode_text_export(context):
    """Excel's "Unicode text" export: UTF-16 with a BOM, tab-separated."""
    data = "\ufeff项目名称\t区县\r\n甲\t偃师区\r\n".encode("utf-16-le")
    parsed = parse_file(data, "项目库.txt", layer="projects", context=context)
    assert parsed.encoding == "utf-16" and by_row(parsed)[2]["district_code"] == "410307"


# --- GeoJSON and GeoPackage -----------------------------------------------------------------------


def test_geojson_points(context):
    data = (DATA / "projects.geojson").read_bytes()
    parsed = parse_file(data, "projects.geojson", layer="projects", context=context, crs="gcj02")
    assert parsed.kind == "geojson"
    assert set(parsed.ignored_columns) == {"经度", "纬度"}  # the geometry is the position
    rows = by_row(parsed)
    assert sorted(rows) == [1, 2]  # feature index + 1
    assert rows[1]["lon"] == pytest.approx(YANSHI_WGS[0], abs=2e-6) and rows[1]["location_precision"] == "site"
    assert rows[1]["investment_cny_100m"] == 12.0
    assert rows[2]["district_code"] == "410308" and rows[2]["location_precision"] == "district"
    assert rows[2]["investment_cny_100m_qualifier"] == "nearly"
    (bad,) = parsed.rejected
    assert (bad.row, bad.column, bad.value) == (3, "geometry", "LineString")
    assert "only points" in bad.message_en


def test_geojson_not_a_feature_collection():
    with pytest.raises(ValidationError, match="FeatureCollection"):
        read_table(json.dumps({"type": "Feature"}).encode(), "a.geojson", None)
    with pytest.raises(ValidationError, match="not valid JSON"):
        read_table(b"{nope", "a.geojson", None)


def test_gpkg_points(context, tmp_path):
    frame = gpd.GeoDataFrame(
        {"名称": ["偃师区电池箔项目", "孟津区项目", "多边形"], "区县": ["偃师区", "孟津区", "偃师区"],
         "总投资(万元)": [12000.0, None, 1.0], "开工日期": ["2024-03-01", None, None]},
        geometry=[shapely.Point(*YANSHI_WGS), None, shapely.box(112.7, 34.7, 112.8, 34.8)], crs="EPSG:4326")
    path = tmp_path / "ledger.gpkg"
    frame.iloc[:2].to_file(path, layer="项目", driver="GPKG")
    frame.to_file(path, layer="混合", driver="GPKG", mode="a")
    data = path.read_bytes()
    parsed = parse_file(data, "ledger.gpkg", layer="projects", context=context, sheet="项目")
    assert parsed.kind == "gpkg" and parsed.sheet == "项目" and parsed.sheets == ["项目", "混合"]
    rows = by_row(parsed)
    assert rows[1]["lon"] == YANSHI_WGS[0] and rows[1]["lat"] == YANSHI_WGS[1]
    assert rows[1]["investment_cny_100m"] == pytest.approx(1.2) and rows[1]["start_date"] == "2024-03-01"
    assert rows[2]["location_precision"] == "district" and rows[2]["district_code"] == "410308"
    mixed = parse_file(data, "ledger.gpkg", layer="projects", context=context, sheet="混合")
    assert [(m.row, m.value) for m in mixed.rejected] == [(3, "Polygon")]
    with pytest.raises(ValidationError, match="no layer named"):
        read_table(data, "ledger.gpkg", "计划")
    with pytest.raises(ValidationError) as err:
        read_table(data[: len(data) // 3], "ledger.gpkg", None)
    assert err.value.field == "file" and "GeoPackage" in str(err.value)


# --- coordinates ----------------------------------------------------------------------------------


def test_gcj02_near_luoyang_moves_574m_west_113m_north(context):
    wgs = (112.45, 34.62)
    glon, glat = crs.wgs84_to_gcj02(*wgs)
    parsed = parse_csv(context, ["名称,经度,纬度", f"洛阳测试点,{glon:.9f},{glat:.9f}"], crs_name="gcj02")
    (row,) = parsed.rows
    lon, lat = row.record["lon"], row.record["lat"]
    assert (lon, lat) == (round(lon, 7), round(lat, 7))
    assert lon == pytest.approx(wgs[0], abs=1.5e-7) and lat == pytest.approx(wgs[1], abs=1.5e-7)
    assert (lon, lat) == pytest.approx(crs.gcj02_to_wgs84(glon, glat), abs=1e-7)
    west_m = crs.geodesic_distance_m(glon, lat, lon, lat)
    north_m = crs.geodesic_distance_m(lon, glat, lon, lat)
    assert lon < glon and lat > glat  # WGS84 = GCJ-02 minus the offset: west and north of the input
    assert 569 < west_m < 579 and 108 < north_m < 118
    assert row.record["district_code"] == "410311"
    assert row.record["location_precision"] == "site"
    assert row.record["location_note_en"].startswith("coordinates from the import, given in GCJ-02")
    assert "GCJ-02" in row.record["location_note_zh"] and "坐标来自导入文件" in row.record["location_note_zh"]


@pytest.mark.parametrize("system", ["bd09", "cgcs2000", "wgs84"])
def test_other_coordinate_systems(context, system):
    x, y = crs.from_wgs84(*YANSHI_WGS, system)
    parsed = parse_csv(context, ["名称,经度,纬度", f"点,{x:.9f},{y:.9f}"], crs_name=system)
    record = parsed.rows[0].record
    assert (record["lon"], record["lat"]) == pytest.approx(YANSHI_WGS, abs=2e-7)
    label = {"bd09": "BD-09", "cgcs2000": "CGCS2000", "wgs84": "WGS84"}[system]
    assert record["location_note_en"].startswith(f"coordinates from the import, given in {label}")


def test_unknown_crs_and_layer(context):
    with pytest.raises(ValidationError) as err:
        parse_csv(context, ["名称", "甲"], crs_name="utm")
    assert err.value.field == "crs"
    with pytest.raises(ValidationError) as err:
        parse_csv(context, ["名称", "甲"], layer="districts")
    assert err.value.field == "layer"


def test_swapped_lon_lat_and_outside_study_area(context):
    parsed = parse_csv(context, ["名称,经度,纬度,区县", "填反了,34.73,112.79,偃师区", "北京,116.39,39.91,",
                                 "只有经度,112.5,,", "坏经度,东经一百,34.6,", "度分秒,112°47'24\",34°43'48\",偃师区"])
    bad = rejected(parsed)
    assert sorted(bad) == [2, 3, 4, 5]
    (swap,) = bad[2]
    assert swap.column == "经度" and swap.value == "34.73, 112.79"
    assert "swapped?" in swap.message_en and "填反" in swap.message_zh
    (outside,) = bad[3]
    west = STUDY_AREA[0]
    assert "outside the Luoyang metro area" in outside.message_en and f"{west:g}" in outside.message_en
    assert "不在洛阳都市圈范围内" in outside.message_zh
    assert bad[4][0].column == "纬度" and "both lon and lat" in bad[4][0].message_en
    assert bad[5][0].value == "东经一百"
    dms = by_row(parsed)[6]
    assert (dms["lon"], dms["lat"]) == pytest.approx((112.79, 34.73), abs=1e-6)


# --- districts ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("given", "code", "zone"), [
    ("偃师区", "410307", None), ("偃师", "410307", None), ("410307", "410307", None),
    ("偃师市", "410307", None), ("洛阳市偃师区", "410307", None), ("Yanshi District", "410307", None),
    ("孟津县", "410308", None), ("吉利区", "410308", None), ("410306", "410308", None), ("孟津", "410308", None),
    ("伊滨区", "410311", "伊滨区"), ("洛龙区", "410311", None), ("瀍河", "410304", None),
    ("济源市", "419001", None), ("巩义", "410181", None),
])
def test_district_fallback_and_historical_names(context, districts, given, code, zone):
    parsed = parse_csv(context, ["项目名称,区县", f"测试项目,{given}"])
    (row,) = parsed.rows
    record = row.record
    assert record["district_code"] == code
    assert record["location_precision"] == "district"
    polygon = districts.loc[code, "geometry"]
    point = shapely.point_on_surface(polygon)
    assert (record["lon"], record["lat"]) == (round(point.x, 7), round(point.y, 7))
    assert polygon.covers(shapely.Point(record["lon"], record["lat"]))
    assert record.get("functional_zone_zh") == zone
    name = districts.loc[code, "name_zh"]
    assert f"位置为{name}内代表点（区县精度）" in record["location_note_zh"]
    assert f"placed at a representative point of {name} (district precision)" in record["location_note_en"]
    assert not row.warnings


def test_district_notes_exact_text(context):
    record = parse_csv(context, ["项目名称,区县", "测试项目,偃师区"]).rows[0].record
    assert record["location_note_zh"] == "只给出区县，位置为偃师区内代表点（区县精度）"
    assert record["location_note_en"] == ("the row gives only the district; placed at a representative point of "
                                          "偃师区 (district precision)")
    historical = parse_csv(context, ["项目名称,区县", "测试项目,偃师市"]).rows[0].record
    assert historical["location_note_zh"] == "只给出区县（偃师市，今偃师区），位置为偃师区内代表点（区县精度）"


def test_address_only_is_rejected_and_unknown_district(context):
    parsed = parse_csv(context, ["项目名称,地址,区县", "甲,洛阳市偃师区首阳山街道,", "乙,,", "丙,某地,火星区"])
    bad = rejected(parsed)
    assert not parsed.rows
    assert "add 区县 (district) or lon/lat" in bad[2][0].message_en and "请补充「区县」或经纬度" in bad[2][0].message_zh
    assert "no position" in bad[3][0].message_en
    assert [(m.column, m.value) for m in bad[4]] == [("区县", "火星区")]
    assert "unknown district" in bad[4][0].message_en


def _yanshi_east_edge(districts) -> tuple[float, float]:
    """A WGS84 point ~275 m inside 偃师区's eastern edge whose GCJ-02 coordinates lie outside it."""
    polygon = districts.loc["410307", "geometry"]
    for lat in np.arange(34.55, 34.80, 0.005):
        line = shapely.LineString([(112.6, lat), (113.1, lat)])
        east = shapely.intersection(polygon, line).bounds[2]
        point = (east - 0.003, float(lat))
        gcj = crs.wgs84_to_gcj02(*point)
        if polygon.covers(shapely.Point(point)) and not polygon.covers(shapely.Point(gcj)):
            return point
    raise AssertionError("no such point")


def test_gcj02_declared_as_wgs84_is_warned(context, districts):
    true = _yanshi_east_edge(districts)
    glon, glat = crs.wgs84_to_gcj02(*true)
    parsed = parse_csv(context, ["项目名称,区县,经度,纬度", f"边界项目,偃师区,{glon:.7f},{glat:.7f}"],
                       crs_name="wgs84")
    (row,) = parsed.rows  # a warning keeps the row
    (warning,) = row.warnings
    assert warning.column == "区县" and warning.value == "偃师区"
    assert "typical sign of GCJ-02 coordinates declared as WGS84" in warning.message_en
    assert "GCJ-02" in warning.message_zh and "偃师区" in warning.message_zh
    assert " m from 偃师区" in warning.message_en or " km from 偃师区" in warning.message_en
    assert row.record["district_code"] != "410307"  # the district of the point, named in the warning
    assert row.record["district_code"] in warning.message_en
    # declared right, the same row is inside and quiet
    right = parse_csv(context, ["项目名称,区县,经度,纬度", f"边界项目,偃师区,{glon:.7f},{glat:.7f}"],
                      crs_name="gcj02")
    assert right.rows[0].warnings == [] and right.rows[0].record["district_code"] == "410307"


def test_coordinates_and_district_disagree(context, districts):
    parsed = parse_csv(context, ["项目名称,区县,经度,纬度", "错区县,偃师区,112.4589,34.6255"])
    (row,) = parsed.rows
    (warning,) = row.warnings
    assert "lies in 洛龙区 (410311)" in warning.message_en and "km from 偃师区 (410307)" in warning.message_en
    assert "typical sign" not in warning.message_en
    assert "坐标与区县不一致" in warning.message_zh and "公里" in warning.message_zh
    assert row.record["district_code"] == "410311"


# --- numbers, units, qualifiers -------------------------------------------------------------------


@pytest.mark.parametrize(("text", "value", "qualifier"), [
    ("12", "12", None), ("1,200", "1200", None), ("1 200", "1200", None), ("１２００", "1200", None),
    ("1,200.5", "1200.5", None), ("约20", "20", "approx"), ("近20", "20", "nearly"), ("20多", "20", "more_than"),
    ("20余", "20", "more_than"), ("20以上", "20", "more_than"), ("不到20", "20", "less_than"),
    ("20左右", "20", "approx"), ("约２０", "20", "approx"), ("0.5", "0.5", None),
])
def test_parse_figure(text, value, qualifier):
    number, q = parse_figure(text)
    assert str(number.normalize()) == str(type(number)(value).normalize()) and q == qualifier


@pytest.mark.parametrize("text", ["abc", "1,2", "12.3.4", "约", "二十", "-5%", "1e5", "约20多"])
def test_parse_figure_rejects(text):
    with pytest.raises(Exception) as err:
        parse_figure(text)
    assert type(err.value).__name__ == "_CellError"


def test_wan_yuan_converted_to_yi_yuan(context):
    parsed = parse_csv(context, ["项目名称,区县,计划总投资（万元）,产能(万吨/年)", '甲,偃师区,"12,000",15',
                                 "乙,偃师区,约3000万元,", "丙,偃师区,20余,", "丁,偃师区,5亿元,"])
    assert parsed.units["计划总投资（万元）"].startswith("万元 → 亿元")
    rows = by_row(parsed)
    assert rows[2]["investment_cny_100m"] == pytest.approx(1.2) and rows[2]["capacity_kt_per_yr"] == 150.0
    assert rows[3]["investment_cny_100m"] == 0.3 and rows[3]["investment_cny_100m_qualifier"] == "approx"
    assert rows[4]["investment_cny_100m"] == 0.002 and rows[4]["investment_cny_100m_qualifier"] == "more_than"
    (unit_clash,) = rejected(parsed)[5]  # a cell in 亿元 under a 万元 header
    assert unit_clash.value == "5亿元" and "differs from the header's unit" in unit_clash.message_en


def test_investment_header_without_unit(context):
    parsed = parse_csv(context, ["项目名称,区县,总投资", "甲,偃师区,12", "乙,偃师区,"])
    header_problem, row_problem = parsed.rejected
    assert (header_problem.row, header_problem.column) == (1, "总投资")
    assert "亿元 或 万元" in header_problem.message_zh and "put 亿元" in header_problem.message_en
    assert (row_problem.row, row_problem.column, row_problem.value) == (2, "总投资", "12")
    assert [r.row for r in parsed.rows] == [3]
    assert "investment_cny_100m" not in parsed.rows[0].record


def test_qualifier_where_the_schema_has_no_qualifier_column(context):
    parsed = parse_csv(context, ["项目名称,区县,产能（GWh）", "甲,偃师区,约60", "乙,偃师区,60"])
    (msg,) = parsed.rejected
    assert msg.row == 2 and msg.value == "约60" and "exact figures only" in msg.message_en
    assert by_row(parsed)[3]["capacity_gwh"] == 60.0


# --- statuses, parks, corridors, catalogues, dates ------------------------------------------------


def test_status_park_corridor_and_catalogue_lookups(context):
    parsed = parse_csv(context, [
        "项目名称,区县,状态,所属园区,产业带,行业,产业链环节",
        "甲,偃师区,拟建,偃师新型包装材料产业园,洛巩,电池箔,铜箔/铝箔",
        "乙,偃师区,operating,Luoyang New Energy Industrial Park,luo-ji-jiao,battery-cells,cell",
        "丙,偃师区,under_construction,luoyang-new-energy-park,洛渑新材料产业带,新兴产业,电芯",
        "丁,偃师区,停工,某园区,某产业带,电池箔,未知环节",
    ])
    rows = by_row(parsed)
    assert (rows[2]["status"], rows[2]["park_id"], rows[2]["corridor_id"]) == (
        "planned", "yanshi-packaging-materials-park", "luo-gong")
    assert (rows[2]["industry"], rows[2]["chain_link"]) == ("battery-foil", "foil")
    assert (rows[3]["status"], rows[3]["park_id"], rows[3]["corridor_id"]) == (
        "operating", "luoyang-new-energy-park", "luo-ji-jiao")
    bad = rejected(parsed)
    assert [m.column for m in bad[4]] == ["行业"]
    assert {m.column for m in bad[5]} == {"状态", "所属园区", "产业带", "产业链环节"}
    assert all(m.message_zh and m.message_en and m.value for m in bad[5])


@pytest.mark.parametrize(("text", "expected"), [
    ("2024-03-01", "2024-03-01"), ("2024/3/1", "2024-03-01"), ("2024年3月1日", "2024-03-01"),
    ("2024.03", "2024-03"), ("2024年3月", "2024-03"), ("2024-3", "2024-03"), ("2024", "2024"),
    ("2024年", "2024"), ("2024年底", "2024"), ("2024Q2", "2024-Q2"), ("2024年第二季度", "2024-Q2"),
    ("2024-03-01 00:00:00", "2024-03-01"), ("２０２４－０３", "2024-03"),
])
def test_normalise_date(text, expected):
    assert normalise_date(text) == expected


@pytest.mark.parametrize("text", ["2024-02-30", "2024-13", "2024.1", "明年", "24-03", "1800"])
def test_bad_dates_are_rejected(context, text):
    parsed = parse_csv(context, ["项目名称,区县,开工日期", f"甲,偃师区,{text}"])
    (msg,) = parsed.rejected
    assert (msg.row, msg.column, msg.value) == (2, "开工日期", text)
    assert msg.message_zh and msg.message_en


# --- ids ------------------------------------------------------------------------------------------


def test_ids_from_file_derived_and_duplicates(context):
    lines = ["编号,项目名称,英文名称,区县", "yanshi-foil-2,偃师电池箔,,偃师区", "Prj 01,坏编号,,偃师区",
             ",自动 编号 项目,,偃师区", ",自动编号项目,,偃师区", "yanshi-foil-2,重复编号,,偃师区"]
    first, second = parse_csv(context, lines), parse_csv(context, lines)
    rows = by_row(first)
    assert rows[2]["id"] == "yanshi-foil-2" and first.rows[0].id_from_file
    assert rows[2]["name_en"] is None  # never invented
    key = unicodedata.normalize("NFKC", "自动编号项目")
    assert rows[4]["id"] == "prj-" + hashlib.sha1(key.encode()).hexdigest()[:10] == derived_id("projects", "自动 编号 项目")
    assert [r.record["id"] for r in first.rows] == [r.record["id"] for r in second.rows]
    bad = rejected(first)
    assert sorted(bad) == [3, 5, 6]
    assert bad[3][0].column == "编号" and "slug" in bad[3][0].message_en
    assert "same name as row 4" in bad[5][0].message_en
    assert "repeats row 2" in bad[6][0].message_en
    assert derived_id("parks", "甲").startswith("park-") and derived_id("institutions", "甲").startswith("inst-")


def test_no_name_column_is_a_file_error(context):
    with pytest.raises(ValidationError) as err:
        parse_csv(context, ["区县,状态", "偃师区,在建"])
    assert err.value.field == "file" and "name column" in str(err.value) and "名称列" in str(err.value)


# --- headers --------------------------------------------------------------------------------------


def test_header_dictionary():
    headers = ["项目名称", " 英文 名称 ", "ID", "Longitude", "LAT", "县（市、区）", "详细地址", "项目状态",
               "总投资（亿元）", "产能 (GWh)", "所属园区", "Corridor", "产业链环节", "行业", "企业名称",
               "开工时间", "投产日期", "资料来源", "经纬度", "奇怪的列"]
    mapped = map_headers(headers, "projects")
    fields = {c.header: c.field for c in mapped.columns}
    assert fields == {
        "项目名称": "name_zh", "英文 名称": "name_en", "ID": "id", "Longitude": "lon", "LAT": "lat",
        "县（市、区）": "district_code", "详细地址": "address_zh", "项目状态": "status",
        "总投资（亿元）": "investment_cny_100m", "产能 (GWh)": "capacity_gwh", "所属园区": "park_id",
        "Corridor": "corridor_id", "产业链环节": "chain_link", "行业": "industry", "企业名称": "firm_zh",
        "开工时间": "start_date", "投产日期": "operation_date", "资料来源": "source_note_zh", "经纬度": "lonlat",
    }
    assert mapped.ignored == ["奇怪的列"]
    # layer-aware: in a parks file 园区名称 is the name and 所属园区 the parent park
    parks = {c.header: c.field for c in map_headers(["园区名称", "所属园区", "类型", "产能(GWh)"], "parks").columns}
    assert parks == {"园区名称": "name_zh", "所属园区": "parent_park_id", "类型": "kind"}
    units = {c.header: (c.field, c.scale) for c in map_headers(
        ["投资额(万元)", "产能（千吨/年）"], "projects").columns}
    assert units["投资额(万元)"][0] == "investment_cny_100m" and float(units["投资额(万元)"][1]) == 1e-4
    assert units["产能（千吨/年）"] == ("capacity_kt_per_yr", 1)


def test_header_crs_must_match_the_declared_crs(context):
    lines = ["项目名称,经度（GCJ-02）,纬度", f"甲,{YANSHI_GCJ[0]},{YANSHI_GCJ[1]}"]
    assert parse_csv(context, lines, crs_name="gcj02").rows
    wrong = parse_csv(context, lines, crs_name="wgs84")
    assert not wrong.rows
    assert wrong.rejected[0].row == 1 and "declares wgs84" in wrong.rejected[0].message_en


# --- template -------------------------------------------------------------------------------------


@pytest.mark.parametrize("layer", ["projects", "parks", "institutions"])
def test_template_reads_back_one_valid_row(context, layer, tmp_path):
    path = tmp_path / f"{layer}.xlsx"
    write_template(layer, path)
    data = path.read_bytes()
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    assert NOTES_SHEET in book.sheet_names and len(book.sheet_names) == 2
    notes = "\n".join(" ".join(map(str, r)) for r in book.get_sheet_by_name(NOTES_SHEET).to_python())
    for word in ("GCJ-02", "BD-09", "CGCS2000", "under_construction", "亿元", "万元", "在建"):
        assert word in notes
    parsed = parse_file(data, path.name, layer=layer, context=context, crs="gcj02")
    assert parsed.rejected == [] and parsed.ignored_columns == [] and parsed.warnings == []
    (row,) = parsed.rows
    assert row.row == 2
    assert "示例" in row.record["name_zh"]
    assert row.record["district_code"] == "410307" and row.record["location_precision"] == "site"
    assert (row.record["lon"], row.record["lat"]) == pytest.approx(YANSHI_WGS, abs=1e-6)
    # every header of the template is one of the dictionary's
    assert len(parsed.columns) == len(book.get_sheet_by_name(book.sheet_names[0]).to_python()[0])
    stream = io.BytesIO()
    write_template(layer, stream)
    assert stream.getvalue()[:2] == b"PK"
