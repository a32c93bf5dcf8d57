"""Each correction of the data audit (issue 11) stays made: provenance, statuses, qualifiers, missing items."""

from __future__ import annotations

import pandas as pd
import pytest

from geo import chain, io, siting
from geo.schema import QUALIFIERS, SOURCE_KINDS

RELATED = {  # record -> the related item of 000_…txt it comes from (not the 2024 CATL article)
    ("projects", "youbo-battery-foil"): "yanshi-observation",
    ("parks", "luoyang-green-casting-park"): "green-casting-park",
    ("institutions", "luoyang-pengjie-wear-resistant-materials"): "green-casting-park",
    ("parks", "avic-jonhon-components-park"): "avic-jonhon-components-park",
    ("parks", "zhengda-tech-community"): "zhengda-tech-community",
    ("institutions", "yigao-group"): "zhengda-tech-community",
    ("parks", "chanhe-dual-carbon-park"): "chanhe-fund",
    ("parks", "luoyang-international-health-tech-park"): "chanhe-fund",
    ("institutions", "luoyang-polytechnic-cooperation"): "lyvtc-cooperation",
}


@pytest.fixture(scope="module")
def data() -> dict[str, pd.DataFrame]:
    layers = io.read_sources()
    return {name: (df.set_index("id") if "id" in df else df) for name, df in layers.items()}


def test_the_register_lists_articles_and_undated_related_items(data):
    reg = data["sources"]
    assert set(reg["kind"]) <= set(SOURCE_KINDS)
    articles = reg[reg["kind"] == "article"]
    assert set(articles["file"]) == {"000_d5982d250ddd8784.txt", "004_0fea41262f4ebcc4.txt"}
    assert articles.loc["corridors-plan-2021", "published_date"] == "2021-07-23"
    related = reg[reg["kind"] == "related_item"]
    assert len(related) == 7 and related["published_date"].isna().all()
    assert sorted(related["item_index"]) == list(range(1, 8))


def test_every_record_cites_a_register_source(data):
    ids = set(data["sources"].index)
    for name in ("parks", "projects", "institutions", "corridors"):
        assert data[name]["source_id"].isin(ids).all(), name
    facts = data["districts"].dropna(subset=["facts_source_id"])
    assert set(facts["facts_source_id"]) == {"chanhe-fund"}


@pytest.mark.parametrize("key, source", RELATED.items(), ids=[k[1] for k in RELATED])
def test_related_item_records_cite_their_own_item(data, key, source):
    layer, record = key
    assert data[layer].loc[record, "source_id"] == source
    assert data["sources"].loc[source, "kind"] == "related_item"


def test_statuses_are_no_stronger_than_the_text(data):
    parks, projects = data["parks"], data["projects"]
    line = projects.loc["zhongzhou-shidai-phase-1-line-1"]
    assert line["status"] == "planned" and pd.isna(line["planned_date"]) and "尽快开工" in line["status_note_en"]
    assert projects.loc["zhongzhou-shidai-phase-1", "planned_date"] == "2024-Q2"  # the Q2 trial run is phase I's
    assert parks.loc["jinma-energy-base", "status"] == "unknown"
    assert projects.loc["jinma-energy-upsizing", "status"] == "planned"
    assert parks.loc["ruxiu-returnee-entrepreneurship-park", "status"] == "unknown"
    assert projects.loc["ruxiu-returnee-park-phase-3", "status"] == "planned"
    assert pd.isna(projects.loc["luoyang-petrochemical-styrene", "planned_date"])
    assert parks.loc["zhengda-tech-community", "status"] != "operating"


def test_the_enclave_park_is_not_pinned_to_one_county(data):
    enclave = data["parks"].loc["jianxi-mianchi-enclave-park"]
    assert enclave["location_precision"] == "city"
    assert enclave["partner_district_codes"] == "410305;411221"
    assert "涧西" in enclave["location_note_zh"] and "渑池" in enclave["location_note_zh"]


