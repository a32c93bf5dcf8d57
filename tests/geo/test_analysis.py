"""Joins, corridor belts, corridor standing and chain coverage on the real data."""

from __future__ import annotations

import pytest

from geo import analysis, chain
from geo.errors import NotFoundError, ValidationError


@pytest.fixture(scope="module")
def joined(layers):
    return analysis.joined(layers)


def _row(gdf, id_):
    return gdf[gdf["id"] == id_].iloc[0]


def test_zhongzhou_base_is_in_the_new_energy_park(layers, joined):
    base = _row(layers["parks"], "zhongzhou-shidai-base")
    assert base.parent_park_id == "luoyang-new-energy-park"
    phase1 = _row(joined["projects"], "zhongzhou-shidai-phase-1")
    assert (phase1.park_id, phase1.park_join) == ("zhongzhou-shidai-base", "named")
    # 伊滨区 lies in 洛龙区 on the current boundaries
    assert phase1.county_code == "410311"


def test_zhongzhou_base_belts_with_reasons(joined):
    # No corridor plan names the new-energy park. The article places it only in 伊滨区 (now in 洛龙区):
    # the 洛巩 belt crosses that county without covering it, so the base is possibly in that belt, and
    # certainly in none (its stand-in point lies in the belt, which alone proves nothing).
    base = _row(joined["parks"], "zhongzhou-shidai-base")
    assert base.plan_corridor_id is None
    assert base.belt_ids == ""
    assert "luo-gong" in base.belt_ids_possible.split(";")


def test_a_feature_may_lie_in_two_belts(layers):
    wide = analysis.joined(layers, belt_km=40)
    assert ";" in _row(wide["parks"], "zhongzhou-shidai-base").belt_ids


def test_petrochemical_projects_are_in_the_luo_ji_jiao_belt(joined):
    styrene = _row(joined["projects"], "luoyang-petrochemical-styrene")
    # named in the plan; located only to 孟津区, which the belt crosses: possibly in it by location
    assert styrene.plan_corridor_id == "luo-ji-jiao" and styrene.belt_ids == ""
    assert "luo-ji-jiao" in styrene.belt_ids_possible.split(";")
    assert styrene.county_code == "410308"
    members = analysis.corridor_members(joined["projects"], "luo-ji-jiao").set_index("id")
    assert (members.loc["luoyang-petrochemical-styrene", ["membership", "in_belt"]] == ["named", "possible"]).all()


def test_a_site_record_is_certainly_in_a_belt(layers):
    parks = layers["parks"].copy()
    at = parks["id"] == "zhongzhou-shidai-base"
    parks.loc[at, "location_precision"] = "site"
    j = analysis.joined({**layers, "parks": parks})
    assert _row(j["parks"], "zhongzhou-shidai-base").belt_ids == "luo-gong"
    parks.loc[at, "location_precision"] = "town"  # an 8 km circle around the point: crosses the belt's edge?
    town = _row(analysis.joined({**layers, "parks": parks}, radii_km={"town": 0.5})["parks"], "zhongzhou-shidai-base")
    assert town.belt_ids == "luo-gong"  # a 0.5 km circle around a point well inside the belt


def test_belt_width_is_a_setting(layers, monkeypatch):
    narrow = analysis.corridor_belts(layers["corridors"], 5)
    wide = analysis.corridor_belts(layers["corridors"], 15)
    assert (wide["area_km2"] > narrow["area_km2"] * 2.5).all()
    monkeypatch.setenv("CORRIDOR_BELT_KM", "5")  # geo never reads the environment: settings are handed down
    assert (analysis.corridor_belts(layers["corridors"])["belt_km"] == analysis.DEFAULT_BELT_KM).all()
    # a 15 km buffer of a 54.4 km axis is about 2*15*54.4 + pi*15^2 km²
    gong = wide.set_index("id").loc["luo-gong"]
    assert gong.area_km2 == pytest.approx(2 * 15 * 54.4 + 3.14159 * 15**2, rel=0.02)


