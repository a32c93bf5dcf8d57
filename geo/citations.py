"""Citations: every record cites a source of the register (``source_id``) and quotes it (``source_excerpt``).

**The register** (``data/sources/sources.csv``) lists every source a record may cite: ``id``, ``kind``,
``title_zh``, ``title_en``, ``publisher``, ``published_date``, ``file``, ``item_index``, ``item_heading_zh``.
A source covers a *span* of an article file (``../shared/sources/``):

* ``article`` — the main body: from the start of the file up to (not including) the first line that is
  exactly an end marker (``相关文章``, ``相关阅读``), else the whole file;
* ``related_item`` — one of the separate, undated snippets listed after the marker: from the first line
  equal to its ``item_heading_zh`` (after the marker) up to the first line of the next item's heading, or
  the end of the file. ``item_index`` is its 1-based position in that list.
* ``import`` and ``edit`` have no article span; their records are not checked against an article.

**The check** (``make check-sources``, :func:`check_excerpts`): the register itself (ids unique, kinds
known, each article file there, related items' headings found after the marker and in order), then every
record of every table: its ``source_id`` names a register entry, its ``source`` file agrees with that
entry, and its ``source_excerpt`` occurs verbatim *inside the span* of that source. Problems name file,
row (data rows counted from 1) and field.

**Showing a source** (:func:`with_sources`, :func:`label`, :func:`attribution`): users see a source's
title, kind and date, never a file name. :func:`with_sources` joins ``source_title_zh``,
``source_title_en``, ``source_kind``, ``source_published_date`` and ``source_publisher`` from the register
to every ``source_id`` column of a layer (``facts_source_id`` gives ``facts_source_title_zh`` …);
:class:`geo.dataset.Dataset` does it once per data version, so the API, pages, downloads and maps carry them.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
#: The register's file name in the sources folder; it cites nothing itself.
REGISTER_FILE = "sources.csv"
REGISTER_COLUMNS: tuple[str, ...] = ("id", "kind", "title_zh", "title_en", "publisher", "published_date", "file",
                                     "item_index", "item_heading_zh")
#: Kinds of source, with how they are shown (Chinese, English).
KIND_LABELS: dict[str, tuple[str, str]] = {
    "article": ("文章", "article"),
    "related_item": ("相关条目", "related item"),
    "import": ("导入", "import"),
    "edit": ("编辑", "edit"),
}
KINDS: tuple[str, ...] = tuple(KIND_LABELS)
#: Kinds whose span is a part of an article file, against which excerpts are checked.
ARTICLE_KINDS: tuple[str, ...] = ("article", "related_item")
#: Lines that end an article's main body and start its list of related items.
END_MARKERS: tuple[str, ...] = ("相关文章", "相关阅读")
#: Register fields joined to a record, as ``source_<field>`` beside its ``source_id``.
JOINED_FIELDS: tuple[str, ...] = ("title_zh", "title_en", "kind", "published_date", "publisher")
UNDATED = ("无日期", "undated")
_ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_DATE_RE = re.compile(r"^\d{4}(?:-\d{2}(?:-\d{2})?)?$")


def _text(value: object) -> str:
    """A cell as text: '' for empty, None, NaN or NA."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def _display(path: Path) -> str:
    """A file named relative to the repository when it lies inside it (``data/sources/parks.csv``)."""
    path = Path(path).resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


# -- the register ---------------------------------------------------------------------------------------
def read_register(sources_dir: Path) -> pd.DataFrame:
    """The register ``sources.csv`` of a sources folder as text cells ('' for empty)."""
    return pd.read_csv(Path(sources_dir) / REGISTER_FILE, dtype=str, keep_default_na=False, encoding="utf-8")


@dataclass(frozen=True)
class Span:
    """The part of an article file a source covers: characters ``[start, end)`` and lines ``first..last`` (1-based)."""

    file: str
    start: int
    end: int
    first_line: int
    last_line: int

    def describe(self) -> str:
        return f"{self.file} lines {self.first_line}–{self.last_line}"


