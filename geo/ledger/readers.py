"""Read an office's file into a table of cell texts: XLSX/XLS, CSV, GeoJSON or GeoPackage.

:func:`read_table` is the one entry point. It picks the reader from the file's extension and checks
the content really is of that kind (a ``.xlsx`` that is not a zip archive is an error, not a guess),
then returns a :class:`Table`: the header row, the data rows as text, the row number of each row as
the spreadsheet shows it and, for GeoJSON and GeoPackage, each feature's point (lon/lat in whatever
system the office declares; nothing is converted here).

Every problem with the file as a whole (too big, too many rows, a zip bomb, a damaged file, an unknown
sheet) is a :class:`~geo.errors.ValidationError` with ``field="file"`` and a message in Chinese and
English; no other exception type leaves this module for a bad file. Formulas are never evaluated:
XLSX cells give the value Excel cached when it saved the file.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import html
import io
import json
import math
import re
import struct
import tempfile
import warnings
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePath

from geo.errors import ValidationError

#: Largest file accepted (bytes).
MAX_IMPORT_BYTES = 20 * 1024 * 1024
#: Most data rows a file may have (the header, and a title row or two above it, are not counted).
MAX_IMPORT_ROWS = 100_000
#: Rows above the data a file may have besides them: the header and title rows.
HEADER_ROWS_ALLOWED = 5
#: Most cells (rows x columns) a file may have.
MAX_IMPORT_CELLS = 5_000_000
#: Largest total uncompressed size of the members of an XLSX (zip) archive (bytes).
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024
#: A member this big (uncompressed) must not be compressed more than MAX_ZIP_RATIO times.
ZIP_RATIO_MIN_BYTES = 10 * 1024 * 1024
MAX_ZIP_RATIO = 100
#: Most members of an XLSX archive.
MAX_ZIP_MEMBERS = 10_000

#: File kinds by extension.
EXTENSIONS: dict[str, str] = {
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".geojson": "geojson",
    ".json": "geojson",
    ".gpkg": "gpkg",
}
KIND_LABELS: dict[str, str] = {
    "xlsx": "XLSX",
    "xls": "XLS",
    "csv": "CSV",
    "geojson": "GeoJSON",
    "gpkg": "GeoPackage",
}

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_SQLITE_MAGIC = b"SQLite format 3\x00"

#: A point of a GeoJSON/GeoPackage feature: (lon, lat) as in the file.
LonLat = tuple[float, float]


@dataclass
class Table:
    """The cells of one sheet (or layer) of a file, as text; ``geometry`` only for GeoJSON/GeoPackage.

    ``rows[i]`` has one string per header ("" for an empty cell) and is shown as row ``row_numbers[i]``
    in the spreadsheet (header row = ``header_row``). ``geometry[i]`` is the feature's (lon, lat) in
    the file's coordinates, None for a feature without geometry, or the geometry type's name (a str)
    for a geometry that is not a point. Wholly empty rows are left out (their numbers are skipped).
    """

    kind: str
    headers: list[str]
    rows: list[list[str]]
    row_numbers: list[int]
    header_row: int | None = 1
    sheet: str | None = None
    sheets: list[str] = field(default_factory=list)
    encoding: str | None = None
    delimiter: str | None = None
    geometry: list[LonLat | str | None] | None = None
    source_crs: str | None = None


def file_error(kind: str | None, zh: str, en: str) -> ValidationError:
    """A bilingual ValidationError about the whole file (``field="file"``)."""
    label = KIND_LABELS.get(kind or "", "")
    prefix_zh = f"{label} 文件" if label else "文件"
    prefix_en = f"{label} file" if label else "file"
    return ValidationError(f"{prefix_zh}：{zh} / {prefix_en}: {en}", field="file")


def cell_text(value: object) -> str:
    """Render one cell value as text: integral floats without '.0', dates as ISO 8601, None as ''."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return ""
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        if (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat(timespec="seconds")
    if isinstance(value, dt.timedelta):
        return str(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    text = str(value)
    return text.strip()


def sniff_kind(data: bytes) -> str:
    """Guess a file's kind from its first bytes: xlsx (zip), xls (OLE2), gpkg (SQLite), geojson or csv."""
    head = data[:64]
    if head.startswith((_ZIP_MAGIC, b"PK\x05\x06")):
        return "xlsx"
    if head.startswith(_OLE_MAGIC):
        return "xls"
    if head.startswith(_SQLITE_MAGIC):
        return "gpkg"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"{"):
        return "geojson"
    return "csv"


def _kind_from_name(file_name: str) -> str:
    suffix = PurePath(file_name or "").suffix.lower()
    kind = EXTENSIONS.get(suffix)
    if kind is None:
        known = ", ".join(sorted(EXTENSIONS))
        raise file_error(
            None,
            f"不支持的文件类型「{suffix or '无扩展名'}」；请上传 {known} 文件",
            f"unsupported file type {suffix or '(no extension)'!r}; expected one of {known}",
        )
    return kind


def _check_content(kind: str, data: bytes) -> None:
    """Refuse a file whose content is not of the kind its extension names."""
    found = sniff_kind(data)
    if kind == found:
        return
    if kind == "csv" and found == "geojson":
        return  # a CSV may begin with '{' in a strange header; the CSV reader decides
    labels = {"xlsx": "XLSX (zip)", "xls": "XLS (OLE2)", "gpkg": "GeoPackage (SQLite)", "geojson": "JSON",
              "csv": "text"}
    hint_zh = {"xls": "这是旧版 .xls 文件，请在 Excel 中另存为 .xlsx",
               "xlsx": "这是 XLSX 工作簿，请使用 .xlsx 扩展名"}.get(found, "请检查文件是否损坏或扩展名是否正确")
    hint_en = {"xls": "it is an old .xls workbook: save it as .xlsx from Excel",
               "xlsx": "it is an XLSX workbook: name it .xlsx"}.get(found, "check that it is not damaged and "
                                                                    "that its extension is right")
    raise file_error(
        kind,
        f"内容不是 {labels[kind]} 格式，而像是 {labels[found]}；{hint_zh}",
        f"the content is not {labels[kind]} but looks like {labels[found]}; {hint_en}",
    )


def _check_bounds(kind: str, n_rows: int, n_cols: int) -> None:
    if n_rows > MAX_IMPORT_ROWS + HEADER_ROWS_ALLOWED:
        raise file_error(kind, f"共 {n_rows} 行，超过上限 {MAX_IMPORT_ROWS} 行数据；请拆分文件",
                         f"{n_rows} rows, more than the limit of {MAX_IMPORT_ROWS} data rows; split the file")
    if n_rows * n_cols > MAX_IMPORT_CELLS:
        raise file_error(kind, f"共 {n_rows * n_cols} 个单元格，超过上限 {MAX_IMPORT_CELLS} 个；请删去无用的列或拆分文件",
                         f"{n_rows * n_cols} cells, more than the limit of {MAX_IMPORT_CELLS}; remove unused "
                         "columns or split the file")


def read_table(data: bytes, file_name: str, sheet: str | None = None) -> Table:
    """Read a file's sheet (or layer) into a Table of cell texts; points stay in the file's own CRS, unconverted."""
    kind = _kind_from_name(file_name)
    if len(data) > MAX_IMPORT_BYTES:
        raise file_error(kind, f"大小 {len(data) / 1048576:.1f} MB，超过上限 {MAX_IMPORT_BYTES // 1048576} MB",
                         f"{len(data) / 1048576:.1f} MB, more than the limit of "
                         f"{MAX_IMPORT_BYTES // 1048576} MB")
    if not data:
        raise file_error(kind, "文件为空", "the file is empty")
    _check_content(kind, data)
    if kind == "xlsx":
        check_zip(data)
        check_sheet_extent(data, sheet)
        return _read_workbook(data, kind, sheet)
    if sheet is not None and kind in ("csv", "geojson"):
        raise file_error(kind, f"该文件只有一张表，不能指定工作表「{sheet}」",
                         f"the file has a single table; a sheet ({sheet!r}) cannot be chosen")
    if kind == "csv":
        return _read_csv(data)
    if kind == "geojson":
        return _read_geojson(data)
    return _read_gpkg(data, sheet)


# --- XLSX: the zip archive is checked before calamine opens it ------------------------------------


def _inflate(raw: bytes, method: int) -> Iterator[bytes]:
    """The inflated data of one zip member, in chunks of at most 1 MiB."""
    if method == zipfile.ZIP_STORED:
        for start in range(0, len(raw), 1 << 20):
            yield raw[start:start + (1 << 20)]
        return
    if method != zipfile.ZIP_DEFLATED:
        raise file_error("xlsx", f"压缩方法 {method} 不受支持", f"unsupported compression method {method}")
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    pending = raw
    while True:
        try:
            out = inflater.decompress(pending, 1 << 20)
        except zlib.error as exc:
            raise file_error("xlsx", "压缩数据已损坏", f"damaged compressed data ({exc})") from exc
        if out:
            yield out
        pending = inflater.unconsumed_tail
        if inflater.eof or (not pending and not out):
            return


def _inflated_size(raw: bytes, method: int, limit: int) -> int:
    """The true size of a member's data once inflated, counting only up to ``limit`` + 1 bytes."""
    produced = 0
    for chunk in _inflate(raw, method):
        produced += len(chunk)
        if produced > limit:
            break
    return produced


def check_zip(data: bytes) -> None:
    """Refuse a damaged zip or a zip bomb (too much uncompressed data, or a member compressed >100x)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, struct.error) as exc:
        raise file_error("xlsx", "文件已损坏或不完整（不是有效的 zip 压缩包）；请在 Excel 中重新保存",
                         f"damaged or truncated (not a valid zip archive): {exc}; save it again from Excel"
                         ) from exc
    bomb = file_error("xlsx", f"解压后过大（超过 {MAX_UNZIPPED_BYTES // 1048576} MB 或压缩比超过 {MAX_ZIP_RATIO} 倍），"
                              "疑似压缩炸弹，已拒绝",
                      f"too large once uncompressed (more than {MAX_UNZIPPED_BYTES // 1048576} MB, or a member "
                      f"compressed more than {MAX_ZIP_RATIO} times): refused as a likely zip bomb")
    if len(infos) > MAX_ZIP_MEMBERS:
        raise bomb
    declared = sum(i.file_size for i in infos)
    if declared > MAX_UNZIPPED_BYTES:
        raise bomb
    for info in infos:
        if info.file_size > ZIP_RATIO_MIN_BYTES and info.file_size > MAX_ZIP_RATIO * max(info.compress_size, 1):
            raise bomb
    names = {i.filename for i in infos}
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
        raise file_error("xlsx", "是 zip 压缩包，但不是 Excel 工作簿", "a zip archive, but not an Excel workbook")
    # The sizes above are what the archive declares; inflate each member (counting, not keeping) so a
    # member that lies about its size cannot get past them.
    total = 0
    for info in infos:
        raw = _member_raw(data, info)
        size = _inflated_size(raw, info.compress_type, MAX_UNZIPPED_BYTES - total)
        total += size
        if total > MAX_UNZIPPED_BYTES or size > info.file_size:
            raise bomb
        if size > ZIP_RATIO_MIN_BYTES and size > MAX_ZIP_RATIO * max(len(raw), 1):
            raise bomb


def _member_raw(data: bytes, info: zipfile.ZipInfo) -> bytes:
    """The compressed bytes of one zip member, found through its local file header."""
    offset = info.header_offset
    header = data[offset:offset + 30]
    if len(header) < 30 or header[:4] != _ZIP_MAGIC:
        raise file_error("xlsx", "文件已损坏或不完整", "damaged or truncated (a zip member header is missing)")
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    start = offset + 30 + name_len + extra_len
    raw = data[start:start + info.compress_size]
    if len(raw) < info.compress_size:
        raise file_error("xlsx", "文件已损坏或不完整（被截断）", "damaged or truncated (a zip member is cut short)")
    return raw


_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(row|c)(?=[\s/>])([^>]*)>")
_ROW_ATTR = re.compile(rb"\br=\"(\d+)\"")
_CELL_ATTR = re.compile(rb"\br=\"([A-Za-z]{1,3})(\d+)\"")
_ATTR = re.compile(r"([\w:]+)\s*=\s*\"([^\"]*)\"")


def _col_index(letters: bytes) -> int:
    index = 0
    for ch in letters.upper():
        index = index * 26 + (ch - 64)
    return index


def _sheet_member(archive: zipfile.ZipFile, data: bytes, sheet: str | None) -> list[zipfile.ZipInfo]:
    """The worksheet part(s) of the sheet calamine will read: the named (or first) sheet, else every worksheet."""
    infos = {i.filename: i for i in archive.infolist()}
    worksheets = [i for n, i in infos.items() if n.startswith("xl/worksheets/") and n.endswith(".xml")]
    try:
        book = b"".join(_inflate(_member_raw(data, infos["xl/workbook.xml"]), infos["xl/workbook.xml"].compress_type))
        rels_info = infos["xl/_rels/workbook.xml.rels"]
        rels = b"".join(_inflate(_member_raw(data, rels_info), rels_info.compress_type))
    except (KeyError, ValidationError):
        return worksheets
    targets: dict[str, str] = {}
    for tag in re.findall(r"<(?:\w+:)?Relationship\b[^>]*>", rels.decode("utf-8", "replace")):
        attrs = dict(_ATTR.findall(tag))
        if "Id" in attrs and "Target" in attrs:
            target = attrs["Target"]
            targets[attrs["Id"]] = target.lstrip("/") if target.startswith("/") else "xl/" + target
    sheets: list[tuple[str, str]] = []
    for tag in re.findall(r"<(?:\w+:)?sheet\b[^>]*>", book.decode("utf-8", "replace")):
        attrs = dict(_ATTR.findall(tag))
        rid = next((v for k, v in attrs.items() if k.endswith(":id")), None)
        if "name" in attrs and rid in targets:
            sheets.append((html.unescape(attrs["name"]), targets[rid]))
    chosen = next((t for n, t in sheets if n == sheet), None) if sheet is not None else (
        sheets[0][1] if sheets else None)
    return [infos[chosen]] if chosen in infos else worksheets


def check_sheet_extent(data: bytes, sheet: str | None) -> None:
    """Refuse a sheet whose used range (first to last filled cell) is beyond the row or cell bounds."""
    # calamine allocates the whole rectangle between the first and the last filled cell: a file with a cell
    # in A1 and one in XFD1048576 would ask for hundreds of gigabytes. Counted here from the XML first.
    archive = zipfile.ZipFile(io.BytesIO(data))
    for info in _sheet_member(archive, data, sheet):
        top = left = 1 << 62
        bottom = right = 0
        row_no = 0
        col_no = 0
        tail = b""
        for chunk in _inflate(_member_raw(data, info), info.compress_type):
            buf = tail + chunk
            cut = buf.rfind(b"<")
            if cut != -1 and buf.find(b">", cut) == -1:
                buf, tail = buf[:cut], buf[cut:]
            else:
                tail = b""
            if len(tail) > 65536:
                raise file_error("xlsx", "工作表 XML 格式错误", "malformed worksheet XML")
            for m in _TAG.finditer(buf):
                attrs = m.group(2)
                if m.group(1) == b"row":
                    r = _ROW_ATTR.search(attrs)
                    row_no = int(r.group(1)) if r else row_no + 1
                    col_no = 0
                    continue
                c = _CELL_ATTR.search(attrs)
                if c:
                    col_no, row_no = _col_index(c.group(1)), int(c.group(2))
                else:
                    col_no += 1
                if attrs.rstrip().endswith(b"/"):
                    continue  # an empty (styled) cell holds no value
                top, bottom = min(top, row_no), max(bottom, row_no)
                left, right = min(left, col_no), max(right, col_no)
        if bottom:
            _check_bounds("xlsx", bottom - top + 1, right - left + 1)


def _read_workbook(data: bytes, kind: str, sheet: str | None) -> Table:
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except BaseException as exc:  # calamine raises its own errors, and Rust panics (BaseException)
        if isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit)):
            raise
        raise file_error(kind, "无法读取工作簿，文件可能已损坏或加密；请在 Excel 中重新保存",
                         f"cannot read the workbook, it may be damaged or encrypted ({type(exc).__name__}); "
                         "save it again from Excel") from exc
    try:
        names = list(book.sheet_names)
        if not names:
            raise file_error(kind, "工作簿中没有工作表", "the workbook has no sheet")
        if sheet is None:
            chosen = names[0]
        elif sheet in names:
            chosen = sheet
        else:
            listed = "、".join(names)
            raise file_error(kind, f"没有名为「{sheet}」的工作表；已有：{listed}",
                             f"no sheet named {sheet!r}; the sheets are: {', '.join(names)}")
        try:
            ws = book.get_sheet_by_name(chosen)
            height, width = ws.height, ws.width
            _check_bounds(kind, height, width)
            start = ws.start
            cells = ws.to_python(skip_empty_area=True)
        except ValidationError:
            raise
        except BaseException as exc:
            if isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit)):
                raise
            raise file_error(kind, f"无法读取工作表「{chosen}」，文件可能已损坏",
                             f"cannot read sheet {chosen!r}, the file may be damaged ({type(exc).__name__})"
                             ) from exc
    finally:
        with contextlib.suppress(Exception):
            book.close()
    first_row = (start[0] if start else 0) + 1
    text_rows = [[cell_text(v) for v in row] for row in cells]
    return _table_from_grid(kind, text_rows, first_row, sheet=chosen, sheets=names)


def _table_from_grid(kind: str, grid: list[list[str]], first_row: int, **extra: object) -> Table:
    """Split a grid of texts into header and data rows; row numbers as the spreadsheet shows them."""
    numbered = [(first_row + i, row) for i, row in enumerate(grid) if any(c.strip() for c in row)]
    if not numbered:
        raise file_error(kind, "表中没有数据", "the sheet holds no data")
    header_at = _header_index(numbered)
    header_row, header = numbered[header_at]
    body = numbered[header_at + 1:]
    if body and _is_subheader(body[0][1]):
        # a two-row header (坐标 merged over 经度 | 纬度): the lower cell names the column where it is filled
        below_row, below = body.pop(0)
        size = max(len(header), len(below))
        header = [(below[i] if i < len(below) and below[i].strip() else header[i] if i < len(header) else "")
                  for i in range(size)]
        header_row = below_row
    width = max([len(header), *(len(r) for _, r in body)])
    headers = [c.strip() for c in header] + [""] * (width - len(header))
    # columns with no header and no data at the right are dropped; with data they get a placeholder name
    used = [i for i in range(width) if headers[i] or any(i < len(r) and r[i].strip() for _, r in body)]
    headers = [headers[i] or f"(列{i + 1} column {i + 1})" for i in used]
    rows = [[(r[i] if i < len(r) else "") for i in used] for _, r in body]
    return Table(kind=kind, headers=headers, rows=rows, row_numbers=[n for n, _ in body], header_row=header_row,
                 **extra)  # type: ignore[arg-type]


def _is_subheader(row: list[str]) -> bool:
    """Whether the row below the header holds only header words (the lower half of a two-row header)."""
    from geo.ledger.headers import recognised

    filled = [c for c in row if c.strip()]
    return bool(filled) and all(recognised(c) for c in filled)


def _header_index(numbered: list[tuple[int, list[str]]]) -> int:
    """The header row: the first of the first 20 non-empty rows naming two known columns, else the first."""
    from geo.ledger.headers import looks_like_header

    for i, (_, row) in enumerate(numbered[:20]):
        if looks_like_header(row):
            return i
    return 0


# --- CSV ------------------------------------------------------------------------------------------


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode CSV bytes as UTF-8 (with or without BOM, or UTF-16 with BOM), else GB18030; return (text, codec)."""
    for bom, codec in ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):  # Excel's "Unicode text"
        if data.startswith(bom):
            try:
                return data[2:].decode(codec), "utf-16"
            except UnicodeDecodeError as exc:
                raise file_error("csv", "带 UTF-16 标记但内容不是 UTF-16 编码", f"marked as UTF-16 but is not ({exc})"
                                 ) from exc
    if b"\x00" in data[:4096]:
        raise file_error("csv", "不是文本文件（含二进制内容）；请另存为 CSV（UTF-8）",
                         "not a text file (binary content); save it as CSV (UTF-8)")
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            raise file_error("csv", "带 UTF-8 标记但内容不是 UTF-8 编码", f"marked as UTF-8 but is not ({exc})") from exc
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as exc:
        raise file_error("csv", "编码无法识别；请另存为 UTF-8 或 GB18030 编码的 CSV",
                         "unknown text encoding; save it as CSV in UTF-8 or GB18030") from exc