def test_bad_belt_width(layers):
    with pytest.raises(ValidationError, match="belt_km"):
        analysis.corridor_belts(layers["corridors"], 0)


def test_corridor_standing_traces_to_the_data(layers):
    standing = {c["id"]: c for c in analysis.corridor_standing(layers)}
    assert set(standing) == {"luo-ji-jiao", "luo-gong", "luo-mian", "luo-ru"}
    ljj = standing["luo-ji-jiao"]
    assert ljj["investment_target_2021_cny_100m"] == 25
    # the articles give no investment figure for any project of the plan: unknown, never 0
    assert ljj["investment_known_cny_100m"] is None and ljj["share_of_target_known"] is None
    assert ljj["projects_named"] == 4
    assert ljj["projects_by_status"] == {"under_construction": 2, "planned": 2}
    assert {d["code"] for d in ljj["districts_crossed"]} >= {"410308", "419001"}
    assert 100 < ljj["axis_length_km"] < 130
    ru = standing["luo-ru"]
    assert ru["investment_target_2021_cny_100m"] == 40 and ru["parks_named"] == 5
    assert {"410326", "410482", "410329"} <= {d["code"] for d in ru["districts_crossed"]}


def test_city_precision_records_join_corridors_only_when_named(layers):
    standing = {c["id"]: c for c in analysis.corridor_standing(layers)}
    gong = standing["luo-gong"]
    gong_parks = {p["id"]: (p["membership"], p["in_belt"]) for p in gong["parks"]}
    assert gong_parks["zhongyuan-energy-saving-park"] == ("named", "possible")  # city precision: by the plan
    # located only to the city, named in 洛汝: the 洛巩 belt crosses the city, so possibly in it, never certainly
    assert gong_parks["anhua-prefab-park"] == ("possible", "possible")
    # 瀍河区 lies wholly within 15 km of the 洛巩 axis: its parks are certainly in the belt
    assert gong_parks["chanhe-dual-carbon-park"] == ("belt", "certain")
    assert gong["parks_in_belt"] == sum(1 for _, b in gong_parks.values() if b == "certain") == 2
    assert gong["parks_possibly_in_belt"] == sum(1 for _, b in gong_parks.values() if b == "possible")
    assert gong["projects_possibly_in_belt"] > 0


def test_standing_keeps_named_belt_and_possible_investment_apart(layers):
    standing = {c["id"]: c for c in analysis.corridor_standing(layers)}
    for c in standing.values():
        # no project named in any plan has a figure: unknown, never 0, whatever lies in the belt
        assert c["investment_known_cny_100m"] is None and c["share_of_target_known"] is None
        # 中州时代 phase I (about 140 亿元) is located only to 洛龙区, which every belt crosses: possibly in each
        assert c["investment_possibly_in_belt_cny_100m"] == 140
        assert c["investment_possibly_in_belt_cny_100m_qualifier"] == "approx"
        assert c["projects_possibly_in_belt_with_investment"] == 1
        # the group is the projects not named in the plan that are possibly in the belt
        assert (c["projects_possibly_in_belt_with_investment"] + c["projects_possibly_in_belt_without_investment"]
                == sum(p["membership"] == "possible" for p in c["projects"]))
        # nothing unnamed lies certainly in a belt: no projects there, so no figure (not 0)
        assert c["investment_in_belt_cny_100m"] is None and c["projects_in_belt_not_named"] == 0
        phase1 = next(p for p in c["projects"] if p["id"] == "zhongzhou-shidai-phase-1")
        assert (phase1["membership"], phase1["investment_cny_100m"], phase1["location_precision"]) == (
            "possible", 140, "district")
    ljj = standing["luo-ji-jiao"]
    assert ljj["projects_without_investment"] == 4 and ljj["projects_by_status"] == {"under_construction": 2,
                                                                                      "planned": 2}
    assert sum(ljj["projects_by_status_possibly_in_belt"].values()) == ljj["projects_possibly_in_belt"] - 4  # 4 named
    mian = standing["luo-mian"]  # 义马广全 is named and certainly in the belt: counted with the named ones
    assert mian["projects_named"] == 1 and mian["projects_in_belt"] == 1 and mian["projects_in_belt_not_named"] == 0
    assert mian["projects_by_status_in_belt"] == {}


