"""The import template: an XLSX an office fills in and imports as it is.

:func:`write_template` writes, for one layer, a sheet with ONE header row of bilingual headers
(``项目名称（必填） name_zh``) that the header dictionary (:mod:`geo.ledger.headers`) reads back, one example
row (a Luoyang example, marked as such in its name, with GCJ-02 coordinates as an AMap picker gives
them), and a second sheet ``说明 notes`` explaining each column, the statuses, the units and the
coordinate systems in Chinese and English.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from geo.ledger.headers import IMPORT_LAYERS
from geo.params import STUDY_AREA

if TYPE_CHECKING:
    from xlsxwriter.format import Format
    from xlsxwriter.worksheet import Worksheet

#: The name of the notes sheet.
NOTES_SHEET = "说明 notes"
#: The name of the data sheet, per layer.
DATA_SHEETS = {"projects": "项目 projects", "parks": "园区 parks", "institutions": "机构 institutions"}
#: The coordinate system of the example row's lon/lat (as an AMap or Tencent picker gives them).
EXAMPLE_CRS = "gcj02"


@dataclass(frozen=True)
class TemplateColumn:
    """One column of the template: its bilingual header, an example value and its explanation."""

    header: str
    example: str
    note_zh: str
    note_en: str


_NAME_NOTE = (
    "中文名称，必填；没有“编号”时由名称生成稳定编号，同一名称再次导入得到同一编号",
    ("Chinese name, required; without an id a stable id is derived from it, so importing the same name again "
    "gives the same id"),
)
_NAME_EN_NOTE = ("英文名称，可空；空着时不会自动翻译", "English name, optional; left empty, never machine-translated")
_ID_NOTE = (
    "编号，可空；填写时只能用小写字母、数字和连字符（如 yanshi-foil-phase-2）",
    "id, optional; if given, lower-case letters, digits and hyphens only (e.g. yanshi-foil-phase-2)",
)
_DISTRICT_NOTE = (
    ("区县名称或 6 位区划代码，如 偃师区、偃师、410307；旧称 偃师市、孟津县、吉利区 和功能区 伊滨区 也可识别；"
    "没有经纬度时，记录放在该区县内的代表点（区县精度）"),
    ("district name or six-digit code, e.g. 偃师区, 偃师, 410307; former names (偃师市, 孟津县, 吉利区) and the "
    "functional zone 伊滨区 are understood; without lon/lat the record is placed at a representative point of "
    "the district (district precision)"),
)
_ADDRESS_NOTE = (
    "详细地址，随记录保存；不做地址解析：只有地址、没有区县和经纬度的行会被拒绝",
    ("street address, kept with the record; it is not geocoded: a row with only an address (no district, no "
    "lon/lat) is rejected"),
)
_LON_NOTE = (
    "经度（十进制度）；坐标系在导入时选择：WGS84、GCJ-02（高德/腾讯）、BD-09（百度）或 CGCS2000",
    ("longitude (decimal degrees), in the coordinate system chosen at import: WGS84, GCJ-02 (AMap/Tencent), "
    "BD-09 (Baidu) or CGCS2000"),
)
_LAT_NOTE = (
    "纬度（十进制度），与经度同一坐标系；经纬度填反会被指出",
    "latitude (decimal degrees), same system as lon; swapped lon/lat are caught",
)
_STATUS_NOTE = (
    "状态：规划/拟建、在建、运营/投产/建成、探索、未知（或英文代码）",
    ("status: 规划/拟建 planned, 在建 under_construction, 运营/投产/建成 operating, 探索 exploratory, 未知 unknown "
    "(or the English codes)"),
)
_SOURCE_NOTE = ("资料来源（自由文本），随记录保存", "source of the row (free text), kept with the record")
_PARK_NOTE = ("所属园区：园区编号、中文名称或英文名称", "the park: its id, Chinese name or English name")
_CORRIDOR_NOTE = (
    "所属产业带：编号或名称，如 洛巩高端装备产业带（或 洛巩、luo-gong）",
    "the industrial belt: id or name, e.g. 洛巩高端装备产业带 (or 洛巩, luo-gong)",
)
_CHAIN_NOTE = (
    "产业链环节：环节编号或名称，如 铜箔/铝箔（foil）、电芯（cell）",
    "chain link: id or name, e.g. 铜箔/铝箔 (foil), 电芯 (cell)",
)

_EXAMPLE_LON, _EXAMPLE_LAT = "112.79614", "34.728927"  # GCJ-02 of WGS84 (112.79, 34.73), inside 偃师区

COLUMNS: dict[str, tuple[TemplateColumn, ...]] = {
    "projects": (
        TemplateColumn("项目名称（必填） name_zh", "示例：偃师区电池箔二期项目（请删除本行）", *_NAME_NOTE),
        TemplateColumn("英文名称 name_en", "Example: Yanshi battery foil project, phase II (delete this row)",
                       *_NAME_EN_NOTE),
        TemplateColumn("编号 id", "", *_ID_NOTE),
        TemplateColumn("区县 district", "偃师区", *_DISTRICT_NOTE),
        TemplateColumn("地址 address_zh", "洛阳市偃师区（示例地址）", *_ADDRESS_NOTE),
        TemplateColumn("经度 lon", _EXAMPLE_LON, *_LON_NOTE),
        TemplateColumn("纬度 lat", _EXAMPLE_LAT, *_LAT_NOTE),
        TemplateColumn("状态 status", "在建", *_STATUS_NOTE),
        TemplateColumn("总投资（亿元） investment_cny_100m", "约12",
                       "总投资，单位亿元；可写 约12、近12、12余；列名写（万元）时按万元填写，自动换算为亿元",
                       "total investment in 亿元 (100 million CNY); 约12 (approx), 近12 (nearly), 12余 (more than) "
                       "are kept as qualifiers; with (万元) in the header give 万元, converted to 亿元"),
        TemplateColumn("产能（GWh） capacity_gwh", "", "电池产能，单位 GWh（只记确切数值）",
                       "battery capacity in GWh (exact figures only)"),
        TemplateColumn("产能（千吨/年） capacity_kt_per_yr", "150",
                       "材料产能，单位千吨/年；列名写（万吨/年）时按万吨/年填写，自动换算（只记确切数值）",
                       "material capacity in kt/yr; with (万吨/年) in the header give 10 kt/yr, converted (exact "
                       "figures only)"),
        TemplateColumn("所属园区 park_id", "", *_PARK_NOTE),
        TemplateColumn("产业带 corridor_id", "", *_CORRIDOR_NOTE),
        TemplateColumn("行业 industry", "电池箔", "行业：行业目录中的编号或名称，如 电池箔（battery-foil）",
                       "industry: an id or name of the industry catalogue, e.g. 电池箔 (battery-foil)"),
        TemplateColumn("产业链环节 chain_link", "铜箔/铝箔", *_CHAIN_NOTE),
        TemplateColumn("企业名称 firm_zh", "示例新材料有限公司", "建设企业", "the firm building the project"),
        TemplateColumn("开工日期 start_date", "2024-03", "开工日期：2024-03-01、2024-03、2024-Q2 或 2024",
                       "construction start: 2024-03-01, 2024-03, 2024-Q2 or 2024"),
        TemplateColumn("投产日期 operation_date", "2025-06",
                       "投产日期；项目尚未运营时记为计划日期（planned_date，里程碑 start of operation）",
                       "start of operation; for a project not yet operating it is kept as planned_date (milestone "
                       "'start of operation')"),
        TemplateColumn("来源 source_note_zh", "示例：县发展改革委重点项目库（2024 年）", *_SOURCE_NOTE),
    ),
    "parks": (
        TemplateColumn("园区名称（必填） name_zh", "示例：偃师区新材料产业园（请删除本行）", *_NAME_NOTE),
        TemplateColumn("英文名称 name_en", "Example: Yanshi New Materials Industrial Park (delete this row)",
                       *_NAME_EN_NOTE),
        TemplateColumn("编号 id", "", *_ID_NOTE),
        TemplateColumn("类型 kind", "园区", "类型：园区 park、基地 base、片区 zone、社区 community、飞地 enclave",
                       "kind: 园区 park, 基地 base, 片区 zone, 社区 community, 飞地 enclave"),
        TemplateColumn("上级园区 parent_park_id", "", "上级园区（编号或名称），可空", "parent park (id or name), optional"),
        TemplateColumn("区县 district", "偃师区", *_DISTRICT_NOTE),
        TemplateColumn("地址 address_zh", "洛阳市偃师区（示例地址）", *_ADDRESS_NOTE),
        TemplateColumn("经度 lon", _EXAMPLE_LON, *_LON_NOTE),
        TemplateColumn("纬度 lat", _EXAMPLE_LAT, *_LAT_NOTE),
        TemplateColumn("状态 status", "在建", *_STATUS_NOTE),
        TemplateColumn("主题 themes", "new-materials", "产业主题：英文编号，以分号分隔，如 new-materials;packaging-materials",
                       "themes: slugs separated by ';', e.g. new-materials;packaging-materials"),
        TemplateColumn("产业带 corridor_id", "", *_CORRIDOR_NOTE),
        TemplateColumn("签约投资（亿元） signed_investment_cny_100m", "", "已签约项目的投资额，单位亿元（确切数值）",
                       "investment of the signed projects in 亿元 (exact figure)"),
        TemplateColumn("来源 source_note_zh", "示例：县发展改革委园区台账（2024 年）", *_SOURCE_NOTE),
    ),
    "institutions": (
        TemplateColumn("机构名称（必填） name_zh", "示例：偃师区某新材料研究院（请删除本行）", *_NAME_NOTE),
        TemplateColumn("英文名称 name_en", "", *_NAME_EN_NOTE),
        TemplateColumn("编号 id", "", *_ID_NOTE),
        TemplateColumn("类型 kind", "创新平台",
                       "类型：大学 university、学院 college、创新平台 innovation_platforms、企业 firm、开发商 developer、"
                       "运营商 operator",
                       "kind: 大学 university, 学院 college, 创新平台 innovation_platforms, 企业 firm, 开发商 developer, "
                       "运营商 operator"),
        TemplateColumn("产业链环节 chain_link", "", *_CHAIN_NOTE),
        TemplateColumn("所属园区 park_id", "", *_PARK_NOTE),
        TemplateColumn("区县 district", "偃师区", *_DISTRICT_NOTE),
        TemplateColumn("地址 address_zh", "洛阳市偃师区（示例地址）", *_ADDRESS_NOTE),
        TemplateColumn("经度 lon", _EXAMPLE_LON, *_LON_NOTE),
        TemplateColumn("纬度 lat", _EXAMPLE_LAT, *_LAT_NOTE),
        TemplateColumn("来源 source_note_zh", "示例：市科技局创新平台名单（2024 年）", *_SOURCE_NOTE),
    ),
}

_STATUS_ROWS = (
    ("planned", "规划、拟建、计划、筹建、签约", "planned, signed, not started"),
    ("under_construction", "在建、施工、开工、续建", "under construction"),
    ("operating", "运营、投产、建成、竣工", "operating, in production"),
    ("exploratory", "探索、研究、意向、洽谈", "exploratory, under study"),
    ("unknown", "未知、不详", "unknown"),
)
_UNIT_ROWS = (
    ("总投资（亿元）/（万元）", "金额写在列名的括号里；万元自动除以 10000 换算为亿元；没有单位的“总投资”列不予读取",
     "the unit goes in the header; 万元 are divided by 10,000 into 亿元; a 总投资 column without a unit is refused"),
    ("产能（GWh）/（万吨/年）/（千吨/年）", "电池写 GWh，材料写 万吨/年 或 千吨/年（万吨/年 乘 10 换算为千吨/年）",
     "batteries in GWh, materials in 万吨/年 (x10 to kt/yr) or 千吨/年 (kt/yr)"),
    ("约 / 近 / 余、多、以上 / 不到", "修饰词随数值保存（approx、nearly、more_than、less_than），不会显示为确切数",
     "qualifiers are kept with the figure (approx, nearly, more_than, less_than), never shown as exact"),
    ("1,200 / 1 200 / １２００", "千位分隔符和全角数字均可", "thousands separators and full-width digits are read"),
)
_CRS_ROWS = (
    ("wgs84", "WGS84：GPS、奥维地图（默认）、OpenStreetMap", "WGS84: GPS and OpenStreetMap (the default)"),
    ("gcj02", "GCJ-02：高德地图、腾讯地图的坐标拾取器", "GCJ-02: the AMap (Gaode) and Tencent coordinate pickers"),
    ("bd09", "BD-09：百度地图的坐标拾取器", "BD-09: the Baidu coordinate picker"),
    ("cgcs2000", "CGCS2000：国家 2000 大地坐标系（经纬度）", "CGCS2000: China's geodetic datum (lon/lat)"),
)


def _width(text: str) -> int:
    """Display width of a text in Excel columns (CJK characters count double)."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def write_template(layer: str, out: BinaryIO | Path) -> None:
    """Write the XLSX import template of ``layer`` (example lon/lat in GCJ-02) to a path or binary stream."""
    import xlsxwriter

    if layer not in COLUMNS:
        raise ValueError(f"unknown layer {layer!r}; expected one of {', '.join(IMPORT_LAYERS)}")
    target = str(out) if isinstance(out, Path) else out
    book = xlsxwriter.Workbook(target, {"in_memory": True, "strings_to_numbers": False})
    try:
        head = book.add_format({"bold": True, "bg_color": "#DCE6F1", "border": 1, "text_wrap": True,
                                "valign": "vcenter"})
        example = book.add_format({"italic": True, "font_color": "#7F7F7F"})
        wrap = book.add_format({"text_wrap": True, "valign": "top"})
        bold = book.add_format({"bold": True})
        columns = COLUMNS[layer]
        sheet = book.add_worksheet(DATA_SHEETS[layer])
        for col, column in enumerate(columns):
            sheet.write_string(0, col, column.header, head)
            sheet.write_string(1, col, column.example, example)
            sheet.set_column(col, col, min(max(_width(column.header), _width(column.example)) + 2, 48))
        sheet.set_row(0, 32)
        sheet.freeze_panes(1, 1)
        _write_notes(book.add_worksheet(NOTES_SHEET), columns, bold, wrap)
    finally:
        book.close()


