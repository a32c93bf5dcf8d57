"""geo.filters: status for layers without one, chain links of parks, name search over aliases and firms."""

from __future__ import annotations

from pathlib import Path

import pytest

from geo import filters
from geo.filters import Filters


def ids(layers: dict, layer: str, **wanted) -> set[str]:
    return set(filters.apply(layer, layers, Filters(**wanted))["id"])


def test_a_status_filter_hides_institutions_unless_unknown_is_asked_for(layers):
    assert len(layers["institutions"]) > 0 and "status" not in layers["institutions"]
    assert ids(layers, "institutions", status=("operating",)) == set()
    assert ids(layers, "institutions", status=("operating", "unknown")) == set(layers["institutions"]["id"])
    # parks and projects by their own status; corridors and districts carry none and stay as they are
    parks = layers["parks"]
    assert ids(layers, "parks", status=("operating",)) == set(parks.loc[parks["status"] == "operating", "id"])
    assert len(filters.apply("corridors", layers, Filters(status=("operating",)))) == len(layers["corridors"])


def test_a_chain_link_filter_keeps_the_parks_whose_projects_or_firms_serve_it(layers):
    # the cell projects lie in 中州时代 base, which lies in the new-energy park
    assert ids(layers, "projects", chain_link=("cell",)) == {
        "zhongzhou-shidai-phase-1", "zhongzhou-shidai-phase-1-line-1", "zhongzhou-shidai-phase-2"}
    assert ids(layers, "parks", chain_link=("cell",)) == {"zhongzhou-shidai-base", "luoyang-new-energy-park"}
    # a link no project or firm in a park serves keeps no park (not all of them)
    assert ids(layers, "parks", chain_link=("recycling",)) == set()
    assert ids(layers, "parks", chain_link=("foil",)) == set()  # 优箔 is located to 偃师区, in no park
    # an institution in a park counts too
    inst = layers["institutions"].copy()
    inst.loc[inst["id"] == "luoyang-pengjie-wear-resistant-materials", "chain_link"] = "recycling"
    changed = {**layers, "institutions": inst}
    assert set(filters.apply("parks", changed, Filters(chain_link=("recycling",)))["id"]) == {
        "luoyang-green-casting-park"}


def test_parks_serving_climbs_to_the_parks_holding_a_park(layers):
    assert filters.parks_serving(("cell",), layers) == {"zhongzhou-shidai-base", "luoyang-new-energy-park"}
    assert filters.parks_serving((), layers) == set()


@pytest.mark.parametrize("q", ["宁德时代", "CATL", "catl", "Contemporary Amperex", "宁德"])
def test_a_firms_other_names_find_its_records(layers, q):
    assert ids(layers, "projects", q=q) == {
        "zhongzhou-shidai-phase-1", "zhongzhou-shidai-phase-1-line-1", "zhongzhou-shidai-phase-2"}
    assert ids(layers, "parks", q=q) == {"zhongzhou-shidai-base"}
    assert ids(layers, "institutions", q=q) == {"zhongzhou-shidai"}


def test_the_name_search_looks_at_both_languages_ids_and_firms(layers):
    assert ids(layers, "projects", q="优箔") == {"youbo-battery-foil"}
    assert ids(layers, "projects", q="STYRENE") == {"luoyang-petrochemical-styrene"}
    assert ids(layers, "projects", q="youbo-battery-foil") == {"youbo-battery-foil"}
    # by the firm, in Chinese and in English
    firm = layers["projects"].dropna(subset=["firm_zh"]).iloc[0]
    with_firm = set(layers["projects"].loc[layers["projects"]["firm_zh"] == firm["firm_zh"], "id"])
    assert ids(layers, "projects", q=firm["firm_zh"]) >= with_firm
    assert ids(layers, "projects", q=firm["firm_en"].upper()) >= with_firm
    assert ids(layers, "projects", q="no such name at all") == set()


def test_search_terms_expand_to_the_names_of_the_firm_named():
    groups = (("宁德时代", "中州时代", "CATL"), ("洛钼", "CMOC"))
    assert filters.search_terms("宁德时代", groups) == ["宁德时代", "中州时代", "catl"]
    assert filters.search_terms("catl luoyang", groups) == ["catl luoyang", "宁德时代", "中州时代", "catl"]
    assert filters.search_terms("c", groups) == ["c"]  # one letter: no alias expansion
    assert filters.search_terms("  ", groups) == []
    assert filters.search_terms("styrene", groups) == ["styrene"]


def test_alias_groups_read_the_register_and_tolerate_a_missing_file(tmp_path: Path):
    assert any("宁德时代" in g and "CATL" in g for g in filters.alias_groups())
    assert filters.alias_groups(tmp_path / "missing.csv") == ()
    path = tmp_path / "aliases.csv"
    path.write_text("group_id,name,lang,source_id,source_excerpt\na,甲,zh,,\na,A Co,en,,\nb,乙,zh,,\n", encoding="utf-8")
    assert filters.alias_groups(path) == (("甲", "A Co"), ("乙",))