def _lines(text: str) -> tuple[list[str], list[int]]:
    """The lines of a text (without line ends) and the character offset each starts at."""
    lines, offsets, pos = [], [], 0
    for raw in text.splitlines(keepends=True):
        lines.append(raw.rstrip("\r\n"))
        offsets.append(pos)
        pos += len(raw)
    return lines, offsets


def marker_line(lines: Sequence[str]) -> int | None:
    """Index of the first line that is exactly an end marker (``相关文章``/``相关阅读``), if any."""
    return next((i for i, line in enumerate(lines) if line.strip() in END_MARKERS), None)


def _paired_headings(lines: Sequence[str], after: int) -> list[int]:
    """Lines after ``after`` that the next non-blank line repeats: the related items' headings of a list."""
    out, i = [], after + 1
    while i < len(lines):
        if lines[i].strip():
            j = next((k for k in range(i + 1, len(lines)) if lines[k].strip()), None)
            if j is not None and lines[j].strip() == lines[i].strip():
                out.append(i)
                i = j + 1
                continue
        i += 1
    return out


def file_spans(text: str, file: str, entries: Sequence[Mapping[str, object]]) -> tuple[dict[str, Span], list[tuple[str, str, str]]]:
    """The span of each register entry (``article``/``related_item``) of one article file.

    ``entries`` are register rows of that file (id, kind, item_index, item_heading_zh). Returns the spans by
    source id and the problems found, each ``(source id, field, message)``."""
    lines, offsets = _lines(text)
    size = len(text)
    marker = marker_line(lines)
    spans: dict[str, Span] = {}
    problems: list[tuple[str, str, str]] = []

    def span(first: int, stop: int) -> Span:
        """The lines of index ``first`` up to ``stop`` (excluded) as a span."""
        start = offsets[first] if first < len(offsets) else size
        end = offsets[stop] if stop < len(offsets) else size
        return Span(file, start, end, first + 1, max(stop, first + 1))

    for e in entries:
        if e["kind"] == "article":
            spans[str(e["id"])] = span(0, marker if marker is not None else len(lines))
    items = [e for e in entries if e["kind"] == "related_item"]
    if not items:
        return spans, problems
    if marker is None:
        for e in items:
            message = f"{file} has no line {' or '.join(END_MARKERS)} that starts a list of related items"
            problems.append((str(e["id"]), "file", message))
        return spans, problems
    found: dict[str, int] = {}
    for e in items:
        heading = _text(e.get("item_heading_zh"))
        if not heading:
            continue  # reported by the register check
        at = next((i for i in range(marker + 1, len(lines)) if lines[i].strip() == heading), None)
        if at is None:
            message = f"{heading!r} is not a line of {file} after the line {lines[marker].strip()!r}"
            problems.append((str(e["id"]), "item_heading_zh", message))
        else:
            found[str(e["id"])] = at
    # in order: item_index ascending gives line numbers ascending
    ordered = sorted((int(_text(e["item_index"])), str(e["id"])) for e in items
                     if str(e["id"]) in found and _text(e.get("item_index")).isdigit())
    for (_, prev), (index, sid) in itertools.pairwise(ordered):
        if found[sid] <= found[prev]:
            problems.append((sid, "item_index", f"item {index} ({sid}) comes before {prev} in {file}, not after it"))
    paired = _paired_headings(lines, marker)
    for index, sid in ordered:
        if found[sid] in paired and paired.index(found[sid]) + 1 != index:
            actual = paired.index(found[sid]) + 1
            problems.append((sid, "item_index", f"{index} given, but its heading is item {actual} of the list in {file}"))
    starts = sorted(set(found.values()) | set(paired))
    for sid, at in found.items():
        stop = next((s for s in starts if s > at), len(lines))
        spans[sid] = span(at, stop)
    return spans, problems