def test_figures_carry_their_qualifiers(data):
    parks, projects, d = data["parks"], data["projects"], data["districts"].set_index("code")
    base = parks.loc["zhongzhou-shidai-base"]
    assert (base["jobs_planned"], base["jobs_planned_qualifier"]) == (20000, "nearly")
    assert (base["chain_output_cny_100m_per_yr"], base["chain_output_cny_100m_per_yr_qualifier"]) == (2000, "nearly")
    phase1 = projects.loc["zhongzhou-shidai-phase-1"]
    assert (phase1["investment_cny_100m"], phase1["investment_cny_100m_qualifier"]) == (140, "approx")
    assert (d.loc["410304", "fund_total_cny_100m"], d.loc["410304", "fund_total_cny_100m_qualifier"]) == (50, "proposed")
    assert parks.loc["chanhe-dual-carbon-park", "fund_cny_100m_qualifier"] == "proposed"
    for name in ("parks", "projects", "institutions"):
        for col in [c for c in data[name] if c.endswith("_qualifier")]:
            assert data[name][col].dropna().isin(QUALIFIERS).all()
            figure = col.removesuffix("_qualifier")
            assert data[name].loc[data[name][col].notna(), figure].notna().all(), col  # no qualifier without a figure


def test_excerpts_carry_the_fact_they_support(data):
    assert "20亿元" in data["parks"].loc["chanhe-dual-carbon-park", "source_excerpt"]
    industries = siting.read_industries()
    recycling = industries.loc["battery-recycling"]
    assert recycling["basis"] == "derived" and "recycling" in recycling["derived_rule"]
    cited = industries[industries["basis"] == "cited"]
    assert (cited["source_excerpt"].str.len() > 0).all() and set(industries["basis"]) == {"cited", "derived"}


def test_missing_items_are_there(data):
    links = chain.read_chain()
    assert "fuel-cell" in set(links["link_id"])
    assert "fuel-cells" in set(siting.read_industries()["id"])
    inst = data["institutions"]
    profile = inst.loc["luoyang-new-energy-industry"]
    assert (profile["chain_firms_count"], profile["chain_firms_count_qualifier"]) == (20, "more_than")
    assert "燃料电池" in profile["chain_fields_zh"] and "燃料电池" in profile["source_excerpt"]
    assert "十一五" in inst.loc["luoyang-new-energy-since-11th-plan", "since_period_zh"]
    base = data["parks"].loc["zhongzhou-shidai-base"]
    assert base["build_standard_zh"] == "灯塔工厂"
    phase1 = data["projects"].loc["zhongzhou-shidai-phase-1"]
    assert (phase1["talks_to_signing_days"], phase1["talks_to_signing_days_qualifier"]) == (100, "approx")
    assert (phase1["signing_to_start_days"], phase1["signing_to_start_days_qualifier"]) == (100, "less_than")
    corridors = data["corridors"]
    assert corridors["plan_zh"].str.contains("2021年洛阳都市圈一体化发展工作要点").all()
    assert corridors["city_plan_zh"].str.contains("洛阳市推动现代化都市圈建设2021年工作要点").all()
    assert (corridors["city_plan_tasks_count"] == 8).all()
    fund = data["districts"].set_index("code").loc["410304"]
    assert fund["fund_other_targets_zh"] == "先进制造业;乡村振兴产业"
    coop = inst.loc["luoyang-polytechnic-cooperation"]
    assert coop["partner_firms_count"] == 9 and "栾川县" in coop["partners_zh"]
    assert data["parks"].loc["luoyang-green-casting-park", "reported_date_text_zh"] == "6月2日"


def test_notes_are_bilingual(data):
    for name in ("parks", "projects"):
        status = data[name]
        both = status["status_note_en"].notna() == status["status_note_zh"].notna()
        assert both.all(), name
        assert status["status_note_zh"].dropna().str.contains(r"[\u4e00-\u9fff]").all()