def _delimiter(text: str) -> str:
    """Comma or tab (or semicolon), whichever splits the first lines most consistently."""
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    if not lines:
        return ","
    best, best_score = ",", -1
    for delim in (",", "\t", ";"):
        try:
            counts = [len(r) for r in csv.reader(lines, delimiter=delim)]
        except csv.Error:
            continue
        if not counts or counts[0] < 2:
            continue
        score = sum(1 for c in counts if c == counts[0]) * 1000 + counts[0]
        if score > best_score:
            best, best_score = delim, score
    return best


def _read_csv(data: bytes) -> Table:
    text, encoding = decode_text(data)
    delim = _delimiter(text)
    csv.field_size_limit(MAX_IMPORT_BYTES)
    grid: list[list[str]] = []
    cells = 0
    try:
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delim):
            grid.append(row)
            cells += len(row)
            if len(grid) > MAX_IMPORT_ROWS + HEADER_ROWS_ALLOWED:
                raise file_error("csv", f"超过 {MAX_IMPORT_ROWS} 行数据的上限；请拆分文件",
                                 f"more than the limit of {MAX_IMPORT_ROWS} data rows; split the file")
            if cells > MAX_IMPORT_CELLS:
                raise file_error("csv", f"超过 {MAX_IMPORT_CELLS} 个单元格的上限；请删去无用的列或拆分文件",
                                 f"more than the limit of {MAX_IMPORT_CELLS} cells; remove unused columns or "
                                 "split the file")
    except csv.Error as exc:
        raise file_error("csv", f"格式错误（第 {len(grid) + 1} 行）：{exc}", f"malformed at row {len(grid) + 1}: {exc}"
                         ) from exc
    return _table_from_grid("csv", grid, 1, encoding=encoding, delimiter=delim)