def check_register(sources_dir: Path, articles_dir: Path) -> tuple[pd.DataFrame | None, dict[str, Span], list[str]]:
    """Check the register; return it, the span of every article source, and the problems (file, row, field)."""
    path = Path(sources_dir) / REGISTER_FILE
    where_file = _display(path)
    if not path.is_file():
        return None, {}, [f"{where_file}: the register of sources is missing"]
    try:
        register = read_register(sources_dir)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        return None, {}, [f"{where_file}: cannot read the register: {exc}"]
    problems: list[str] = []
    for col in REGISTER_COLUMNS:
        if col not in register.columns:
            problems.append(f"{where_file}, field '{col}': column is missing")
    if problems:
        return None, {}, problems
    row_of = {}
    for row_no, rec in enumerate(register.to_dict("records"), start=1):
        where = f"{where_file}, row {row_no}"
        sid, kind = rec["id"].strip(), rec["kind"].strip()
        if not _ID_RE.match(sid):
            problems.append(f"{where}, field 'id': expected a lower-case slug such as 'corridors-plan-2021', got {sid!r}")
        elif sid in row_of:
            problems.append(f"{where}, field 'id': duplicate id {sid!r}; first used in row {row_of[sid]}")
        else:
            row_of[sid] = row_no
        if kind not in KINDS:
            problems.append(f"{where}, field 'kind': expected one of {', '.join(KINDS)}, got {kind!r}")
        if not rec["title_zh"].strip():
            problems.append(f"{where}, field 'title_zh': a title is required")
        date = rec["published_date"].strip()
        if date and not _DATE_RE.match(date):
            problems.append(f"{where}, field 'published_date': expected a date like 2021-07-23, got {date!r}")
        if kind in ARTICLE_KINDS:
            file = rec["file"].strip()
            if not file:
                problems.append(f"{where}, field 'file': an {kind} needs the article's file name")
            elif Path(file).name != file or not (Path(articles_dir) / file).is_file():
                problems.append(f"{where}, field 'file': article {file!r} not found in {articles_dir}")
        if kind == "related_item":
            if not rec["item_index"].strip().isdigit() or int(rec["item_index"]) < 1:
                problems.append(f"{where}, field 'item_index': expected the item's position 1, 2, … in the list "
                                f"of related items, got {rec['item_index']!r}")
            if not rec["item_heading_zh"].strip():
                problems.append(f"{where}, field 'item_heading_zh': a related item needs its heading line")
        elif kind == "article" and (rec["item_index"].strip() or rec["item_heading_zh"].strip()):
            field = "item_index" if rec["item_index"].strip() else "item_heading_zh"
            problems.append(f"{where}, field '{field}': only a related_item has an item; leave it empty")
    spans: dict[str, Span] = {}
    rows = [dict(r, id=r["id"].strip(), kind=r["kind"].strip(), file=r["file"].strip())
            for r in register.to_dict("records")]
    for file in sorted({r["file"] for r in rows if r["kind"] in ARTICLE_KINDS and r["file"]}):
        article = Path(articles_dir) / file
        if Path(file).name != file or not article.is_file():
            continue
        entries = [r for r in rows if r["file"] == file and r["kind"] in ARTICLE_KINDS]
        got, trouble = file_spans(article.read_text(encoding="utf-8"), file, entries)
        spans.update(got)
        for sid, field, message in trouble:
            problems.append(f"{where_file}, row {row_of.get(sid, '?')}, field '{field}': {message}")
    return register, spans, problems


# -- the records ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Citation:
    """One record's citation: where it is (table, row) and what it cites."""

    table: str  # the table's file as shown in messages, e.g. data/sources/parks.csv
    row: int
    source: str
    source_id: str
    excerpt: str
    has_excerpt: bool  # whether the record quotes its source (not when its table has no source_excerpt
    #                    column, nor when its ``basis`` is ``derived``: a value derived by a stated rule)
    has_source_id: bool


def _citation(table: str, row: int, rec: Mapping[str, object], columns: Iterable[str]) -> Citation:
    cols = set(columns)
    quotes = "source_excerpt" in cols and _text(rec.get("basis")) != "derived"
    return Citation(table, row, _text(rec.get("source")), _text(rec.get("source_id")), _text(rec.get("source_excerpt")),
                    quotes, "source_id" in cols)


