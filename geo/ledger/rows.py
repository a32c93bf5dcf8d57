"""Turn the rows of an office's file into records of a layer, or rejections that say what to fix.

:func:`parse_file` reads a file (:mod:`geo.ledger.readers`), maps its headers
(:mod:`geo.ledger.headers`) and checks every row against the districts, parks and corridors of an
:class:`ImportContext`. Each row becomes either an :class:`ImportRow` (a record keyed by the column
names of :mod:`geo.schema`, positions in WGS84, maybe with warnings) or one or more
:class:`RowMessage` rejections naming the row as the spreadsheet shows it, the column as the file
writes it, the value, and what was expected, in Chinese and English.

A record holds a key for every field the file has a column for (None for an empty cell), plus the
fields the import always fills: ``id``, ``name_zh``, ``name_en``, ``lon``, ``lat``, ``district_code``,
``location_precision``, ``location_note_zh`` and ``location_note_en``. Nothing is looked up online:
a row with only an address is rejected, a row with a district is placed at a representative point of
that district with ``location_precision = "district"``. Pure functions: no store, no Flask.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import crs as geocrs
from geo.errors import ValidationError
from geo.ledger.headers import (
    CAPACITY_UNITS,
    EXTRA_DATE_FIELDS,
    IMPORT_LAYERS,
    MONEY_UNITS,
    PEOPLE_UNITS,
    Column,
    HeaderMap,
    HeaderProblem,
    map_headers,
    squash,
)
from geo.ledger.readers import read_table
from geo.params import STUDY_AREA, SYSTEMS
from geo.schema import (
    INSTITUTION_KINDS,
    PARK_KINDS,
    QUALIFIERS,
    SLUG_RE,
    STATUSES,
    Field,
    LayerSpec,
)

DATA_DIR = Path(__file__).resolve().parents[2] / "data"

#: Prefix of the ids derived from a record's name, per layer.
ID_PREFIX = {"projects": "prj", "parks": "park", "institutions": "inst"}
#: How the coordinate systems are named in messages and location notes.
CRS_LABELS = {"wgs84": "WGS84", "gcj02": "GCJ-02", "bd09": "BD-09", "cgcs2000": "CGCS2000"}
_CRS_NOTES_ZH = {"wgs84": "WGS84（GPS）", "gcj02": "GCJ-02（高德/腾讯）", "bd09": "BD-09（百度）",
                 "cgcs2000": "CGCS2000（国家 2000 坐标系）"}

#: Status words as offices write them (normalised by ``squash``) -> the schema's status codes.
STATUS_WORDS: dict[str, str] = {
    **{squash(w): "planned" for w in ("规划", "拟建", "计划", "筹建", "谋划", "签约", "已签约", "待建", "前期",
                                       "计划建设", "planned", "plan")},
    **{squash(w): "under_construction" for w in ("在建", "建设中", "施工", "施工中", "开工", "已开工", "续建",
                                                  "新开工", "under construction", "under_construction",
                                                  "construction")},
    **{squash(w): "operating" for w in ("运营", "投产", "建成", "已投产", "建成投产", "运行", "已建成",
                                         "竣工", "已竣工", "运营中", "operating", "operational", "in operation",
                                         "completed")},
    **{squash(w): "exploratory" for w in ("探索", "研究", "意向", "洽谈", "exploratory")},
    **{squash(w): "unknown" for w in ("未知", "不详", "不明", "unknown")},
}
KIND_WORDS: dict[str, dict[str, str]] = {
    "parks": {
        **{squash(k): k for k in PARK_KINDS},
        **{squash(w): "park" for w in ("园区", "产业园", "产业园区", "科创园")},
        **{squash(w): "base" for w in ("基地", "产业基地", "生产基地")},
        **{squash(w): "zone" for w in ("片区", "集聚区", "开发区", "功能区", "产业集聚区")},
        **{squash(w): "community" for w in ("社区", "产业社区")},
        **{squash(w): "enclave" for w in ("飞地", "飞地园区", "飞地产业园")},
    },
    "institutions": {
        **{squash(k): k for k in INSTITUTION_KINDS},
        **{squash(w): "university" for w in ("大学", "高校", "本科院校")},
        **{squash(w): "college" for w in ("学院", "职业学院", "高职", "专科", "职业院校")},
        **{squash(w): "innovation_platforms" for w in ("创新平台", "平台", "研发平台", "innovation platforms")},
        **{squash(w): "firm" for w in ("企业", "公司")},
        **{squash(w): "developer" for w in ("开发商", "开发企业")},
        **{squash(w): "operator" for w in ("运营商", "运营方", "运营企业")},
        **{squash(w): "industry_profile" for w in ("产业概况", "industry profile")},
        **{squash(w): "cooperation" for w in ("合作", "合作项目")},
    },
}
#: Qualifier words of a figure (see geo.schema.QUALIFIERS), as prefixes and suffixes of a number.
_PREFIX_QUALIFIERS: tuple[tuple[str, str], ...] = tuple(sorted((
    ("约", "approx"), ("大约", "approx"), ("约为", "approx"), ("大概", "approx"), ("~", "approx"),
    ("近", "nearly"), ("将近", "nearly"), ("接近", "nearly"),
    ("超", "more_than"), ("超过", "more_than"), ("逾", "more_than"), ("多于", "more_than"),
    ("不少于", "more_than"), ("不到", "less_than"), ("不足", "less_than"), ("少于", "less_than"),
    ("低于", "less_than"), ("拟", "proposed"), ("拟定", "proposed"),
), key=lambda p: -len(p[0])))
_SUFFIX_QUALIFIERS: tuple[tuple[str, str], ...] = (
    ("左右", "approx"), ("上下", "approx"), ("以上", "more_than"), ("多", "more_than"), ("余", "more_than"),
    ("以下", "less_than"),
)
QUALIFIER_WORDS: dict[str, str] = {
    **{q: q for q in QUALIFIERS},
    **{squash(w): q for w, q in _PREFIX_QUALIFIERS + _SUFFIX_QUALIFIERS},
    "more than": "more_than", "less than": "less_than", "approximately": "approx",
}

#: Names that are no longer a district's current name, or a zone inside one: name -> (code, zone).
HISTORICAL_DISTRICTS: dict[str, tuple[str, str | None]] = {
    "偃师市": ("410307", None), "偃师县": ("410307", None), "410381": ("410307", None),
    "孟津县": ("410308", None), "410322": ("410308", None),
    "吉利区": ("410308", None), "吉利": ("410308", None), "410306": ("410308", None),
    "伊滨区": ("410311", "伊滨区"), "伊滨": ("410311", "伊滨区"), "伊滨经济技术开发区": ("410311", "伊滨区"),
    "伊滨经开区": ("410311", "伊滨区"),
}
_DISTRICT_SUFFIXES = ("回族区", "区", "县", "市")
_EN_SUFFIXES = (" district", " county", " city")

_DECIMAL = re.compile(r"^\+?(?:\d+(?:\.\d*)?|\.\d+)$")
_GROUPED = re.compile(r"^\+?\d{1,3}(?:[, ]\d{3})+(?:\.\d+)?$")
_DMS = re.compile(r"^(\d{1,3})°(?:(\d{1,2}(?:\.\d+)?)['′])?(?:(\d{1,2}(?:\.\d+)?)(?:\"|″|'')?)?$")


@dataclass(frozen=True)
class RowMessage:
    """A rejection or a warning about one row (or, with ``row`` = the header row, about one column)."""

    row: int
    column: str | None
    value: str | None
    message_zh: str
    message_en: str

    def to_dict(self) -> dict:
        """The message as a JSON-ready mapping."""
        return asdict(self)


@dataclass
class ImportRow:
    """One accepted row: the record (layer columns, WGS84 lon/lat) and any warnings about it."""

    row: int
    record: dict[str, object]
    warnings: list[RowMessage] = field(default_factory=list)
    id_from_file: bool = False

    def to_dict(self) -> dict:
        """The row as a JSON-ready mapping."""
        return {"row": self.row, "record": dict(self.record), "warnings": [w.to_dict() for w in self.warnings],
                "id_from_file": self.id_from_file}


@dataclass
class ParsedFile:
    """A file read for a layer: the header mapping, the accepted rows (WGS84) and the rejections."""

    layer: str
    file_name: str
    sheet: str | None
    input_crs: str
    columns: dict[str, str]
    ignored_columns: list[str]
    rows: list[ImportRow]
    rejected: list[RowMessage]
    kind: str = ""
    encoding: str | None = None
    header_row: int | None = None
    sheets: list[str] = field(default_factory=list)
    units: dict[str, str] = field(default_factory=dict)
    warnings: list[RowMessage] = field(default_factory=list)  # about columns, not rows

    @property
    def rejected_rows(self) -> list[int]:
        """The numbers of the rows with at least one rejection (the header row for a column problem)."""
        return sorted({m.row for m in self.rejected})

    def to_dict(self) -> dict:
        """The parse as a JSON-ready mapping."""
        return {
            "layer": self.layer, "file_name": self.file_name, "sheet": self.sheet, "input_crs": self.input_crs,
            "kind": self.kind, "encoding": self.encoding, "header_row": self.header_row, "sheets": self.sheets,
            "columns": dict(self.columns), "units": dict(self.units), "ignored_columns": list(self.ignored_columns),
            "rows": [r.to_dict() for r in self.rows], "rejected": [m.to_dict() for m in self.rejected],
            "warnings": [m.to_dict() for m in self.warnings],
        }


@dataclass(frozen=True)
class ImportContext:
    """What rows are checked against (all WGS84): districts, parks, corridors, and the catalogues.

    ``industries`` (id, name_zh, name_en) and ``chain_links`` (link_id, name_zh, name_en) let 行业 and
    产业链环节 be given by name; without them only slugs are accepted.
    """

    districts: gpd.GeoDataFrame
    parks: gpd.GeoDataFrame
    corridors: gpd.GeoDataFrame
    industries: pd.DataFrame | None = None
    chain_links: pd.DataFrame | None = None

    @classmethod
    def from_layers(cls, layers: Mapping[str, gpd.GeoDataFrame], data_dir: Path = DATA_DIR) -> ImportContext:
        """A context from the layers (``geo.io.read_sources()`` or the store) and the catalogues of ``data/``."""
        industries, chain_links = read_catalogues(data_dir)
        return cls(layers["districts"], layers["parks"], layers["corridors"], industries, chain_links)


def read_catalogues(data_dir: Path = DATA_DIR) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The industry catalogue and every chain's links (id/link_id, name_zh, name_en) from ``data/``."""
    industries = pd.read_csv(data_dir / "industries.csv", dtype=str, keep_default_na=False)
    frames = [pd.read_csv(p, dtype=str, keep_default_na=False) for p in sorted((data_dir / "chains").glob("*.csv"))]
    links = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["link_id", "name_zh", "name_en"])
    return industries[["id", "name_zh", "name_en"]], links[["link_id", "name_zh", "name_en"]]