def _write_notes(sheet: Worksheet, columns: tuple[TemplateColumn, ...], bold: Format, wrap: Format) -> None:
    """The notes sheet: every column, the statuses, the units and the coordinate systems, in zh and en."""
    west, south, east, north = STUDY_AREA
    rows: list[tuple[str, str, str, Format]] = [
        ("列 column", "说明", "notes", bold),
        *((c.header, c.note_zh, c.note_en, wrap) for c in columns),
        ("", "", "", wrap),
        ("状态 status", "可填写的中文", "meaning", bold),
        *((code, zh, en, wrap) for code, zh, en in _STATUS_ROWS),
        ("", "", "", wrap),
        ("单位 units", "说明", "notes", bold),
        *((u, zh, en, wrap) for u, zh, en in _UNIT_ROWS),
        ("", "", "", wrap),
        ("坐标系 crs", "导入时选择经纬度所用的坐标系；存储一律换算为 WGS84",
         "choose the system of lon/lat when importing; everything is stored in WGS84", bold),
        *((code, zh, en, wrap) for code, zh, en in _CRS_ROWS),
        ("范围 area", f"换算后须在 经度 {west:g}–{east:g}、纬度 {south:g}–{north:g} 之内",
         f"after conversion, lon {west:g}–{east:g} and lat {south:g}–{north:g}", wrap),
        ("", "", "", wrap),
        ("行号 rows", "错误按 Excel 显示的行号报告（表头为第 1 行）；有错的行不导入，其余行照常导入",
         ("problems name the row as Excel shows it (header = row 1); rows with a problem are not imported, the "
         "others are"), wrap),
        ("示例 example", "第 2 行是示例（经纬度为高德 GCJ-02 坐标），填写前请删除",
         "row 2 is an example (lon/lat in GCJ-02, as AMap gives them): delete it before filling in", wrap),
    ]
    for r, (a, b, c, fmt) in enumerate(rows):
        sheet.write_string(r, 0, a, bold)
        sheet.write_string(r, 1, b, fmt)
        sheet.write_string(r, 2, c, fmt)
    sheet.set_column(0, 0, 34)
    sheet.set_column(1, 1, 60)
    sheet.set_column(2, 2, 70)