def iter_citations(sources_dir: Path, extra: Iterable[Path] = ()) -> Iterator[Citation]:
    """Every record of every source table (CSV and GeoJSON; the register excepted), then of ``extra`` tables."""
    sources_dir = Path(sources_dir)
    csvs = [p for p in sorted(sources_dir.glob("*.csv")) if p.name != REGISTER_FILE]
    for path in [*csvs, *(Path(p) for p in extra)]:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
        for row_no, rec in enumerate(table.to_dict("records"), start=1):
            yield _citation(_display(path), row_no, rec, table.columns)
    for path in sorted(sources_dir.glob("*.geojson")):
        features = json.loads(path.read_text(encoding="utf-8"))["features"]
        for row_no, feature in enumerate(features, start=1):
            props = feature.get("properties") or {}
            yield _citation(_display(path), row_no, props, props)


def _covering(spans: Mapping[str, Span], file: str, at: int, length: int) -> list[str]:
    return [sid for sid, s in spans.items() if s.file == file and s.start <= at and at + length <= s.end]


def _occurrences(text: str, excerpt: str) -> list[int]:
    out, at = [], text.find(excerpt)
    while at >= 0:
        out.append(at)
        at = text.find(excerpt, at + 1)
    return out


def check_excerpts(sources_dir: Path, articles_dir: Path, extra: Iterable[Path] = ()) -> tuple[int, list[str]]:
    """Check the register and every record's citation; return (records checked, problems).

    A record's ``source_id`` must name a register entry; for an ``article`` or ``related_item`` source its
    ``source`` file must be that entry's file and its ``source_excerpt`` must occur verbatim inside the span
    of the file the source covers. A record that does not quote (its table has no ``source_excerpt``
    column, or its ``basis`` is ``derived``, as in ``data/industries.csv``) is checked for its
    ``source_id`` only."""
    register, spans, problems = check_register(sources_dir, articles_dir)
    entries = {} if register is None else {r["id"].strip(): r for r in register.to_dict("records")}
    texts: dict[str, str] = {}
    checked = 0
    for c in iter_citations(sources_dir, extra):
        checked += 1
        where = f"{c.table}, row {c.row}"
        if not c.has_source_id or not c.source_id:
            what = "column is missing" if not c.has_source_id else "a value is required"
            problems.append(f"{where}, field 'source_id': {what}; expected an id of the register "
                            f"{_display(Path(sources_dir) / REGISTER_FILE)}")
            continue
        entry = entries.get(c.source_id)
        if entry is None:
            if register is not None:
                problems.append(f"{where}, field 'source_id': unknown source {c.source_id!r}; expected one of: "
                                f"{', '.join(entries)}")
            continue
        kind, file = entry["kind"].strip(), entry["file"].strip()
        if kind not in ARTICLE_KINDS:
            continue  # an import or an edit: nothing to quote
        if c.source and c.source != file:
            problems.append(f"{where}, field 'source': {c.source!r}, but source_id {c.source_id!r} is in {file!r}")
        if not c.has_excerpt:
            continue
        span = spans.get(c.source_id)
        if span is None:
            continue  # the register's problem with this source is reported above
        if file not in texts:
            texts[file] = (Path(articles_dir) / file).read_text(encoding="utf-8")
        text = texts[file]
        found = _occurrences(text, c.excerpt) if c.excerpt else []
        if not found:
            problems.append(f"{where}, field 'source_excerpt': {c.excerpt!r} does not occur verbatim in {file}")
            continue
        if any(span.start <= at and at + len(c.excerpt) <= span.end for at in found):
            continue
        line = text.count("\n", 0, found[0]) + 1
        owners = _covering(spans, file, found[0], len(c.excerpt))
        inside = f"; it lies in the span of {', '.join(repr(o) for o in owners)}" if owners else ""
        problems.append(f"{where}, field 'source_excerpt': {c.excerpt!r} occurs in {file} (line {line}) but not "
                        f"inside the span of source {c.source_id!r} ({kind} {span.describe()}){inside}")
    return checked, problems


