"""Charts as inline SVG (geo.charts): well-formed, escaped, bilingual, unknown never drawn as 0."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from geo import analysis, chain, charts, style

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def bars(root: ET.Element) -> list[ET.Element]:
    return [r for r in root.iter(f"{SVG}rect") if "bar" in r.get("class", "").split()
            and r.get("width") not in (None, "14")]  # the legend's swatches are 14 wide


def _shown(el: ET.Element) -> str:
    """The text an element shows (its tooltips, <title>, left out)."""
    return (el.text or "") + "".join(_shown(c) + (c.tail or "") for c in el if c.tag != f"{SVG}title")


def texts(root: ET.Element) -> list[str]:
    """Every text of the chart, a category's lines (Chinese, English) one by one."""
    out = []
    for t in root.iter(f"{SVG}text"):
        spans = t.findall(f"{SVG}tspan")
        out.extend([_shown(s) for s in spans] if spans else [_shown(t)])
    return out


def test_a_chart_is_well_formed_bilingual_and_escaped():
    evil = "<script>alert(1)</script> & \"x\""
    svg = charts.bar_chart(
        "t<1>", ("标题", "Title"), [("类别", evil), ("二", "two")],
        [charts.Series("甲", "A", [3.0, None], "#123456"), charts.Series("乙", evil, [1.0, 2.0], ["#ff0000", "#00ff00"],
                                                                      "hollow")],
        axis=("个", "count"), reference=charts.Reference("目标", "target", [2.5, None]))
    assert "<script" not in svg and "&lt;script&gt;" in svg
    root = parse(svg)
    assert root.get("role") == "img" and root.get("id") == "t-1"
    assert "标题 · Title" == root.find(f"{SVG}title").text  # the chart's accessible name, both languages
    assert "style=" not in svg and "onload" not in svg.lower()  # colours are attributes, nothing inline runs
    assert len(bars(root)) == 3  # the unknown value is written, never drawn
    assert any(t == "未知 unknown" for t in texts(root))
    tips = [g.find(f"{SVG}title").text for g in root.iter(f"{SVG}g") if g.get("class", "").startswith("bar-group")]
    assert len(tips) == 4 and all(tips)  # every bar, and the unknown one, has a tooltip
    assert len([ln for ln in root.iter(f"{SVG}line") if ln.get("class") == "reference"]) == 2  # legend + one mark
    assert "个 · count" in texts(root)


def test_bad_series_are_refused():
    with pytest.raises(ValueError, match="look"):
        charts.bar_chart("x", ("a", "b"), [("c", "d")], [charts.Series("s", "s", [1.0], look="dotted")],
                         axis=("a", "b"))
    with pytest.raises(ValueError, match="values"):
        charts.bar_chart("x", ("a", "b"), [("c", "d")], [charts.Series("s", "s", [1.0, 2.0])], axis=("a", "b"))


def test_ticks_and_wrapping():
    assert charts.nice_ticks(140) == [0, 25, 50, 75, 100, 125, 150]
    assert charts.nice_ticks(0) == [0, 1e-09] or charts.nice_ticks(0)[0] == 0
    assert charts.nice_ticks(3, integer=True) == [0, 1, 2, 3]
    lines = charts.wrap("Luoyang–Jiyuan–Jiaozuo High-end Petrochemical Belt", 200, 11)
    assert len(lines) == 2 and all(charts.text_width(t, 11) <= 200 for t in lines)
    assert charts.wrap("一二三四五六七八九十", 30, 10, most=1) == ["一二…"]
    assert charts.qualified(140.0, "approx") == "约 about 140" and charts.qualified(None) == "未知 unknown"


def test_corridor_investment_chart_keeps_the_groups_apart(layers):
    standing = analysis.corridor_standing(layers)
    root = parse(charts.corridor_investment_chart(standing))
    drawn = bars(root)
    # only 中州时代's 140 亿元 is known, possibly in each belt: one hollow bar per corridor, none added up
    assert len(drawn) == 4 and {b.get("class") for b in drawn} == {"bar bar-hollow"}
    assert {b.get("fill") for b in drawn} == {style.corridor_color(c["id"]) for c in standing}
    words = texts(root)
    assert sum(t.startswith("未知 unknown") for t in words) == 3  # 洛巩 names no project: "no projects"
    assert sum(t == "无项目 no projects" for t in words) == 5
    assert sum(t.startswith("约 about 140") for t in words) == 4
    marks = [g for g in root.iter(f"{SVG}g") if g.get("class") == "reference-mark"]
    assert [g.find(f"{SVG}title").text.rsplit(" ", 1)[-1] for g in marks] == ["25", "25", "10", "40"]
    assert any("2021 年投资目标" in t for t in words) and any("2021 investment target" in t for t in words)


def test_corridor_status_chart_uses_status_colours_and_words(layers):
    ljj = next(c for c in analysis.corridor_standing(layers) if c["id"] == "luo-ji-jiao")
    root = parse(charts.corridor_status_chart(ljj))
    words = texts(root)
    assert "在建" in words and "under construction" in words and "under_construction" not in "".join(words)
    fills = {b.get("fill") for b in bars(root)}
    assert fills <= {style.STATUS_COLORS["under_construction"], style.STATUS_COLORS["planned"]}


def test_data_page_figures(layers):
    counts = charts.projects_by_status(layers["projects"])
    assert list(counts) == list(style.STATUS_LABELS) and sum(counts.values()) == len(layers["projects"])
    rows = charts.investment_by_district(layers["projects"], layers["districts"])
    assert sum(r["projects"] for r in rows) == len(layers["projects"])
    luolong = rows[0]
    assert (luolong["code"], luolong["investment_cny_100m"], luolong["investment_cny_100m_qualifier"]) == (
        "410311", 140, "approx")
    others = rows[1:]
    assert others and all(r["investment_cny_100m"] is None for r in others)  # unknown, never 0
    city = next(r for r in rows if r["code"] == "410300")
    assert "仅定位到城市" in city["name_zh"] and "located only to the city" in city["name_en"]
    root = parse(charts.district_investment_chart(rows))
    assert len(bars(root)) == 1 and sum(t.startswith("未知 unknown") for t in texts(root)) == len(others)
    root = parse(charts.chain_link_chart(chain.coverage(layers)))
    assert "新能源电池产业链：各环节的项目和企业" in texts(root)
    assert len([g for g in root.iter(f"{SVG}g") if g.get("class") == "category"]) == len(chain.read_chain())
    root = parse(charts.status_chart(counts))
    assert re.sub(r"\s+", "", "".join(texts(root))).count("未知") == 1  # the status, not a value