# --- GeoJSON --------------------------------------------------------------------------------------


def _point_of(geometry: object) -> LonLat | str | None:
    """(lon, lat) of a GeoJSON Point; None without geometry; the type's name for anything else."""
    if geometry is None:
        return None
    if not isinstance(geometry, dict):
        return "invalid"
    gtype = str(geometry.get("type"))
    if gtype != "Point":
        return gtype
    coords = geometry.get("coordinates")
    if (not isinstance(coords, list) or len(coords) < 2
            or not all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in coords[:2])):
        return "invalid Point"
    lon, lat = float(coords[0]), float(coords[1])
    if not (math.isfinite(lon) and math.isfinite(lat)):
        return "invalid Point"
    return lon, lat


def _read_geojson(data: bytes) -> Table:
    try:
        text = data.decode("utf-8-sig")
        doc = json.loads(text)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise file_error("geojson", "不是有效的 JSON（须为 UTF-8 编码）", f"not valid JSON in UTF-8 ({exc})") from exc
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(
            doc.get("features"), list):
        raise file_error("geojson", "须为 FeatureCollection（要素集合）", "expected a FeatureCollection")
    features = doc["features"]
    _check_bounds("geojson", len(features) + 1, 1)
    headers: dict[str, None] = {}
    for feat in features:
        props = feat.get("properties") if isinstance(feat, dict) else None
        if isinstance(props, dict):
            headers.update(dict.fromkeys(str(k) for k in props))
    names = list(headers)
    _check_bounds("geojson", len(features) + 1, max(len(names), 1))
    rows: list[list[str]] = []
    geometry: list[LonLat | str | None] = []
    for feat in features:
        if not isinstance(feat, dict) or feat.get("type") != "Feature":
            rows.append([""] * len(names))
            geometry.append("not a Feature")
            continue
        props = feat.get("properties") if isinstance(feat.get("properties"), dict) else {}
        by_name = {str(k): v for k, v in props.items()}
        rows.append([cell_text(by_name.get(n)) for n in names])
        geometry.append(_point_of(feat.get("geometry")))
    return Table(kind="geojson", headers=names, rows=rows, row_numbers=list(range(1, len(rows) + 1)),
                 header_row=None, geometry=geometry)