# -- showing a source -----------------------------------------------------------------------------------
def source_columns(prefix: str = "") -> tuple[str, ...]:
    """The columns :func:`with_sources` adds beside ``<prefix>source_id``."""
    return tuple(f"{prefix}source_{f}" for f in JOINED_FIELDS)


def with_sources(frame: pd.DataFrame, register: pd.DataFrame | None) -> pd.DataFrame:
    """The frame with the register's title, kind, date and publisher beside each ``*source_id`` column.

    ``source_id`` gives ``source_title_zh``, ``source_title_en``, ``source_kind``, ``source_published_date``
    and ``source_publisher`` (None where unknown); ``facts_source_id`` gives ``facts_source_title_zh`` … A
    frame that has them already, or no register, is returned as it is (the same object)."""
    if register is None or "id" not in register.columns:
        return frame
    id_cols = [c for c in frame.columns if isinstance(c, str) and c.endswith("source_id")]
    todo = [c for c in id_cols if any(t not in frame.columns for t in source_columns(c[: -len("source_id")]))]
    if not todo:
        return frame
    reg = register.drop_duplicates("id").set_index("id")
    out = frame.copy(deep=False)  # copy-on-write: the inserted columns are its own
    for col in todo:
        prefix = col[: -len("source_id")]
        pos = list(out.columns).index(col) + 1
        keys = [v if isinstance(v, str) else None for v in out[col].tolist()]
        for field, target in zip(JOINED_FIELDS, source_columns(prefix)):
            if target in out.columns:
                continue
            lookup = {k: (_text(v) or None) for k, v in reg[field].items()} if field in reg else {}
            values = [lookup.get(k) for k in keys]
            out.insert(pos, target, pd.Series(values, index=out.index, dtype=object))
            pos += 1
    return out


def kind_label(kind: object) -> str:
    """A kind shown bilingually: ``文章 article``, ``相关条目 related item`` (unknown kinds as given)."""
    zh, en = KIND_LABELS.get(_text(kind), ("", _text(kind)))
    return f"{zh} {en}".strip()


def label(rec: Mapping[str, Any], prefix: str = "source_", english: bool = True) -> str:
    """One line naming a source: title (and English title), then publisher, kind and date in brackets.

    ``rec`` is a record with the joined columns (``source_title_zh`` …; ``prefix='facts_source_'`` for a
    district's facts) or a register row (``prefix=''``). A source without a date (a related item) says
    ``无日期 undated``. No file name is shown; '' when the source is unknown."""
    def get(field: str) -> str:
        return _text(rec.get(f"{prefix}{field}"))

    title = get("title_zh")
    if not title:
        return ""
    if english and get("title_en"):
        title += f" · {get('title_en')}"
    details = [get("publisher"), kind_label(get("kind")), get("published_date") or " ".join(UNDATED)]
    return f"{title} [{', '.join(d for d in details if d)}]"


def cited(register: pd.DataFrame | None, ids: Iterable[object]) -> pd.DataFrame | None:
    """The register rows of the given source ids, in register order (None without a register)."""
    if register is None or "id" not in register.columns:
        return None
    wanted = {v for v in ids if isinstance(v, str) and v}
    return register[register["id"].isin(wanted)].reset_index(drop=True)


def attribution(rows: pd.DataFrame | None, english: bool = True) -> list[str]:
    """One entry per cited source for a printed map's footer: title, publisher, kind and date (or undated)."""
    if rows is None:
        return []
    return [label(r, prefix="", english=english) for r in rows.to_dict("records")]


__all__ = ["ARTICLE_KINDS", "END_MARKERS", "KINDS", "KIND_LABELS", "REGISTER_FILE", "Citation", "Span",
           "attribution", "check_excerpts", "check_register", "cited", "file_spans", "iter_citations",
           "kind_label", "label", "read_register", "source_columns", "with_sources"]