def test_standing_counts_the_city_located_records_apart(layers):
    standing = {c["id"]: c for c in analysis.corridor_standing(layers)}
    city_parks = set(layers["parks"].loc[layers["parks"]["location_precision"] == "city", "id"])
    for c in standing.values():
        apart = {p["id"] for p in c["parks"] if p["location_precision"] == "city"
                 and not p["membership"].startswith("named")}
        assert apart <= city_parks and c["parks_located_to_city"] == len(apart)
    # every axis starts at the city centre: the city-located parks are possibly in every belt
    assert standing["luo-ji-jiao"]["parks_located_to_city"] == len(city_parks)
    assert standing["luo-gong"]["parks_located_to_city"] == len(city_parks) - 1  # 中原节能环保产业园: named there


def test_standing_names_the_chains_the_themes_fit(layers):
    fits = {c["id"]: c["chains"] for c in analysis.corridor_standing(layers)}
    assert fits["luo-ji-jiao"] == [] and fits["luo-gong"] == [] and fits["luo-ru"] == []
    # new materials: a related theme of battery materials, graphene and battery foil, not their primary one
    (mian,) = fits["luo-mian"]
    assert (mian["chain"], mian["fit"], mian["shared_themes"]) == ("new_energy", "related", ["new-materials"])
    assert {i["id"] for i in mian["industries"]} == {"battery-materials", "graphene", "battery-foil"}


def test_chains_for_themes():
    assert chain.chains_for_themes("petrochemicals;coal-chemicals") == []
    (cells,) = chain.chains_for_themes(["battery-cells"])
    assert cells["fit"] == "primary" and [i["id"] for i in cells["industries"]] == ["battery-cells"]
    assert chain.chains_for_themes("") == [] and chain.chains_for_themes(None) == []
    assert chain.chain_name("new_energy") == ("新能源电池产业链", "new-energy battery chain")


def test_metro_chain_coverage(layers):
    cov = chain.coverage(layers)
    assert cov["scope"] == "metro"
    assert {"cell", "foil", "anode", "application"} <= set(cov["present"])
    assert {"cathode", "electrolyte", "separator", "recycling"} <= set(cov["missing"])
    cell = next(link for link in cov["links"] if link["link_id"] == "cell")
    assert {"zhongzhou-shidai-phase-1", "avic-lithium-battery"} <= {b["id"] for b in cell["by"]}
    assert cov["unknown_links"] == []


def test_park_chain_coverage_includes_child_parks(layers):
    cov = chain.coverage(layers, park="luoyang-new-energy-park")
    assert cov["present"] == ["anode", "structural-parts", "cell"]
    assert "foil" in cov["missing"]  # 优箔 is in 偃师, not in the park


def test_corridor_chain_coverage(layers):
    cov = chain.coverage(layers, corridor="luo-gong")
    # 优箔 (foil) and 中州时代 (cell) are located only to counties the 洛巩 belt crosses: possibly in it
    assert {"foil", "cell"} <= set(cov["possible"]) and cov["present"] == []
    assert not {"foil", "cell"} & set(cov["missing"])
    assert chain.coverage(layers, corridor="luo-ru")["present"] == []


def test_chain_definition_is_bilingual_and_ordered():
    links = chain.read_chain()
    assert list(links["position"]) == sorted(links["position"])
    assert links.iloc[0]["link_id"] == "cathode" and links.iloc[-1]["link_id"] == "recycling"
    assert links["name_zh"].str.len().gt(0).all() and links["name_en"].str.len().gt(0).all()


def test_chain_errors(layers):
    with pytest.raises(NotFoundError, match="unknown park"):
        chain.coverage(layers, park="nope")
    with pytest.raises(NotFoundError, match="unknown corridor 'nope'"):
        chain.coverage(layers, corridor="nope")
    with pytest.raises(NotFoundError, match="unknown chain"):
        chain.coverage(layers, chain="steel")