class _CellError(Exception):
    """A cell that cannot be read: the messages say what was expected."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh, self.en = zh, en


# --- values ---------------------------------------------------------------------------------------


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def parse_figure(text: str, units: Mapping[str, Decimal] | None = None,
                 column_scale: Decimal = Decimal(1)) -> tuple[Decimal, str | None]:
    """A figure as offices write it ("1,200", "约20", "20余", "１２", "12亿元") -> (number, qualifier or None)."""
    # ``units``: unit words a cell may repeat after the number, with their scales; one whose scale differs
    # from ``column_scale`` (the header's unit) is an error rather than a silent 10,000-fold mistake.
    t = _nfkc(text)
    qualifiers: list[str] = []
    for word, q in _PREFIX_QUALIFIERS:
        if t.startswith(word):
            qualifiers.append(q)
            t = t[len(word):].strip()
            break
    unit_words = sorted((units or {}).items(), key=lambda kv: -len(kv[0]))
    for _ in range(2):
        for word, q in _SUFFIX_QUALIFIERS:
            if t.endswith(word):
                qualifiers.append(q)
                t = t[: -len(word)].strip()
                break
        low = t.casefold()
        for word, scale in unit_words:
            if low.endswith(word) and len(low) > len(word):
                if scale != column_scale:
                    raise _CellError(f"单元格中的单位「{word}」与列名中的单位不一致；请去掉单元格中的单位，按列名单位填写",
                                     f"the unit {word!r} in the cell differs from the header's unit; give the "
                                     "number in the header's unit, without a unit")
                t = t[: -len(word)].strip()
                break
    if len(set(qualifiers)) > 1:
        raise _CellError("一个数值只能有一个修饰词（约、近、余……）", "a figure can have only one qualifier (约, 近, 余 …)")
    if _GROUPED.match(t):
        t = t.replace(",", "").replace(" ", "")
    if not _DECIMAL.match(t):
        raise _CellError(
            "应为数字，如 12、1,200、0.5、约20、近20、20余（单位见列名）",
            "expected a number such as 12, 1,200, 0.5, 约20 (approx), 近20 (nearly) or 20余 (more than), "
            "in the header's unit")
    try:
        number = Decimal(t)
    except InvalidOperation as exc:  # pragma: no cover - the pattern above admits only decimals
        raise _CellError("应为数字", "expected a number") from exc
    return number, (qualifiers[0] if qualifiers else None)


def parse_coordinate(text: str) -> float:
    """A longitude or latitude in decimal degrees, or in degrees-minutes-seconds (112°27'15")."""
    t = _nfkc(text).replace(" ", "")
    t = re.sub(r"^(东经|北纬|e|n)", "", t, flags=re.IGNORECASE)
    t = re.sub(r"(e|n|东经|北纬)$", "", t, flags=re.IGNORECASE)
    m = _DMS.match(t)
    if m and "°" in t:
        deg, minutes, seconds = (float(g) if g else 0.0 for g in m.groups())
        if minutes >= 60 or seconds >= 60:
            raise _CellError("度分秒格式有误", "malformed degrees, minutes and seconds")
        return deg + minutes / 60 + seconds / 3600
    t = t.rstrip("°")
    if not re.fullmatch(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)", t):
        raise _CellError("应为十进制度数（如 112.4536）或度分秒（如 112°27'13\"）",
                         "expected decimal degrees (e.g. 112.4536) or degrees-minutes-seconds (112°27'13\")")
    value = float(t)
    if not math.isfinite(value):
        raise _CellError("应为有限的数值", "expected a finite number")
    return value


_DATE_HINT = (
    "应为日期，如 2024-03-01、2024-03、2024-Q2 或 2024（也可写 2024年3月1日、2024/3/1、2024.03）",
    "expected a date such as 2024-03-01, 2024-03, 2024-Q2 or 2024 (2024年3月1日, 2024/3/1 and 2024.03 are read too)",
)
_QUARTERS = {"一": "1", "二": "2", "三": "3", "四": "4", "1": "1", "2": "2", "3": "3", "4": "4"}


def normalise_date(text: str) -> str:
    """A date as offices write it -> YYYY-MM-DD, YYYY-MM, YYYY-Qn or YYYY (the forms of geo.schema)."""
    t = _nfkc(text)
    if m := re.fullmatch(r"(\S+?)(?:[T ]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)", t):
        t = m.group(1)  # a date with a time of day: the day is kept
    t = t.replace(" ", "")
    if m := re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?", t):
        y, mo, d = (int(g) for g in m.groups())
        try:
            return _year_ok(date(y, mo, d).isoformat())
        except ValueError as exc:
            raise _CellError(f"{t} 不是有效日期；" + _DATE_HINT[0], f"{t} is not a valid date; " + _DATE_HINT[1]) from exc
    if m := re.fullmatch(r"(\d{4})([-/.年])(\d{1,2})月?(?:份)?", t):
        y, sep, mo = m.groups()
        if sep == "." and mo == "1":
            raise _CellError("「2024.1」可能是 1 月，也可能是 10 月（Excel 会去掉末尾的 0）；请写成 2024-01 或 2024-10",
                             "'2024.1' may mean January or October (Excel drops a trailing 0); write 2024-01 or "
                             "2024-10")
        if not 1 <= int(mo) <= 12:
            raise _CellError(f"月份 {mo} 无效；" + _DATE_HINT[0], f"month {mo} is not valid; " + _DATE_HINT[1])
        return _year_ok(f"{y}-{int(mo):02d}")
    quarter = re.fullmatch(r"(\d{4})(?:-?q|年?第?)([1-4一二三四])(?:季度|季)?", t, flags=re.IGNORECASE)
    if quarter and ("q" in t.casefold() or "季" in t):
        m = quarter
        return _year_ok(f"{m.group(1)}-Q{_QUARTERS[m.group(2)]}")
    if m := re.fullmatch(r"(\d{4})年?(?:底|年底|年末|年内|年初|上半年|下半年)?", t):
        return _year_ok(m.group(1))
    raise _CellError(_DATE_HINT[0], _DATE_HINT[1])


def _year_ok(value: str) -> str:
    if not 1949 <= int(value[:4]) <= 2100:
        raise _CellError("年份应在 1949–2100 之间", "the year should lie between 1949 and 2100")
    return value


# --- lookups built once per file ------------------------------------------------------------------


class _Lookups:
    """Names and ids of the context, normalised for lookup, and the districts' geometry (WGS84)."""

    def __init__(self, context: ImportContext) -> None:
        d = context.districts.reset_index(drop=True)
        self.codes: list[str] = [str(c) for c in d["code"]]
        self.name_zh = dict(zip(self.codes, (str(n) for n in d["name_zh"]), strict=True))
        self.geoms = dict(zip(self.codes, d.geometry.values, strict=True))
        self.tree = shapely.STRtree(np.asarray(d.geometry.values))
        self.districts: dict[str, tuple[str, str | None, str | None]] = {}  # key -> (code, zone, name given)
        short: dict[str, set[str]] = {}
        for code, zh, en in zip(self.codes, d["name_zh"], d["name_en"], strict=True):
            zh, en = str(zh), str(en)
            self.districts[code] = (code, None, None)
            self.districts[squash(zh)] = (code, None, None)
            self.districts[squash(en)] = (code, None, None)
            for suffix in _DISTRICT_SUFFIXES:
                if zh.endswith(suffix) and len(zh) - len(suffix) >= 2:
                    short.setdefault(squash(zh[: -len(suffix)]), set()).add(code)
                    break
            for suffix in _EN_SUFFIXES:
                if en.casefold().endswith(suffix):
                    short.setdefault(squash(en[: -len(suffix)]), set()).add(code)
        for key, codes in short.items():
            if len(codes) == 1:
                self.districts.setdefault(key, (next(iter(codes)), None, None))
        for name, (code, zone) in HISTORICAL_DISTRICTS.items():
            if code in self.name_zh:
                self.districts.setdefault(squash(name), (code, zone, name))
        self.prefixes = sorted({squash(str(c)) for c in d.get("city_zh", pd.Series(dtype=str))} | {"河南省", "河南"},
                               key=len, reverse=True)
        self.parks = _name_index(context.parks, "id")
        self.corridors = _name_index(context.corridors, "id")
        self.corridor_names = {squash(str(n)): str(i) for i, n in zip(context.corridors["id"],
                                                                        context.corridors["name_zh"], strict=True)}
        self.industries = _name_index(context.industries, "id") if context.industries is not None else None
        self.chain_links = (_name_index(context.chain_links, "link_id")
                            if context.chain_links is not None else None)
        self._points: dict[str, tuple[float, float]] = {}
        self._metric: dict[str, shapely.Geometry] = {}

    def district(self, text: str) -> tuple[str, str | None, str | None] | None:
        """(code, functional zone, historical name given) for a district's name or code, else None."""
        key = squash(text)
        if key in self.districts:
            return self.districts[key]
        for prefix in self.prefixes:  # 洛阳市偃师区, 河南省洛阳市偃师区
            if key.startswith(prefix) and key[len(prefix):]:
                rest = self.district(key[len(prefix):])
                if rest:
                    return rest
        return None

    def point(self, code: str) -> tuple[float, float]:
        """A representative point of a district (inside its polygon), WGS84, rounded to 1e-7 degrees."""
        if code not in self._points:
            p = shapely.point_on_surface(self.geoms[code])
            self._points[code] = (round(p.x, 7), round(p.y, 7))
        return self._points[code]

    def locate(self, lons: np.ndarray, lats: np.ndarray) -> list[str | None]:
        """The district code covering each WGS84 point (None outside every district)."""
        found: list[str | None] = [None] * len(lons)
        if len(lons):
            points = shapely.points(lons, lats)
            idx_in, idx_tree = self.tree.query(points, predicate="covered_by")
            for i, j in zip(idx_in.tolist(), idx_tree.tolist(), strict=True):
                if found[i] is None:
                    found[i] = self.codes[j]
        return found

    def distance_km(self, code: str, lon: float, lat: float) -> float:
        """Distance (km, in UTM 49N) from a WGS84 point to a district's polygon."""
        if code not in self._metric:
            self._metric[code] = geocrs.shift_geometry(self.geoms[code], geocrs.to_metric)
        x, y = geocrs.to_metric(lon, lat)
        return float(shapely.distance(self._metric[code], shapely.Point(x, y))) / 1000.0

    def covers(self, code: str, lon: float, lat: float) -> bool:
        """Whether a district's polygon covers a WGS84 point."""
        return bool(shapely.covers(self.geoms[code], shapely.Point(lon, lat)))


def _name_index(frame: pd.DataFrame, id_column: str) -> dict[str, str]:
    """id, name_zh and name_en (normalised; also name_zh without a bracketed part) -> id."""
    index: dict[str, str] = {}
    for _, rec in frame.iterrows():
        ident = str(rec[id_column])
        for col in (id_column, "name_zh", "name_en"):
            value = rec.get(col)
            if isinstance(value, str) and value.strip():
                index.setdefault(squash(value), ident)
                bare = re.sub(r"[(（][^()（）]*[)）]", "", value)
                if bare != value and bare.strip():
                    index.setdefault(squash(bare), ident)
    return index


# --- one row --------------------------------------------------------------------------------------


@dataclass
class _Draft:
    """A row being read: the record so far, its messages, and its raw position."""

    row: int
    record: dict[str, object] = field(default_factory=dict)
    errors: list[RowMessage] = field(default_factory=list)
    warnings: list[RowMessage] = field(default_factory=list)
    raw: tuple[float, float] | None = None  # lon, lat as in the file (declared crs)
    raw_text: str | None = None
    coord_column: str | None = None
    district: tuple[str, str | None, str | None] | None = None
    district_column: str | None = None
    district_text: str | None = None
    id_from_file: bool = False
    coords_given: bool = False  # the row gives coordinates (readable or not): no district fallback

    def error(self, column: str | None, value: str | None, zh: str, en: str) -> None:
        self.errors.append(RowMessage(self.row, column, value, zh, en))

    def warn(self, column: str | None, value: str | None, zh: str, en: str) -> None:
        self.warnings.append(RowMessage(self.row, column, value, zh, en))


def _unit_table(field_name: str) -> dict[str, Decimal]:
    """The unit words a cell of this field may repeat, with their scales to the field's unit."""
    if field_name in ("investment_cny_100m", "signed_investment_cny_100m"):
        return dict(MONEY_UNITS)
    if field_name in ("capacity_gwh", "capacity_kt_per_yr"):
        return {u: s for u, (f, s) in CAPACITY_UNITS.items() if f == field_name}
    if field_name == "jobs_planned":
        return dict(PEOPLE_UNITS)
    return {}


class _RowReader:
    """Reads the cells of one row for a layer (phase 1: everything but the position's checks)."""

    def __init__(self, spec: LayerSpec, headers: HeaderMap, lookups: _Lookups) -> None:
        self.spec = spec
        self.layer = spec.name
        self.headers = headers
        self.lookups = lookups
        self.fields: dict[str, Field] = {f.name: f for f in spec.fields}

    def read(self, row_no: int, cells: list[str], point: tuple[float, float] | str | None,
             has_geometry: bool) -> _Draft:
        draft = _Draft(row_no)
        for problem in self.headers.problems:
            text = cells[problem.index].strip() if problem.index < len(cells) else ""
            if text:
                draft.error(problem.header, text, f"该列无法读取：{problem.message_zh}",
                            f"this column cannot be read: {problem.message_en}")
        values = {c.field: (c, cells[c.index].strip() if c.index < len(cells) else "") for c in self.headers.columns}
        for name, (column, text) in values.items():
            if name in ("lon", "lat", "lonlat", "district_code"):
                continue
            try:
                self._cell(draft, name, column, text)
            except _CellError as exc:
                draft.error(column.header, text, f"「{text}」无法读取：{exc.zh}", f"{text!r} cannot be read: {exc.en}")
        self._name_and_id(draft, values)
        self._dates_by_status(draft)
        self._position_cells(draft, values, point, has_geometry)
        return draft

    def _cell(self, draft: _Draft, name: str, column: Column, text: str) -> None:
        record = draft.record
        if not text:
            record.setdefault(name, None)
            return
        spec = self.fields.get(name)
        kind = spec.kind if spec else ("date" if name in EXTRA_DATE_FIELDS else "str")
        if name.endswith("_qualifier"):
            q = QUALIFIER_WORDS.get(squash(text))
            if q is None:
                raise _CellError("应为修饰词之一：约（approx）、近（nearly）、余/以上（more_than）、不到（less_than）、拟（proposed）",
                                 f"expected one of {', '.join(QUALIFIERS)} (or 约, 近, 余, 不到, 拟)")
            inline = record.get(name)
            if inline is not None and inline != q:
                raise _CellError(f"与数值中的修饰词（{inline}）不一致", f"disagrees with the figure's own qualifier ({inline})")
            record[name] = q
            return
        if kind in ("int", "float"):
            self._figure(draft, name, column, text, spec)
        elif name == "status":
            status = STATUS_WORDS.get(squash(text))
            if status is None:
                raise _CellError(
                    "未知状态；可填：规划/拟建（planned）、在建（under_construction）、运营/投产/建成（operating）、"
                    "探索（exploratory）、未知（unknown）",
                    f"unknown status; expected one of {', '.join(STATUSES)}, or 规划/拟建, 在建, 运营/投产/建成, "
                    "探索, 未知")
            record[name] = status
        elif name == "kind":
            kinds = KIND_WORDS[self.layer]
            value = kinds.get(squash(text))
            if value is None:
                allowed = PARK_KINDS if self.layer == "parks" else INSTITUTION_KINDS
                raise _CellError(f"未知类型；可填：{'、'.join(allowed)}（或对应中文，如 园区、基地、大学、企业）",
                                 f"unknown kind; expected one of {', '.join(allowed)}")
            record[name] = value
        elif name in ("park_id", "parent_park_id"):
            found = self.lookups.parks.get(squash(text))
            if found is None:
                raise _CellError("未找到该园区；请填写园区编号或完整名称，如「洛阳新能源产业园」或 luoyang-new-energy-park",
                                 "no such park; give the park's id or full name, e.g. 洛阳新能源产业园 or "
                                 "luoyang-new-energy-park")
            record[name] = found
        elif name == "corridor_id":
            record[name] = self._corridor(text)
        elif name == "industry":
            record[name] = self._catalogue(text, self.lookups.industries, "行业", "industry")
        elif name == "chain_link":
            record[name] = self._catalogue(text, self.lookups.chain_links, "产业链环节", "chain link")
        elif kind in ("date",) or name in EXTRA_DATE_FIELDS:
            record[name] = normalise_date(text)
        elif kind == "slug":
            if not SLUG_RE.match(text):
                raise _CellError("应为小写字母、数字和连字符组成的编号，如 luo-ji-jiao",
                                 "expected a lower-case slug such as 'luo-ji-jiao'")
            record[name] = text
        elif kind == "slugs":
            parts = [p.strip() for p in re.split(r"[;；,，、]", text) if p.strip()]
            if not parts or not all(SLUG_RE.match(p) for p in parts):
                raise _CellError("应为以分号分隔的英文小写编号，如 new-energy;lithium-battery",
                                 "expected lower-case slugs separated by ';', e.g. new-energy;lithium-battery")
            record[name] = ";".join(parts)
        elif kind == "choice" and spec is not None:
            if text not in spec.choices:
                raise _CellError(f"应为以下之一：{'、'.join(spec.choices)}", f"expected one of {', '.join(spec.choices)}")
            record[name] = text
        else:
            if spec is not None and spec.max_chars and len(text) > spec.max_chars:
                raise _CellError(f"不能超过 {spec.max_chars} 个字", f"at most {spec.max_chars} characters")
            record[name] = text

    def _figure(self, draft: _Draft, name: str, column: Column, text: str, spec: Field | None) -> None:
        number, qualifier = parse_figure(text, _unit_table(name), column.scale)
        value = number * column.scale
        if spec is not None and spec.minimum is not None and value < Decimal(str(spec.minimum)):
            raise _CellError(f"不能小于 {spec.minimum:g}", f"must be at least {spec.minimum:g}")
        if spec is not None and spec.kind == "int":
            if value != value.to_integral_value():
                raise _CellError("应为整数", "expected a whole number")
            draft.record[name] = int(value)
        else:
            draft.record[name] = float(value)
        if qualifier is not None:
            qname = f"{name}_qualifier"
            if qname not in self.fields:
                raise _CellError(f"「{name}」只能记录确切数值，不能带“约、近、余”等修饰词；请填写确切数值或留空",
                                 f"{name} holds exact figures only, it cannot keep a qualifier such as 约/近/余; "
                                 "give the exact figure or leave it empty")
            given = draft.record.get(qname)
            if given is not None and given != qualifier:
                raise _CellError(f"修饰词与「{qname}」列不一致（{given}）", f"the qualifier disagrees with {qname} ({given})")
            draft.record[qname] = qualifier

    def _corridor(self, text: str) -> str:
        key = squash(text)
        found = self.lookups.corridors.get(key)
        if found is None:
            short = re.sub(r"(产业带|产业走廊|走廊|带)$", "", key)
            hits = {i for n, i in self.lookups.corridor_names.items() if len(short) >= 2 and n.startswith(short)}
            if len(hits) == 1:
                return hits.pop()
            names = "、".join(self.lookups.corridor_names) or "（无）"
            raise _CellError(f"未找到该产业带；可填编号或名称：{names}",
                             f"no such corridor; give its id or name ({', '.join(dict.fromkeys(self.lookups.corridors.values()))})")
        return found

    def _catalogue(self, text: str, index: dict[str, str] | None, zh: str, en: str) -> str:
        if index is not None:
            found = index.get(squash(text))
            if found is not None:
                return found
        if SLUG_RE.match(text):
            return text
        names = "、".join(sorted(set(index.values()))) if index else ""
        raise _CellError(f"未知的{zh}；请填写目录中的编号或名称" + (f"（{names}）" if names else "") + "，或英文小写编号",
                         f"unknown {en}; give an id or name of the catalogue" + (f" ({names.replace('、', ', ')})"
                                                                                    if names else "")
                         + " or a lower-case slug")

    def _name_and_id(self, draft: _Draft, values: dict[str, tuple[Column, str]]) -> None:
        record = draft.record
        name_col = values.get("name_zh")
        name = record.get("name_zh")
        if not name:
            draft.error(name_col[0].header if name_col else None, name_col[1] if name_col else None,
                        "缺少名称；请填写「项目名称」（中文名称）", "the name is missing; fill in 项目名称 (name_zh)")
        record.setdefault("name_en", None)  # never invented: a missing English name stays empty
        id_col = values.get("id")
        given = id_col[1] if id_col else ""
        if given:
            if not SLUG_RE.match(given):
                draft.error(id_col[0].header, given,  # type: ignore[index]
                            "编号只能由小写字母、数字和连字符组成，如 yanshi-foil-phase-2",
                            "the id must be a slug of lower-case letters, digits and hyphens, e.g. "
                            "yanshi-foil-phase-2")
            record["id"] = given
            draft.id_from_file = True
        elif name:
            record["id"] = derived_id(self.layer, str(name))
        else:
            record["id"] = None

    def _dates_by_status(self, draft: _Draft) -> None:
        """投产日期 of a project not yet operating is its planned date of the milestone "start of operation"."""
        record = draft.record
        if self.layer != "projects" or record.get("operation_date") is None:
            return
        if record.get("status") != "operating" and not record.get("planned_date"):
            record["planned_date"] = record.pop("operation_date")
            if not record.get("planned_milestone_en"):
                record["planned_milestone_en"] = "start of operation"

    def _position_cells(self, draft: _Draft, values: dict[str, tuple[Column, str]],
                        point: tuple[float, float] | str | None, has_geometry: bool) -> None:
        """Read the district and the coordinates (as in the file); the checks come after conversion."""
        if "district_code" in values:
            column, text = values["district_code"]
            if text:
                draft.district_column, draft.district_text = column.header, text
                found = self.lookups.district(text)
                if found is None:
                    draft.error(column.header, text,
                                f"未知区县「{text}」；请填写洛阳都市圈的区县名称（如 偃师区、孟津区）或 6 位区划代码（如 410307）",
                                f"unknown district {text!r}; give the name of a district of the Luoyang metro area "
                                "(e.g. 偃师区, 孟津区) or its six-digit code (e.g. 410307)")
                else:
                    draft.district = found
        if has_geometry:
            draft.coords_given = point is not None
            if isinstance(point, str):
                draft.error("geometry", point, f"几何类型为 {point}，只接受点（Point）",
                            f"the geometry is a {point}; only points are accepted")
            elif point is not None:
                draft.raw, draft.coord_column = point, "geometry"
                draft.raw_text = f"{point[0]}, {point[1]}"
            return
        lon_c, lat_c, both_c = values.get("lon"), values.get("lat"), values.get("lonlat")
        lon_t = lon_c[1] if lon_c else ""
        lat_t = lat_c[1] if lat_c else ""
        column = lon_c[0].header if lon_c else None
        if not lon_t and not lat_t and both_c and both_c[1]:
            parts = [p for p in re.split(r"[,，;；\s]+", _nfkc(both_c[1])) if p]
            column = both_c[0].header
            draft.coords_given = True
            if len(parts) != 2:
                draft.error(column, both_c[1], "应为“经度,纬度”，如 112.4536,34.6197",
                            "expected 'lon,lat', e.g. 112.4536,34.6197")
                return
            lon_t, lat_t = parts
        if not lon_t and not lat_t:
            return
        draft.coords_given = True
        if not lon_t or not lat_t:
            missing = (lon_c[0].header if lon_c else "经度") if not lon_t else (lat_c[0].header if lat_c else "纬度")
            draft.error(missing, None, "经度和纬度须同时填写", "give both lon and lat, or neither")
            return
        bad = False
        parsed: list[float] = []
        for text, col, what_zh, what_en in ((lon_t, lon_c, "经度", "lon"), (lat_t, lat_c, "纬度", "lat")):
            try:
                parsed.append(parse_coordinate(text))
            except _CellError as exc:
                bad = True
                draft.error(col[0].header if col else column, text, f"{what_zh}「{text}」无法读取：{exc.zh}",
                            f"{what_en} {text!r} cannot be read: {exc.en}")
        if not bad:
            draft.raw = (parsed[0], parsed[1])
            draft.raw_text = f"{lon_t}, {lat_t}"
            draft.coord_column = column


def derived_id(layer: str, name_zh: str) -> str:
    """A stable id for a record without one: layer prefix + the first 10 hex of sha1(NFKC name, no spaces)."""
    key = re.sub(r"\s+", "", unicodedata.normalize("NFKC", name_zh))
    return f"{ID_PREFIX[layer]}-{hashlib.sha1(key.encode('utf-8')).hexdigest()[:10]}"


# --- positions (phase 2, vectorised over the file) ------------------------------------------------


def _place(drafts: list[_Draft], lookups: _Lookups, crs: str) -> None:
    """Convert the file's coordinates to WGS84, check them, and give each row its position and notes."""
    west, south, east, north = STUDY_AREA
    located = [d for d in drafts if d.raw is not None]
    # swapped lon/lat, judged on the values as written
    keep: list[_Draft] = []
    for d in located:
        lon, lat = d.raw  # type: ignore[misc]
        if 33.0 <= lon <= 36.0 and 110.0 <= lat <= 115.0:
            d.error(d.coord_column, d.raw_text,
                    f"经纬度是否填反了？经度 {lon:g} 像纬度，纬度 {lat:g} 像经度；洛阳一带应为经度 {west:g}–{east:g}、"
                    f"纬度 {south:g}–{north:g}",
                    f"lon and lat swapped? lon {lon:g} looks like a latitude and lat {lat:g} like a longitude; "
                    f"expected lon {west:g}–{east:g} and lat {south:g}–{north:g} around Luoyang")
        elif not (-180 <= lon <= 180 and -90 <= lat <= 90):
            d.error(d.coord_column, d.raw_text, "经纬度超出有效范围（经度 -180–180，纬度 -90–90）",
                    "coordinates out of range (lon -180..180, lat -90..90)")
        else:
            keep.append(d)
    if keep:
        raw = np.array([d.raw for d in keep], dtype=float)
        lons, lats = geocrs.to_wgs84(raw[:, 0], raw[:, 1], crs)
        lons = np.round(np.asarray(lons, dtype=float), 7)
        lats = np.round(np.asarray(lats, dtype=float), 7)
        inside = lookups.locate(lons, lats)
        for d, lon, lat, found in zip(keep, lons.tolist(), lats.tolist(), inside, strict=True):
            _place_site(d, lon, lat, found, lookups, crs)
    for d in drafts:
        if not d.coords_given and (d.district is not None or d.district_text is None):
            _place_district(d, lookups)


def _place_site(d: _Draft, lon: float, lat: float, found: str | None, lookups: _Lookups, crs: str) -> None:
    west, south, east, north = STUDY_AREA
    if not (west <= lon <= east and south <= lat <= north):
        d.error(d.coord_column, d.raw_text,
                f"该点（WGS84 {lon:.6f}, {lat:.6f}）不在洛阳都市圈范围内；应为经度 {west:g}–{east:g}、纬度 {south:g}–{north:g}"
                f"（WGS84，已按 {CRS_LABELS[crs]} 换算）",
                f"the point (WGS84 {lon:.6f}, {lat:.6f}) lies outside the Luoyang metro area; expected lon "
                f"{west:g}–{east:g} and lat {south:g}–{north:g} (WGS84, converted from {CRS_LABELS[crs]})")
        return
    record = d.record
    record["lon"], record["lat"] = lon, lat
    record["location_precision"] = "site"
    converted_zh = "，已转换为 WGS84" if crs != "wgs84" else ""
    converted_en = ", converted to WGS84" if crs != "wgs84" else ""
    record["location_note_zh"] = f"坐标来自导入文件，原坐标系为 {_CRS_NOTES_ZH[crs]}{converted_zh}"
    record["location_note_en"] = f"coordinates from the import, given in {CRS_LABELS[crs]}{converted_en}"
    named = d.district
    code = found
    if named is not None:
        named_code, zone, _ = named
        if found != named_code:
            _warn_outside(d, lon, lat, found, named_code, lookups, crs)
        if code is None:
            code = named_code
        if zone and code == named_code and not record.get("functional_zone_zh"):
            record["functional_zone_zh"] = zone
    elif found is None:
        d.warn(d.coord_column, d.raw_text,
               "该点不在任何已收录的区县内（洛阳都市圈 29 个区县），且未填写区县",
               "the point lies in none of the 29 districts of the Luoyang metro area, and no district is given")
    record["district_code"] = code


def _warn_outside(d: _Draft, lon: float, lat: float, found: str | None, named_code: str, lookups: _Lookups,
                  crs: str) -> None:
    """Warn that a point lies outside the district the row names; hint at a mix-up of GCJ-02 and WGS84."""
    name = lookups.name_zh[named_code]
    km = lookups.distance_km(named_code, lon, lat)
    dist_zh = f"{km:.1f} 公里" if km >= 1 else f"{km * 1000:.0f} 米"
    dist_en = f"{km:.1f} km" if km >= 1 else f"{km * 1000:.0f} m"
    where_zh = f"位于{lookups.name_zh[found]}（{found}）" if found else "不在任何已收录的区县内"
    where_en = f"lies in {lookups.name_zh[found]} ({found})" if found else "lies in none of the listed districts"
    zh = f"坐标与区县不一致：该点{where_zh}，距所填的{name}（{named_code}）{dist_zh}"
    en = (f"the coordinates and the district disagree: the point {where_en}, {dist_en} from {name} "
          f"({named_code}) as the row names it")
    assumed = "wgs84" if crs == "cgcs2000" else crs
    x, y = d.raw  # type: ignore[misc]
    for other in ("gcj02", "wgs84", "bd09"):
        if other == assumed:
            continue
        alon, alat = geocrs.to_wgs84(x, y, other)
        if lookups.covers(named_code, float(alon), float(alat)):
            zh += (f"；按 {CRS_LABELS[other]} 换算则落在{name}内，这通常说明把 {CRS_LABELS[other]} 坐标当作 "
                   f"{CRS_LABELS[crs]} 导入了（或相反），请核对导入时选择的坐标系")
            en += (f"; read as {CRS_LABELS[other]} it falls inside {name}: a typical sign of {CRS_LABELS[other]} "
                   f"coordinates declared as {CRS_LABELS[crs]} (or the other way round); check the coordinate "
                   "system chosen for the import")
            break
    zh += "；区县按坐标取" if found else "；区县按所填取"
    en += "; the district is taken from the coordinates" if found else "; the district is kept as given"
    d.warn(d.district_column, d.district_text, zh, en)


def _place_district(d: _Draft, lookups: _Lookups) -> None:
    record = d.record
    if d.district is None:
        address = record.get("address_zh")
        if address:
            d.error(None, None, "只有地址，没有区县或坐标；本系统不做离线地址解析，请补充「区县」或经纬度",
                    "only an address, no district and no coordinates; addresses are not geocoded (offline), so add "
                    "区县 (district) or lon/lat")
        else:
            d.error(None, None, "没有位置：请填写「区县」或经纬度", "no position: give 区县 (district) or lon/lat")
        return
    code, zone, given = d.district
    name = lookups.name_zh[code]
    record["lon"], record["lat"] = lookups.point(code)
    record["district_code"] = code
    record["location_precision"] = "district"
    if zone:
        if not record.get("functional_zone_zh"):
            record["functional_zone_zh"] = zone
        said_zh, said_en = f"（{zone}，{name}内的功能区）", f" ({zone}, a functional zone within {name})"
    elif given:
        said_zh, said_en = f"（{given}，今{name}）", f" ({given}, now {name})"
    else:
        said_zh, said_en = "", ""
    record["location_note_zh"] = f"只给出区县{said_zh}，位置为{name}内代表点（区县精度）"
    record["location_note_en"] = (f"the row gives only the district{said_en}; placed at a representative point of "
                                  f"{name} (district precision)")


# --- the file -------------------------------------------------------------------------------------


def _system(crs: str) -> str:
    key = str(crs).strip().lower().replace("-", "")
    if key not in SYSTEMS:
        raise ValidationError(f"未知坐标系 {crs!r}；可选：{', '.join(SYSTEMS)} / unknown coordinate system {crs!r}; "
                              f"expected one of {', '.join(SYSTEMS)}", field="crs")
    return key


def _unit_label(column: Column) -> str:
    if column.unit is None:
        return ""
    target = {"investment_cny_100m": "亿元", "signed_investment_cny_100m": "亿元", "capacity_gwh": "GWh",
              "capacity_kt_per_yr": "千吨/年 kt/yr", "jobs_planned": "人"}.get(column.field, "")
    return f"{column.unit} → {target} (×{column.scale.normalize():f})"


def parse_file(data: bytes, file_name: str, *, layer: str, context: ImportContext, crs: str = "wgs84",
               sheet: str | None = None) -> ParsedFile:
    """Read a file's rows into records of ``layer`` (lon/lat converted from ``crs`` to WGS84) or rejections."""
    if layer not in IMPORT_LAYERS:
        raise ValidationError(f"未知图层 {layer!r}；可选：{', '.join(IMPORT_LAYERS)} / unknown layer {layer!r}; "
                              f"expected one of {', '.join(IMPORT_LAYERS)}", field="layer")
    system = _system(crs)
    table = read_table(data, file_name, sheet)
    headers = map_headers(table.headers, layer, crs=system)
    fields = {c.field for c in headers.columns}
    if "name_zh" not in fields:
        raise ValidationError(
            "文件：找不到名称列（如「项目名称」「名称」「name_zh」）；请检查表头行或所选工作表 / file: no name column "
            f"(项目名称, 名称 or name_zh) among the headers {[h[:40] for h in table.headers[:12]]}; check the header "
            "row or the sheet",
            field="file")
    has_geometry = table.geometry is not None and any(isinstance(g, tuple) for g in table.geometry)
    if has_geometry:  # a feature's geometry is its position: lon/lat properties are not read
        moved = [c for c in headers.columns if c.field in ("lon", "lat", "lonlat")]
        headers.columns = [c for c in headers.columns if c not in moved]
        headers.ignored.extend(c.header for c in moved)
    header_row = table.header_row if table.header_row is not None else 0
    parsed = ParsedFile(
        layer=layer, file_name=file_name, sheet=table.sheet, input_crs=system,
        columns={c.header: ("lon,lat" if c.field == "lonlat" else c.field) for c in headers.columns},
        ignored_columns=list(headers.ignored), rows=[], rejected=[], kind=table.kind, encoding=table.encoding,
        header_row=table.header_row, sheets=list(table.sheets),
        units={c.header: _unit_label(c) for c in headers.columns if c.unit is not None},
    )
    parsed.rejected.extend(_header_message(header_row, p) for p in headers.problems)
    parsed.warnings.extend(_header_message(header_row, p) for p in headers.notes)
    lookups = _Lookups(context)
    reader = _RowReader(IMPORT_LAYERS[layer], headers, lookups)
    geometry = table.geometry or []
    drafts = [reader.read(row_no, cells, geometry[i] if has_geometry else None, has_geometry)
              for i, (row_no, cells) in enumerate(zip(table.row_numbers, table.rows, strict=True))]
    _place(drafts, lookups, system)
    seen: dict[str, int] = {}
    for d in drafts:
        ident = d.record.get("id")
        if isinstance(ident, str) and SLUG_RE.match(ident):
            if ident in seen:
                if d.id_from_file:
                    d.error(None, ident, f"编号「{ident}」与第 {seen[ident]} 行重复",
                            f"id {ident!r} repeats row {seen[ident]}")
                else:
                    d.error(None, str(d.record.get("name_zh")),
                            f"名称与第 {seen[ident]} 行相同（自动编号 {ident} 重复）；如确为两条记录，请在「编号」列分别填写编号",
                            f"same name as row {seen[ident]} (the derived id {ident} repeats); if these are two "
                            "records, give each an id in an 编号 (id) column")
            else:
                seen[ident] = d.row
        if d.errors:
            parsed.rejected.extend(d.errors)
        else:
            parsed.rows.append(ImportRow(d.row, d.record, d.warnings, d.id_from_file))
    return parsed


def _header_message(row: int, problem: HeaderProblem) -> RowMessage:
    return RowMessage(row, problem.header, problem.header, problem.message_zh, problem.message_en)