# --- GeoPackage -----------------------------------------------------------------------------------


def _read_gpkg(data: bytes, layer: str | None) -> Table:
    import pyogrio

    with tempfile.TemporaryDirectory(prefix="ledger-") as folder:
        path = Path(folder) / "import.gpkg"
        path.write_bytes(data)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                layers = [(str(n), None if t is None else str(t)) for n, t in pyogrio.list_layers(path)]
                if not layers:
                    raise file_error("gpkg", "没有图层", "the GeoPackage holds no layer")
                names = [n for n, _ in layers]
                if layer is None:
                    spatial = [n for n, t in layers if t is not None]
                    chosen = spatial[0] if spatial else names[0]
                elif layer in names:
                    chosen = layer
                else:
                    raise file_error("gpkg", f"没有名为「{layer}」的图层；已有：{'、'.join(names)}",
                                     f"no layer named {layer!r}; the layers are: {', '.join(names)}")
                info = pyogrio.read_info(path, layer=chosen)
                n_fields = len(info["fields"])
                _check_bounds("gpkg", int(info["features"]) + 1, max(n_fields, 1))
                frame = pyogrio.read_dataframe(path, layer=chosen)
        except ValidationError:
            raise
        except Exception as exc:
            raise file_error("gpkg", "无法读取，文件可能已损坏", f"cannot be read, it may be damaged ({exc})") from exc
    crs = None
    if getattr(frame, "crs", None) is not None:
        if not frame.crs.is_geographic:
            raise file_error("gpkg", f"图层坐标为投影坐标（{frame.crs.to_string()}）；请导出为经纬度",
                             f"the layer is in a projected CRS ({frame.crs.to_string()}); export it as "
                             "lon/lat")
        crs = frame.crs.to_string()
    columns = [c for c in frame.columns if c != "geometry"]
    rows = [[cell_text(_plain(v)) for v in rec] for rec in frame[columns].itertuples(index=False, name=None)]
    geometry: list[LonLat | str | None] | None = None
    if "geometry" in frame.columns:
        geometry = []
        for geom in frame.geometry.values:
            if geom is None or geom.is_empty:
                geometry.append(None)
            elif geom.geom_type != "Point":
                geometry.append(geom.geom_type)
            else:
                geometry.append((float(geom.x), float(geom.y)))
    return Table(kind="gpkg", headers=[str(c) for c in columns], rows=rows,
                 row_numbers=list(range(1, len(rows) + 1)), header_row=None, sheet=chosen, sheets=names,
                 geometry=geometry, source_crs=crs)


def _plain(value: object) -> object:
    """A pandas/numpy cell as a plain Python value (NaN/NaT as None)."""
    if value is None:
        return None
    try:
        import pandas as pd

        if pd.isna(value):  # type: ignore[call-overload]
            return None
    except (TypeError, ValueError):
        pass
    if hasattr(value, "to_pydatetime"):
        return value.to_pydatetime()
    if hasattr(value, "item"):
        try:
            return value.item()
        except (TypeError, ValueError):
            return value
    return value
