"""The register of sources and the citation check (``make check-sources``), on small articles of our own;
how a source is shown (title, kind, date; never a file name) in the data and on printed maps."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pandas as pd
import pytest

from geo import citations, mapspecs, render
from geo.citations import check_excerpts, check_register, iter_citations, with_sources

ROOT = Path(__file__).resolve().parents[2]
ARTICLES = ROOT.parent / "shared" / "sources"
MAIN = "000_0000000000000001.txt"
PLAN = "004_0000000000000002.txt"
BARE = "005_0000000000000003.txt"

MAIN_TEXT = """新能源产业园建设提速
园区年产电池60GWh，总投资约140亿元。
记者 张三
相关文章

【快讯】偃师观摩

【快讯】偃师观摩

  偃师区优箔年产15万吨电池箔项目加快建设。

又一产业基金落户洛阳

又一产业基金落户洛阳

  双方设立经济高质量发展产业基金，拟定总规模50亿元。

产业集聚区

产业集聚区

  词条：产业集聚区是……
"""
PLAN_TEXT = "紧密协作 打造产业新高地\n洛济焦产业带2021年计划投资300亿元。\n相关阅读\n另一篇：洛巩产业带计划投资200亿元。\n"
BARE_TEXT = "没有相关条目的文章\n全文都是正文，投资10亿元。\n"

REGISTER = [
    {"id": "main-article", "kind": "article", "title_zh": "新能源产业园建设提速", "title_en": "New-energy park speeds up",
     "publisher": "洛阳产业信息", "published_date": "2024-09-27", "file": MAIN, "item_index": "", "item_heading_zh": ""},
    {"id": "plan-2021", "kind": "article", "title_zh": "紧密协作 打造产业新高地", "title_en": "Close cooperation",
     "publisher": "洛阳日报", "published_date": "2021-07-23", "file": PLAN, "item_index": "", "item_heading_zh": ""},
    {"id": "bare-article", "kind": "article", "title_zh": "没有相关条目的文章", "title_en": "No related items",
     "publisher": "", "published_date": "2022", "file": BARE, "item_index": "", "item_heading_zh": ""},
    {"id": "yanshi-item", "kind": "related_item", "title_zh": "【快讯】偃师观摩", "title_en": "Flash: Yanshi tour",
     "publisher": "", "published_date": "", "file": MAIN, "item_index": "1", "item_heading_zh": "【快讯】偃师观摩"},
    {"id": "fund-item", "kind": "related_item", "title_zh": "又一产业基金落户洛阳", "title_en": "Another fund",
     "publisher": "", "published_date": "", "file": MAIN, "item_index": "2", "item_heading_zh": "又一产业基金落户洛阳"},
    {"id": "office-import", "kind": "import", "title_zh": "县招商局台账", "title_en": "County ledger",
     "publisher": "偃师区招商局", "published_date": "2025-01-05", "file": "", "item_index": "", "item_heading_zh": ""},
]
PROJECTS = [
    {"id": "big-base", "name_zh": "电池基地", "source_id": "main-article", "source": MAIN,
     "source_excerpt": "园区年产电池60GWh"},
    {"id": "youbo", "name_zh": "优箔", "source_id": "yanshi-item", "source": MAIN, "source_excerpt": "年产15万吨电池箔项目"},
    {"id": "fund", "name_zh": "基金", "source_id": "fund-item", "source": MAIN, "source_excerpt": "拟定总规模50亿元"},
    {"id": "bare", "name_zh": "正文", "source_id": "bare-article", "source": BARE, "source_excerpt": "投资10亿元"},
    {"id": "ledger", "name_zh": "台账", "source_id": "office-import", "source": "", "source_excerpt": ""},
]
CORRIDORS = [{"id": "luo-ji-jiao", "source_id": "plan-2021", "source": PLAN, "source_excerpt": "计划投资300亿元"}]


def write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture()
def folders(tmp_path: Path) -> tuple[Path, Path]:
    """(sources folder, articles folder): a register, a projects table, a corridors GeoJSON and three articles."""
    articles, sources = tmp_path / "articles", tmp_path / "sources"
    articles.mkdir()
    sources.mkdir()
    for name, text in ((MAIN, MAIN_TEXT), (PLAN, PLAN_TEXT), (BARE, BARE_TEXT)):
        (articles / name).write_text(text, encoding="utf-8")
    write_csv(sources / "sources.csv", REGISTER)
    write_csv(sources / "projects.csv", PROJECTS)
    features = [{"type": "Feature", "properties": p, "geometry": None} for p in CORRIDORS]
    (sources / "corridors.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": features},
                                                          ensure_ascii=False), encoding="utf-8")
    return sources, articles


def edit(path: Path, row: int, field: str, value: str) -> None:
    """Set one cell of a CSV (data rows counted from 1)."""
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    rows[row - 1][field] = value
    write_csv(path, rows)


def only(problems: list[str]) -> str:
    assert len(problems) == 1, problems
    return problems[0]


# -- spans ---------------------------------------------------------------------------------------------
def test_spans_of_an_article_and_its_related_items(folders):
    sources, articles = folders
    _, spans, problems = check_register(sources, articles)
    assert problems == []
    lines = MAIN_TEXT.splitlines()
    body = spans["main-article"]
    assert (body.first_line, body.last_line) == (1, 3) and MAIN_TEXT[body.start:body.end].endswith("记者 张三\n")
    yanshi, fund = spans["yanshi-item"], spans["fund-item"]
    assert lines[yanshi.first_line - 1] == "【快讯】偃师观摩" and "年产15万吨电池箔项目" in MAIN_TEXT[yanshi.start:yanshi.end]
    assert yanshi.end == fund.start  # an item ends where the next item's heading starts
    # the last item of the register ends at the next heading of the list (产业集聚区), not at the end of file
    assert "产业集聚区" not in MAIN_TEXT[fund.start:fund.end] and "拟定总规模50亿元" in MAIN_TEXT[fund.start:fund.end]
    assert spans["plan-2021"].end == PLAN_TEXT.index("相关阅读")  # 004's marker is 相关阅读
    assert (spans["bare-article"].start, spans["bare-article"].end) == (0, len(BARE_TEXT))  # no marker: whole file
    assert "office-import" not in spans  # an import has no article span


def test_the_shipped_register_and_citations_pass():
    assert ARTICLES.is_dir(), f"the articles are not beside the project (expected {ARTICLES}, as CI has them)"
    checked, problems = check_excerpts(ROOT / "data" / "sources", ARTICLES, [ROOT / "data" / "industries.csv"])
    assert problems == [] and checked > 50


def test_good_citations_pass_and_the_register_is_not_a_table_of_records(folders):
    sources, articles = folders
    checked, problems = check_excerpts(sources, articles)
    assert problems == [] and checked == len(PROJECTS) + len(CORRIDORS)
    tables = {c.table.rsplit("/", 1)[-1] for c in iter_citations(sources)}
    assert tables == {"projects.csv", "corridors.geojson"}  # sources.csv quotes nothing itself


# -- excerpts ------------------------------------------------------------------------------------------
def test_an_excerpt_verbatim_in_the_file_but_outside_its_items_span_fails(folders):
    sources, articles = folders
    edit(sources / "projects.csv", 2, "source_excerpt", "拟定总规模50亿元")  # youbo cites yanshi-item: fund-item's text
    problem = only(check_excerpts(sources, articles)[1])
    assert "projects.csv, row 2, field 'source_excerpt'" in problem
    assert "not inside the span of source 'yanshi-item'" in problem and "in the span of 'fund-item'" in problem


def test_an_article_does_not_cover_its_related_items(folders):
    sources, articles = folders
    edit(sources / "projects.csv", 1, "source_excerpt", "年产15万吨电池箔项目")  # in a related item, cited as the article
    problem = only(check_excerpts(sources, articles)[1])
    assert "row 1, field 'source_excerpt'" in problem and "source 'main-article'" in problem
    assert f"article {MAIN} lines 1–3" in problem


def test_an_excerpt_after_the_marker_of_004_is_outside_the_article(folders):
    sources, articles = folders
    (sources / "corridors.geojson").write_text((sources / "corridors.geojson").read_text(encoding="utf-8").replace(
        "计划投资300亿元", "计划投资200亿元"), encoding="utf-8")
    problem = only(check_excerpts(sources, articles)[1])
    assert "corridors.geojson, row 1, field 'source_excerpt'" in problem and "not inside the span" in problem


def test_an_excerpt_not_in_the_file_fails(folders):
    sources, articles = folders
    edit(sources / "projects.csv", 3, "source_excerpt", "总规模60亿元")
    assert "row 3, field 'source_excerpt': '总规模60亿元' does not occur verbatim" in only(check_excerpts(sources, articles)[1])


@pytest.mark.parametrize(("field", "value", "expected"), [
    ("source_id", "", "row 4, field 'source_id': a value is required"),
    ("source_id", "nowhere", "row 4, field 'source_id': unknown source 'nowhere'"),
    ("source", PLAN, f"row 4, field 'source': '{PLAN}', but source_id 'bare-article' is in '{BARE}'"),
])
def test_a_record_must_cite_a_register_source(folders, field, value, expected):
    sources, articles = folders
    edit(sources / "projects.csv", 4, field, value)
    assert expected in only(check_excerpts(sources, articles)[1])


def test_a_table_without_source_id_and_derived_values(folders, tmp_path):
    sources, articles = folders
    write_csv(sources / "district_facts.csv", [{"district_code": "410304", "source": MAIN,
                                                "source_excerpt": "拟定总规模50亿元"}])
    assert "district_facts.csv, row 1, field 'source_id': column is missing" in only(check_excerpts(sources, articles)[1])
    (sources / "district_facts.csv").unlink()
    catalogue = tmp_path / "industries.csv"
    write_csv(catalogue, [{"id": "foil", "source_id": "yanshi-item", "source": MAIN, "basis": "cited",
                           "source_excerpt": "电池箔项目"},
                          {"id": "recycling", "source_id": "main-article", "source": MAIN, "basis": "derived",
                           "source_excerpt": ""},
                          {"id": "ghost", "source_id": "nope", "source": MAIN, "basis": "derived", "source_excerpt": ""}])
    checked, problems = check_excerpts(sources, articles, [catalogue])
    assert checked == len(PROJECTS) + len(CORRIDORS) + 3
    assert "industries.csv, row 3, field 'source_id': unknown source 'nope'" in only(problems)


# -- the register --------------------------------------------------------------------------------------
@pytest.mark.parametrize(("row", "field", "value", "expected"), [
    (2, "id", "main-article", "row 2, field 'id': duplicate id 'main-article'; first used in row 1"),
    (2, "kind", "blog", "row 2, field 'kind': expected one of article, related_item, import, edit"),
    (2, "file", "009_missing.txt", "row 2, field 'file': article '009_missing.txt' not found"),
    (4, "item_heading_zh", "【快讯】孟津观摩", "row 4, field 'item_heading_zh': '【快讯】孟津观摩' is not a line"),
    (5, "item_index", "1", "row 5, field 'item_index': 1 given, but its heading is item 2"),
    (4, "item_index", "x", "row 4, field 'item_index': expected the item's position"),
    (1, "published_date", "27/09/2024", "row 1, field 'published_date': expected a date"),
    (1, "item_index", "3", "row 1, field 'item_index': only a related_item has an item"),
])
def test_register_problems_name_row_and_field(folders, row, field, value, expected):
    sources, articles = folders
    edit(sources / "sources.csv", row, field, value)
    _, _, problems = check_register(sources, articles)
    assert any(expected in p and "sources.csv" in p for p in problems), problems


def test_related_items_must_be_in_order(folders):
    sources, articles = folders
    edit(sources / "sources.csv", 4, "item_index", "3")  # yanshi (heading first) said to come after fund (2)
    _, _, problems = check_register(sources, articles)
    assert any("row 4, field 'item_index': item 3 (yanshi-item) comes before fund-item" in p for p in problems), problems


def test_related_items_need_the_marker(folders):
    sources, articles = folders
    (articles / MAIN).write_text(MAIN_TEXT.replace("相关文章", "更多文章"), encoding="utf-8")
    _, spans, problems = check_register(sources, articles)
    assert len(problems) == 2 and all("field 'file'" in p and "相关文章 or 相关阅读" in p for p in problems)
    assert spans["main-article"].end == len(MAIN_TEXT.replace("相关文章", "更多文章"))


# -- showing a source ----------------------------------------------------------------------------------
def test_with_sources_joins_title_kind_date_once():
    register = pd.DataFrame(REGISTER).replace("", None)
    records = pd.DataFrame({"id": ["a", "b", "c"], "source_id": ["yanshi-item", "plan-2021", "gone"],
                            "facts_source_id": [None, "fund-item", None], "source": [MAIN, PLAN, MAIN]})
    out = with_sources(records, register)
    assert list(out.columns[:7]) == ["id", "source_id", *citations.source_columns()]
    assert out.loc[0, "source_title_zh"] == "【快讯】偃师观摩" and out.loc[0, "source_published_date"] is None
    assert out.loc[1, "source_published_date"] == "2021-07-23" and out.loc[1, "source_kind"] == "article"
    assert out.loc[2, "source_title_zh"] is None  # an unknown id stays unknown
    assert out.loc[1, "facts_source_title_zh"] == "又一产业基金落户洛阳" and out.loc[0, "facts_source_kind"] is None
    assert with_sources(out, register) is out and with_sources(records, None) is records
    assert "source_title_zh" not in records  # the input is left as it was


def test_a_label_names_title_kind_and_date_never_the_file():
    rec = {"source_id": "yanshi-item", "source_title_zh": "【快讯】偃师观摩", "source_title_en": "Flash: Yanshi tour",
           "source_kind": "related_item", "source_published_date": None, "source": MAIN}
    text = citations.label(rec)
    assert text == "【快讯】偃师观摩 · Flash: Yanshi tour [相关条目 related item, 无日期 undated]"
    assert citations.label(rec, english=False) == "【快讯】偃师观摩 [相关条目 related item, 无日期 undated]"
    article = citations.label(REGISTER[1], prefix="", english=False)
    assert article == "紧密协作 打造产业新高地 [洛阳日报, 文章 article, 2021-07-23]"
    assert [citations.kind_label(k) for k in citations.KINDS] == ["文章 article", "相关条目 related item", "导入 import",
                                                                   "编辑 edit"]
    assert citations.label({}) == ""


# -- printed maps --------------------------------------------------------------------------------------
def test_a_map_names_the_sources_its_features_cite(layers):
    spec = mapspecs.corridor_map(layers, "luo-mian")
    register = layers["sources"].set_index("id")
    cited_ids = set(spec.sources["id"])
    drawn = set(spec.marks["id"]) | {"luo-mian"}
    expected = {sid for name in ("corridors", "parks", "projects", "institutions")
                for fid, sid in zip(layers[name]["id"], layers[name]["source_id"]) if fid in drawn}
    assert cited_ids == expected and "corridors-plan-2021" in cited_ids
    facts = render.render_map(spec, io.BytesIO(), "svg", date="2024-03-01")
    assert len(facts.sources) == len(cited_ids)
    youbo_title = register.loc["yanshi-observation", "title_zh"]
    assert any(s.startswith(youbo_title) and "相关条目 related item, 无日期 undated" in s for s in facts.sources)
    plan = register.loc["corridors-plan-2021"]
    assert any(s.startswith(plan["title_zh"]) and plan["published_date"] in s for s in facts.sources)
    assert any(t.startswith(render.SOURCES_LABEL) for t in facts.texts)
    assert not any(".txt" in t for t in facts.texts)  # no file name anywhere on the map


def test_a_map_with_few_sources_names_them_in_both_languages(layers):
    spec = mapspecs.metro_map(layers, visible=["districts", "corridors"])
    assert set(spec.sources["id"]) == set(layers["corridors"]["source_id"])
    facts = render.render_map(spec, io.BytesIO(), "svg", date="2024-03-01")
    english = layers["sources"].set_index("id").loc[layers["corridors"]["source_id"].iloc[0], "title_en"]
    assert any(english in s for s in facts.sources)


def test_a_map_without_a_register_says_where_the_sources_are(layers):
    plain = {k: v for k, v in layers.items() if k != "sources"}
    spec = mapspecs.metro_map(plain)
    assert spec.sources is None
    facts = render.render_map(spec, io.BytesIO(), "svg", date="2024-03-01")
    assert render.NO_SOURCES in facts.texts and facts.sources == []
