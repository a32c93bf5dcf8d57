"""The header dictionary: which column of an office's spreadsheet is which field of a layer.

Offices write headers in Chinese or English, with units in brackets (``总投资（万元）``), with a star for
a required column, in full-width or half-width characters, or both languages in one cell
(``项目名称 name_zh``, as the import template does). :func:`map_headers` reads a header row for a layer
and says, per column, which field it fills (a column of :mod:`geo.schema` for the layer, or one of the
few extra fields the import keeps), by which factor its numbers are scaled to the field's unit (万元 to
亿元 is x 0.0001), and which headers it does not know (reported, not an error).

A header it recognises but cannot use is a *problem* (for example ``总投资`` without a unit: 亿元 and
万元 differ 10,000-fold, so the unit must be in the header); the rows that fill such a column are
rejected, the others are kept.

Pseudo-fields used here and resolved by :mod:`geo.ledger.rows`: ``district`` (a district's name or code,
giving ``district_code``), ``lonlat`` (one cell holding "lon,lat"), ``operation_date`` (投产日期).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from geo.schema import INSTITUTIONS, PARKS, PROJECTS, LayerSpec

#: The layers an office may import, by name.
IMPORT_LAYERS: dict[str, LayerSpec] = {s.name: s for s in (PARKS, PROJECTS, INSTITUTIONS)}

#: Fields an import keeps although the layer's schema has no column for them (kept with the record).
EXTRA_FIELDS: dict[str, tuple[str, ...]] = {
    "projects": ("address_zh", "source_note_zh", "start_date", "operation_date"),
    "parks": ("source_note_zh", "start_date", "operation_date"),
    "institutions": ("address_zh", "source_note_zh"),
}
#: Fields the import computes itself or takes from the import's source: a file column for them is ignored.
COMPUTED_FIELDS = frozenset({"location_precision", "location_note_zh", "location_note_en", "source_id",
                             "source", "source_excerpt"})
#: Fields whose values are dates (normalised to YYYY-MM-DD, YYYY-MM, YYYY-Qn or YYYY).
EXTRA_DATE_FIELDS = frozenset({"start_date", "operation_date"})

# Units, as written inside brackets or after the header word, normalised by _squash.
MONEY_UNITS: dict[str, Decimal] = {
    "亿元": Decimal(1), "亿": Decimal(1), "亿元人民币": Decimal(1), "人民币亿元": Decimal(1),
    "100mcny": Decimal(1), "cny100m": Decimal(1), "100millioncny": Decimal(1), "100myuan": Decimal(1),
    "亿人民币": Decimal(1),
    "万元": Decimal("0.0001"), "万": Decimal("0.0001"), "万元人民币": Decimal("0.0001"),
    "人民币万元": Decimal("0.0001"), "10kcny": Decimal("0.0001"), "cny10k": Decimal("0.0001"),
    "10kyuan": Decimal("0.0001"),
    "元": Decimal("0.00000001"), "cny": Decimal("0.00000001"), "yuan": Decimal("0.00000001"),
}
CAPACITY_UNITS: dict[str, tuple[str, Decimal]] = {
    "gwh": ("capacity_gwh", Decimal(1)),
    "gwh/年": ("capacity_gwh", Decimal(1)), "gwh/a": ("capacity_gwh", Decimal(1)),
    "gwh/yr": ("capacity_gwh", Decimal(1)), "gwh/y": ("capacity_gwh", Decimal(1)),
    "mwh": ("capacity_gwh", Decimal("0.001")), "mwh/年": ("capacity_gwh", Decimal("0.001")),
    "万吨/年": ("capacity_kt_per_yr", Decimal(10)), "万吨": ("capacity_kt_per_yr", Decimal(10)),
    "万t/a": ("capacity_kt_per_yr", Decimal(10)), "万t/年": ("capacity_kt_per_yr", Decimal(10)),
    "万吨/a": ("capacity_kt_per_yr", Decimal(10)), "万吨每年": ("capacity_kt_per_yr", Decimal(10)),
    "10kt/yr": ("capacity_kt_per_yr", Decimal(10)), "10kt/a": ("capacity_kt_per_yr", Decimal(10)),
    "千吨/年": ("capacity_kt_per_yr", Decimal(1)), "千吨": ("capacity_kt_per_yr", Decimal(1)),
    "kt/yr": ("capacity_kt_per_yr", Decimal(1)), "kt/a": ("capacity_kt_per_yr", Decimal(1)),
    "kt/y": ("capacity_kt_per_yr", Decimal(1)), "kt": ("capacity_kt_per_yr", Decimal(1)),
    "吨/年": ("capacity_kt_per_yr", Decimal("0.001")), "t/a": ("capacity_kt_per_yr", Decimal("0.001")),
    "吨": ("capacity_kt_per_yr", Decimal("0.001")), "t/yr": ("capacity_kt_per_yr", Decimal("0.001")),
}
PEOPLE_UNITS: dict[str, Decimal] = {"人": Decimal(1), "个": Decimal(1), "persons": Decimal(1),
                                    "people": Decimal(1), "万人": Decimal(10000)}

# Words inside brackets that are not units.
_REQUIRED_MARKS = frozenset({"必填", "选填", "可选", "可不填", "required", "optional", "中文", "英文", "chinese",
                             "english", "zh", "en"})
#: Coordinate systems as a header may name them (lon/lat columns), by normalised word.
HEADER_CRS: dict[str, str] = {
    "wgs84": "wgs84", "wgs1984": "wgs84", "gps": "wgs84", "epsg4326": "wgs84",
    "gcj02": "gcj02", "gcj": "gcj02", "高德": "gcj02", "腾讯": "gcj02", "火星坐标": "gcj02", "火星": "gcj02",
    "bd09": "bd09", "百度": "bd09", "bd09ll": "bd09",
    "cgcs2000": "cgcs2000", "2000国家大地坐标系": "cgcs2000", "国家2000": "cgcs2000", "epsg4490": "cgcs2000",
}

# Concepts: aliases (normalised by _squash) for every layer unless overridden per layer below.
_COMMON: dict[str, tuple[str, ...]] = {
    "name_zh": ("项目名称", "名称", "机构名称", "单位名称", "中文名称", "项目名", "name", "namezh", "chinesename",
                "名称中文"),
    "name_en": ("英文名称", "英文名", "nameen", "englishname", "名称英文"),
    "id": ("编号", "项目编号", "园区编号", "机构编号", "id", "代号", "recordid"),
    "lon": ("经度", "东经", "lon", "lng", "long", "longitude", "x", "x坐标", "坐标x"),
    "lat": ("纬度", "北纬", "lat", "latitude", "y", "y坐标", "坐标y"),
    "lonlat": ("经纬度", "坐标", "经纬度坐标", "位置坐标", "坐标经纬度", "lonlat", "lnglat", "coordinates",
               "coords"),
    "district": ("区县", "所在区县", "县区", "所在县区", "所属区县", "区县名称", "县市区", "县(市、区)",
                 "县(市,区)", "县(市区)", "所在县(市、区)", "所在地区", "行政区", "所在行政区", "区县代码",
                 "行政区划代码", "区划代码", "district", "county", "districtcode", "districtname"),
    "address_zh": ("地址", "详细地址", "项目地址", "建设地点", "建设地址", "项目地点", "项目选址", "选址", "地点",
                   "address", "addresszh"),
    "status": ("状态", "项目状态", "建设状态", "建设阶段", "项目阶段", "status"),
    "status_note_zh": ("状态说明", "进展", "进展情况", "建设进展", "项目进展", "进度", "statusnote"),
    "investment": ("总投资", "投资额", "计划总投资", "投资", "总投资额", "项目总投资", "投资总额", "计划投资",
                   "investment", "totalinvestment"),
    "signed_investment": ("签约投资", "签约金额", "签约投资额", "signedinvestment"),
    "capacity": ("产能", "设计产能", "年产能", "生产能力", "capacity"),
    "jobs": ("带动就业", "就业", "就业人数", "新增就业", "用工人数", "jobs"),
    "corridor_id": ("产业带", "所属产业带", "走廊", "产业走廊", "corridor", "corridorid", "belt"),
    "chain_link": ("产业链环节", "环节", "链条环节", "产业链", "chainlink"),
    "industry": ("行业", "产业", "所属行业", "产业类别", "行业类别", "所属产业", "产业领域", "industry"),
    "firm_zh": ("企业", "企业名称", "投资企业", "投资主体", "建设单位", "项目单位", "firm", "firmzh",
                "company"),
    "firm_en": ("企业英文名称", "firmen"),
    "start_date": ("开工日期", "开工时间", "计划开工日期", "计划开工时间", "startdate"),
    "operation_date": ("投产日期", "投产时间", "计划投产日期", "计划投产时间", "预计投产日期", "预计投产时间",
                       "建成日期", "建成投产日期", "operationdate"),
    "planned_date": ("计划日期", "plannedate", "planneddate"),
    "reported_date": ("报道日期", "填报日期", "更新日期", "报送日期", "统计日期", "信息日期", "reporteddate"),
    "source_note_zh": ("来源", "资料来源", "数据来源", "信息来源", "source", "sourcenote", "sourcenotezh"),
    "kind": ("类型", "类别", "园区类型", "机构类型", "kind", "type"),
    "functional_zone_zh": ("功能区", "所在功能区", "functionalzone", "functionalzonezh"),
    "parent_park_id": ("上级园区", "母园区", "parentpark", "parentparkid"),
    "park_id": ("所属园区", "园区", "园区名称", "入驻园区", "所在园区", "落户园区", "park", "parkid", "parkname"),
    "themes": ("主题", "产业主题", "themes"),
}
# Per-layer overrides: in a parks file 园区名称 is the park's own name and 所属园区 its parent park.
_LAYER_OVERRIDES: dict[str, dict[str, str]] = {
    "parks": {"园区名称": "name_zh", "园区": "name_zh", "基地名称": "name_zh", "所属园区": "parent_park_id",
              "park": "name_zh", "parkname": "name_zh"},
    "institutions": {"高校名称": "name_zh", "学校名称": "name_zh", "平台名称": "name_zh"},
}
# Concepts whose numbers carry a unit, and whether the unit must be given.
_UNIT_CONCEPTS: dict[str, bool] = {"investment": True, "signed_investment": True, "capacity": True,
                                   "jobs": False}


def squash(text: str) -> str:
    """Normalise a header or a value for lookup: NFKC (full-width to half-width), case-folded, no spaces."""
    text = unicodedata.normalize("NFKC", str(text)).casefold()
    return re.sub(r"[\s_\-*:·]+", "", text)


def _alias_table() -> dict[str, dict[str, str]]:
    tables: dict[str, dict[str, str]] = {}
    for layer, spec in IMPORT_LAYERS.items():
        table: dict[str, str] = {}
        for concept, aliases in _COMMON.items():
            for alias in aliases:
                table.setdefault(squash(alias), concept)
        for alias, concept in _LAYER_OVERRIDES.get(layer, {}).items():
            table[squash(alias)] = concept
        for f in spec.fields:  # every schema column name reads as itself
            table.setdefault(squash(f.name), "district" if f.name == "district_code" else f.name)
        for name in EXTRA_FIELDS[layer]:
            table.setdefault(squash(name), name)
        tables[layer] = table
    return tables


_ALIASES = _alias_table()
_ANY_LAYER = {k: v for table in _ALIASES.values() for k, v in table.items()}
_UNIT_ALIASES = sorted(((k, c) for k, c in _ANY_LAYER.items() if c in _UNIT_CONCEPTS),
                       key=lambda kc: -len(kc[0]))
_BRACKETS = re.compile(r"[(\[【〔（{]([^()\[\]【】〔〕{}]*)[)\]】〕）}]")
_BILINGUAL = (re.compile(r"^(.*[^\x00-\x7f].*?)\s+([\x00-\x7f]+)$", re.DOTALL),
              re.compile(r"^([\x00-\x7f]+?)\s+(.*[^\x00-\x7f].*)$", re.DOTALL))


@dataclass(frozen=True)
class Column:
    """One recognised column: where it is, its header as written, the field it fills and its unit scale."""

    index: int
    header: str
    field: str
    scale: Decimal = Decimal(1)
    unit: str | None = None
    crs: str | None = None  # a coordinate system the header names (lon/lat columns)


@dataclass(frozen=True)
class HeaderProblem:
    """A recognised header that cannot be used as written (or a note about it), in Chinese and English."""

    index: int
    header: str
    message_zh: str
    message_en: str


@dataclass
class HeaderMap:
    """The columns of a header row as read for a layer."""

    columns: list[Column] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    problems: list[HeaderProblem] = field(default_factory=list)  # the column's values cannot be read
    notes: list[HeaderProblem] = field(default_factory=list)  # the column is ignored, the rows are kept

    def by_field(self) -> dict[str, Column]:
        """The recognised columns keyed by the field they fill."""
        return {c.field: c for c in self.columns}


@dataclass(frozen=True)
class _Parsed:
    concept: str
    units: tuple[str, ...] = ()
    crs: str | None = None


def _parse_one(text: str, table: dict[str, str]) -> _Parsed | None:
    """Recognise a header in one language: its concept, the units and coordinate system in brackets."""
    text = unicodedata.normalize("NFKC", text).strip().strip("*").strip()
    whole = squash(text)
    if whole in table:
        return _Parsed(table[whole])
    units: list[str] = []
    crs: str | None = None
    for inner in _BRACKETS.findall(text):
        key = squash(inner)
        if not key or key in _REQUIRED_MARKS:
            continue
        if key in HEADER_CRS:
            crs = HEADER_CRS[key]
        else:
            units.append(key)
    base = squash(_BRACKETS.sub("", text))
    if "/" in base and base.split("/", 1)[0] in table:
        head, rest = base.split("/", 1)
        base, units = head, [*units, rest]
    if base in table:
        return _Parsed(table[base], tuple(units), crs)
    for alias, concept in _UNIT_ALIASES:  # a unit written after the word: 总投资亿元, 产能GWh
        if base.startswith(alias) and table.get(alias) == concept:
            rest = base[len(alias):].lstrip("/")
            if rest and _unit_known(concept, rest):
                return _Parsed(concept, (*units, rest), crs)
    return None


def _unit_known(concept: str, unit: str) -> bool:
    if concept in ("investment", "signed_investment"):
        return unit in MONEY_UNITS
    if concept == "capacity":
        return unit in CAPACITY_UNITS
    return unit in PEOPLE_UNITS


def _column(index: int, header: str, layer: str) -> Column | HeaderProblem | None:
    """The column a header names for a layer, a problem, or None when unknown or not a field of the layer.

    A bilingual header (``总投资（亿元） investment_cny_100m``) is read half by half; the halves must agree.
    """
    table = _ALIASES[layer]
    parsed = _parse_one(header, table)
    if parsed is not None:
        return _resolve(index, header, parsed, layer)
    text = unicodedata.normalize("NFKC", header).strip()
    for pattern in _BILINGUAL:
        m = pattern.match(text)
        if not m:
            continue
        halves = [_parse_one(part, table) for part in m.groups()]
        found = [_resolve(index, header, h, layer) for h in halves if h is not None]
        columns = [c for c in found if isinstance(c, Column)]
        if len(columns) == 2 and (columns[0].field, columns[0].scale) != (columns[1].field, columns[1].scale):
            a, b = columns
            return HeaderProblem(
                index, header,
                f"列名「{header}」的两部分指向不同的字段或单位（{a.field} {a.unit or ''} / {b.field} {b.unit or ''}）",
                f"header {header!r}: its two parts name different fields or units "
                f"({a.field} {a.unit or ''} / {b.field} {b.unit or ''})")
        if columns:
            best = columns[0]
            crs = next((c.crs for c in columns if c.crs), None)
            return Column(best.index, best.header, best.field, best.scale, best.unit, crs)
        if found:
            return found[0]
        if any(h is not None for h in halves):
            return None
    return None


def recognised(header: str) -> bool:
    """Whether a header names a known column for any importable layer."""
    return any(_parse_one(part, _ALIASES[layer]) is not None
               for layer in IMPORT_LAYERS
               for part in (header, *_halves(header)))


def _halves(header: str) -> tuple[str, ...]:
    text = unicodedata.normalize("NFKC", header).strip()
    for pattern in _BILINGUAL:
        m = pattern.match(text)
        if m:
            return m.groups()
    return ()


def looks_like_header(row: Sequence[str]) -> bool:
    """Whether a row of cells names at least two known columns, so it is taken as the header row."""
    return sum(1 for cell in row if str(cell).strip() and recognised(str(cell))) >= 2


def _field_for(concept: str, layer: str) -> str:
    return {"district": "district_code", "investment": "investment_cny_100m",
            "signed_investment": "signed_investment_cny_100m", "jobs": "jobs_planned"}.get(concept, concept)


def _layer_has(layer: str, name: str) -> bool:
    spec = IMPORT_LAYERS[layer]
    return name in {f.name for f in spec.fields} or name in EXTRA_FIELDS[layer] or name == "lonlat"


def _resolve(index: int, header: str, parsed: _Parsed, layer: str) -> Column | HeaderProblem | None:
    """Turn a recognised concept into a column of the layer, a problem, or None (not a field of the layer)."""
    concept = parsed.concept
    if concept in ("lon", "lat", "lonlat"):
        return Column(index, header, concept, crs=parsed.crs)
    if concept in _UNIT_CONCEPTS:
        known = [u for u in parsed.units if _unit_known(concept, u)]
        unknown = [u for u in parsed.units if not _unit_known(concept, u)]
        if unknown or len(set(known)) > 1:
            return _unit_problem(index, header, concept, bad="、".join(unknown or known))
        if not known:
            if _UNIT_CONCEPTS[concept]:
                return _unit_problem(index, header, concept, bad=None)
            target, scale, unit = _field_for(concept, layer), Decimal(1), None
        elif concept == "capacity":
            target, scale = CAPACITY_UNITS[known[0]]
            unit = known[0]
        elif concept == "jobs":
            target, scale, unit = _field_for(concept, layer), PEOPLE_UNITS[known[0]], known[0]
        else:
            target, scale, unit = _field_for(concept, layer), MONEY_UNITS[known[0]], known[0]
        return Column(index, header, target, scale, unit) if _layer_has(layer, target) else None
    target = _field_for(concept, layer)
    if target in COMPUTED_FIELDS or not _layer_has(layer, target):
        return None
    return Column(index, header, target)


def _unit_problem(index: int, header: str, concept: str, bad: str | None) -> HeaderProblem:
    if concept == "capacity":
        units_zh, units_en = "GWh、万吨/年 或 千吨/年", "GWh, 万吨/年 (10 kt/yr) or 千吨/年 (kt/yr)"
        example = "产能（GWh）"
    elif concept == "jobs":
        units_zh, units_en, example = "人 或 万人", "人 (persons) or 万人 (10,000 persons)", "带动就业（人）"
    else:
        units_zh, units_en, example = "亿元 或 万元", "亿元 (100 million CNY) or 万元 (10,000 CNY)", "总投资（亿元）"
    if bad is None:
        return HeaderProblem(index, header, f"列名「{header}」没有写单位；请在列名中注明 {units_zh}，如「{example}」",
                             f"header {header!r} gives no unit; put {units_en} in the header, e.g. {example!r}")
    return HeaderProblem(index, header, f"列名「{header}」中的单位「{bad}」无法识别；请用 {units_zh}，如「{example}」",
                         f"header {header!r}: unit {bad!r} not understood; use {units_en}, e.g. {example!r}")


def map_headers(headers: Sequence[str], layer: str, *, crs: str | None = None) -> HeaderMap:
    """Map headers to the layer's fields and unit scales; lon/lat headers must not name a CRS but ``crs``."""
    if layer not in IMPORT_LAYERS:
        raise ValueError(f"unknown layer {layer!r}; expected one of {', '.join(IMPORT_LAYERS)}")
    out = HeaderMap()
    taken: dict[str, Column] = {}
    for index, header in enumerate(headers):
        header = str(header).strip()
        if not header:
            continue
        resolved = _column(index, header, layer)
        if resolved is None:
            out.ignored.append(header)
            continue
        if isinstance(resolved, HeaderProblem):
            out.problems.append(resolved)
            continue
        if resolved.crs is not None and crs is not None and resolved.crs != crs:
            out.problems.append(HeaderProblem(
                index, header,
                f"列名「{header}」注明坐标系为 {resolved.crs}，但导入时声明的是 {crs}；请按实际坐标系选择后重新导入",
                f"header {header!r} names the coordinate system {resolved.crs} but the import declares {crs}; "
                "import again declaring the system the coordinates are really in"))
            continue
        if resolved.field in taken:
            first = taken[resolved.field]
            out.ignored.append(header)
            out.notes.append(HeaderProblem(
                index, header, f"列「{header}」与列「{first.header}」都对应字段 {resolved.field}，只读取「{first.header}」",
                f"columns {header!r} and {first.header!r} both give {resolved.field}; only "
                f"{first.header!r} is read"))
            continue
        taken[resolved.field] = resolved
        out.columns.append(resolved)
    return out
