"""Site selection on the real data: what a planner would expect, weights, constraints, errors, determinism,
and honest distances (intervals over the possible areas, expected scores with their range, ties)."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo import siting
from geo.errors import NotFoundError, ValidationError


def ids(result, n=None):
    return list(result.ranking["id"])[:n]


def test_battery_materials_rank_the_new_energy_park_first(layers):
    r = siting.rank_parks(layers, industry_id="battery-materials")
    assert ids(r, 1) == ["luoyang-new-energy-park"]
    top = r.ranking.iloc[0]
    assert 0 <= top.score_min <= top.score <= top.score_max <= 100 and top["rank"] == 1
    # the park and the anchor project are both located only to 洛龙区: 0 km at best, never "0.0 km"
    anchor = top.breakdown["anchor"]
    assert anchor["distance_min_km"] == 0 and anchor["distance_max_km"] > 20
    assert anchor["distance_km"] == 0 and anchor["distance_km_basis"] == "stand-in points"
    assert top.breakdown["chain"]["neighbours"]["downstream"] >= 3
    assert "电池材料" in top.reason_zh and "battery materials" in top.reason_en
    assert list(r.ranking["score"]) == sorted(r.ranking["score"], reverse=True)


def test_petrochemicals_rank_parks_of_the_luo_ji_jiao_belt_first(layers):
    r = siting.rank_parks(layers, industry_id="petrochemicals", top=2)
    assert set(ids(r)) == {"luoyang-high-end-petrochemical-base", "jinma-energy-base"}
    assert "洛济焦高端石化产业带" in r.ranking.iloc[0].reason_zh


@pytest.mark.parametrize("industry_id", ["green-building-materials", "prefabricated-construction"])
def test_building_materials_rank_the_luo_ru_belt_first(layers, industry_id):
    r = siting.rank_parks(layers, industry_id=industry_id, top=3)
    luo_ru = set(layers["parks"].loc[layers["parks"]["corridor_id"] == "luo-ru", "id"])
    assert set(ids(r)) <= luo_ru


def test_weights_change_the_order_when_they_should(layers):
    default = siting.rank_parks(layers, industry_id="battery-materials")
    # without the park-theme criterion the new-energy park and the 中州时代 base are alike: the tie is broken by id
    no_theme = siting.rank_parks(layers, industry_id="battery-materials", weights="theme=0")
    a, b = no_theme.ranking.iloc[0], no_theme.ranking.iloc[1]
    assert a.score == b.score and a.id < b.id
    assert b.id in a.tied_with and a.tie_rank == b.tie_rank == 1
    # weight only talent: the parks of the universities' county (洛龙区) come first, and tie: at that
    # precision nothing tells them apart
    talent = siting.rank_parks(layers, industry_id="battery-materials",
                               weights="theme=0,corridor=0,chain=0,anchor=0,status=0,talent=1")
    assert ids(talent) != ids(default)
    luolong = set(layers["parks"].loc[layers["parks"]["district_code"] == "410311", "id"])
    first = talent.ranking[talent.ranking["tie_rank"] == 1]
    assert set(first["id"]) == luolong
    assert first.iloc[0].breakdown["talent"]["score_max"] == 1.0
    assert first.iloc[0].breakdown["talent"]["distance_min_km"] == 0


def test_ranking_is_deterministic(layers):
    a = siting.rank_parks(layers, industry_id="castings")
    b = siting.rank_parks(layers, industry_id="castings")
    assert ids(a) == ids(b) and list(a.ranking["score"]) == list(b.ranking["score"])


def test_constraints(layers):
    within = siting.rank_parks(layers, industry_id="battery-materials",
                               constraints=siting.Constraints(within_km=20, of_feature="ruzhou-prefab-park"))
    # parks that may lie within 20 km of where 汝州装配式建筑产业园 may lie pass; the two of 汝州市 surely do
    certain = within.ranking[within.ranking["within_certainty"] == "certain"]
    assert set(certain["id"]) == {"ruzhou-prefab-park", "ruxiu-returnee-entrepreneurship-park"}
    maybe = int((within.ranking["within_certainty"] == "possible").sum())
    assert maybe > 0 and within.constraints[0]["possible"] == maybe
    assert f"{maybe} only possibly" in within.constraints[0]["detail"]
    assert f"其中 {maybe} 个仅可能在内" in within.constraints[0]["detail_zh"]
    assert "汝州装配式建筑产业园" in within.constraints[0]["detail"]
    in_district = siting.rank_parks(layers, industry_id="castings", constraints=siting.Constraints(districts=("410327",)))
    assert ids(in_district) == ["luoyang-green-casting-park"]
    outside = siting.rank_parks(layers, industry_id="castings",
                                constraints=siting.Constraints(exclude_districts=("410300",)))
    assert not set(ids(outside)) & {"luoyang-green-casting-park", "luoyang-new-energy-park"}
    operating = siting.rank_parks(layers, industry_id="castings", constraints=siting.Constraints(min_status="operating"))
    assert {r.status for r in operating.ranking.itertuples()} == {"operating"}
    corridor = siting.rank_parks(layers, industry_id="castings", constraints=siting.Constraints(corridors=("luo-mian",)))
    assert "mianchi-green-building-materials-park" in ids(corridor)


def test_constraint_that_excludes_everything_says_which(layers):
    r = siting.rank_parks(layers, industry_id="castings",
                          constraints=siting.Constraints(districts=("410327",), corridors=("luo-ru",)))
    assert r.ranking.empty
    assert r.empty_because_en.startswith("corridor (in 洛汝新型建材产业带 Luoyang–Ruzhou New Building Materials Belt "
                                         "(luo-ru)")
    assert r.empty_because_en.endswith("excluded all 1 remaining parks")
    assert r.empty_because_zh.startswith("产业带（在洛汝新型建材产业带内") and "排除了剩余的全部 1 个园区" in r.empty_because_zh
    assert r.empty_because == f"{r.empty_because_zh} · {r.empty_because_en}"
    assert [s["after"] for s in r.constraints] == [1, 0]
    # a district is named in both languages, not only by its code
    none = siting.rank_parks(layers, industry_id="castings", constraints=siting.Constraints(districts=("410324",)))
    assert "栾川县 Luanchuan County (410324)" in none.empty_because_en and "栾川县" in none.empty_because_zh


@pytest.mark.parametrize("weights, message", [("theme=-1", "number >= 0"), ("theme=x", "number >= 0"),
                                              ("speed=1", "unknown criterion 'speed'"),
                                              ("theme=0,corridor=0,chain=0,talent=0,anchor=0,status=0", "> 0")])
def test_bad_weights(layers, weights, message):
    with pytest.raises(ValidationError, match=message):
        siting.rank_parks(layers, industry_id="castings", weights=weights)


def test_unknown_industry_and_bad_constraints(layers):
    with pytest.raises(NotFoundError, match="unknown industry 'steel'; expected one of: battery-materials"):
        siting.rank_parks(layers, industry_id="steel")
    with pytest.raises(ValidationError, match="min_status"):
        siting.rank_parks(layers, industry_id="castings", constraints=siting.Constraints(min_status="done"))
    with pytest.raises(ValidationError, match="district"):
        siting.rank_parks(layers, industry_id="castings", constraints=siting.Constraints(districts=("999999",)))
    with pytest.raises(ValidationError, match="top"):
        siting.rank_parks(layers, industry_id="castings", top=0)


def test_score_functions_are_as_stated():
    assert siting.theme_score(["a", "b"], ["a", "c"]) == 1.0
    assert siting.theme_score(["c"], ["a", "c"]) == 0.5
    assert siting.theme_score(["d"], ["a", "c"]) == 0.0
    assert list(siting.talent_score(__import__("numpy").array([0, 5, 32.5, 60, 90]))) == [1, 1, 0.5, 0, 0]
    assert list(siting.anchor_score(__import__("numpy").array([0, 40, 80, 100]))) == [1, 0.5, 0, 0]
    assert list(siting.chain_score(__import__("numpy").array([0, 1, 3, 9]))) == pytest.approx([0, 1 / 3, 1, 1])


def test_suitability_surface(layers):
    grid = siting.suitability_surface(layers, industry_id="petrochemicals")
    assert grid.crs.to_epsg() == 4326 and len(grid) > 300
    assert grid["score"].between(0, 100).all()
    assert (grid["score_min"] <= grid["score"]).all() and (grid["score"] <= grid["score_max"]).all()
    best = grid.loc[grid["score"].idxmax()]
    assert "luo-ji-jiao" in best["corridors"]
    # hexagons are ~6 km apart: area of a regular hexagon with that inradius spacing
    area_km2 = grid.to_crs(32649).area.iloc[0] / 1e6
    assert area_km2 == pytest.approx(6**2 * 3**0.5 / 2, rel=0.01)


def test_every_industry_is_bilingual_and_scores(layers):
    table = siting.read_industries()
    assert table["id"].is_unique and (table["name_zh"] != "").all() and (table["name_en"] != "").all()
    for industry_id in table["id"]:
        r = siting.rank_parks(layers, industry_id=industry_id, top=1)
        assert len(r.ranking) == 1


# -- honest distances: intervals, expected scores, ties --------------------------------------------------
INDUSTRIES = ["battery-materials", "petrochemicals", "green-building-materials", "castings", "precision-bearings"]
CRITERIA = ("theme", "corridor", "chain", "talent", "anchor", "status")


@pytest.mark.parametrize("industry_id", INDUSTRIES)
def test_expected_score_lies_in_its_range_for_every_park(layers, industry_id):
    r = siting.rank_parks(layers, industry_id=industry_id)
    assert len(r.ranking) == len(layers["parks"])
    score, lo, hi = r.ranking["score"], r.ranking["score_min"], r.ranking["score_max"]
    assert (lo <= score).all() and (score <= hi).all()
    assert r.ranking["score_min"].between(0, 100).all() and r.ranking["score_max"].between(0, 100).all()
    assert list(r.ranking["score"]) == sorted(r.ranking["score"], reverse=True)  # ranked by the expected score
    for rec in r.ranking.itertuples():
        for k in CRITERIA:
            f = rec.breakdown[k]
            if f["score"] is not None:
                assert f["score_min"] <= f["score"] <= f["score_max"], (rec.id, k)
            if "distance_min_km" in f:
                assert 0 <= f["distance_min_km"] <= f["distance_max_km"]
        chain = rec.breakdown["chain"]
        assert chain["count_min"] <= chain["count_expected"] <= chain["count_max"]


def test_overlapping_areas_give_an_interval_from_zero_never_zero_point_zero(layers):
    r = siting.rank_parks(layers, industry_id="battery-materials")
    park = r.ranking.set_index("id").loc["luoyang-new-energy-park"]
    talent = park.breakdown["talent"]  # 河南科技大学 is located only to 洛龙区 as well
    assert talent["distance_min_km"] == 0 and talent["nearest"] == "河南科技大学"
    hi = int(np.ceil(talent["distance_max_km"]))
    assert f"距河南科技大学 0–{hi} km（两者均仅定位到区县）" in park.reason_zh
    assert f"within 0–{hi} km of 河南科技大学 (both located only to a district)" in park.reason_en
    for text in (park.reason_zh, park.reason_en):
        assert "0.0 km" not in text


SINGLE_KM = re.compile(r"(?<![\d.–])(\d+(?:\.\d+)?) km(?! 内有)")


def test_reasons_never_state_a_single_distance_for_a_coarsely_located_park(layers):
    for industry_id in siting.read_industries()["id"]:
        r = siting.rank_parks(layers, industry_id=industry_id)
        for rec in r.ranking.itertuples():
            assert rec.location_precision in ("district", "city")
            for text in (rec.reason_zh, rec.reason_en):
                radius = f"within {rec.breakdown['chain']['within_km']:g} km:"
                singles = SINGLE_KM.findall(text.replace(radius, ""))
                assert not singles, (rec.id, text)


def test_theme_wording_follows_the_score(layers):
    r = siting.rank_parks(layers, industry_id="battery-materials").ranking.set_index("id")
    fits, related = r.loc["luoyang-new-energy-park"], r.loc["zhongzhou-shidai-base"]
    assert fits.breakdown["theme"]["score"] == 1 and fits.breakdown["theme"]["match"] == "primary"
    assert "园区主题契合电池材料" in fits.reason_zh and "park themes fit battery materials" in fits.reason_en
    assert related.breakdown["theme"]["score"] == 0.5 and related.breakdown["theme"]["match"] == "related"
    assert "契合" not in related.reason_zh and "fit" not in related.reason_en.split(";")[0]
    assert "园区与电池材料有相关主题（lithium-battery, new-energy），但无其主要主题（battery-materials）" in related.reason_zh
    assert ("park shares a related theme with battery materials (lithium-battery, new-energy), "
            "not its primary theme (battery-materials)") in related.reason_en


def _with_twin(layers: dict, park_id: str, twin_id: str, point: shapely.Point | None = None) -> dict:
    parks = layers["parks"]
    twin = parks[parks["id"] == park_id].copy()
    twin["id"] = twin_id
    if point is not None:
        twin["geometry"] = [point]
    return {**layers, "parks": gpd.GeoDataFrame(pd.concat([parks, twin], ignore_index=True), crs=parks.crs)}


def test_parks_indistinguishable_at_their_precision_tie(layers):
    # a second casting park in 宜阳县, located only to the county like the first, drawn at another point of it
    districts = layers["districts"]
    yiyang = districts.loc[districts["code"] == "410327"].geometry.iloc[0]
    park = layers["parks"].set_index("id").loc["luoyang-green-casting-park"]
    elsewhere = yiyang.representative_point()
    assert not elsewhere.equals(park.geometry)
    twinned = _with_twin(layers, "luoyang-green-casting-park", "yiyang-twin-park", elsewhere)
    r = siting.rank_parks(twinned, industry_id="castings").ranking.set_index("id")
    a, b = r.loc["luoyang-green-casting-park"], r.loc["yiyang-twin-park"]
    assert (a.score, a.score_min, a.score_max) == (b.score, b.score_min, b.score_max)
    assert a.tied_with == ["yiyang-twin-park"] and b.tied_with == ["luoyang-green-casting-park"]
    assert a.tie_rank == b.tie_rank == 1 and {a["rank"], b["rank"]} == {1, 2}
    # the twin did not change anyone else's expected score (a park's draws depend on its own area only)
    alone = siting.rank_parks(layers, industry_id="castings").ranking.set_index("id")
    assert alone.loc["luoyang-green-casting-park", "score"] == a.score
    others = alone.index.drop("luoyang-green-casting-park")
    assert (alone.loc[others, "score"] == r.loc[others, "score"]).all()


def test_parks_that_differ_do_not_tie(layers):
    r = siting.rank_parks(layers, industry_id="castings").ranking
    for rec in r.itertuples():
        for other in rec.tied_with:
            o = r.set_index("id").loc[other]
            assert (o.score, o.score_min, o.score_max) == (rec.score, rec.score_min, rec.score_max)
    assert all(not t for t in r.loc[r["id"] == "luoyang-green-casting-park", "tied_with"])


def test_a_constraint_does_not_change_the_expected_scores(layers):
    every = siting.rank_parks(layers, industry_id="battery-materials").ranking.set_index("id")
    some = siting.rank_parks(layers, industry_id="battery-materials",
                             constraints=siting.Constraints(min_status="under_construction")).ranking.set_index("id")
    assert len(some) < len(every)
    assert (some["score"] == every.loc[some.index, "score"]).all()


def test_two_sites_give_an_exact_distance(layers):
    """When both ends are sites the reason states the distance exactly; the interval is that one number."""
    parks, projects = layers["parks"].copy(), layers["projects"].copy()
    parks.loc[parks["id"] == "luoyang-new-energy-park", "location_precision"] = "site"
    projects.loc[projects["id"] == "zhongzhou-shidai-phase-1", "location_precision"] = "site"
    r = siting.rank_parks({**layers, "parks": parks, "projects": projects}, industry_id="battery-materials")
    park = r.ranking.set_index("id").loc["luoyang-new-energy-park"]
    anchor = park.breakdown["anchor"]
    assert anchor["distance_min_km"] == anchor["distance_max_km"] == anchor["distance_km"]
    assert anchor["distance_km_basis"] == "sites" and anchor["score_min"] == anchor["score_max"]
    assert f"{anchor['distance_km']:.1f} km from the anchor project 中州时代生产基地一期" in park.reason_en
    assert f"距龙头项目中州时代生产基地一期 {anchor['distance_km']:.1f} km" in park.reason_zh
    # the university is still located only to the county: an interval, saying that only it is coarse
    assert "河南科技大学仅定位到区县" in park.reason_zh and "河南科技大学 located only to a district" in park.reason_en


def test_city_located_records_are_kept_with_wide_intervals(layers):
    """A park located only to the city is ranked, its distances spanning the city; a college located only to
    the city still counts as a possible talent site."""
    r = siting.rank_parks(layers, industry_id="precision-bearings").ranking.set_index("id")
    city = r.loc["xinqianglian-bearing-park"]
    assert city.location_precision == "city" and city.located_to_zh == "仅定位到洛阳市"
    assert city.breakdown["talent"]["distance_min_km"] == 0 and city.breakdown["talent"]["distance_max_km"] > 100
    assert "园区仅定位到城市" in city.reason_zh and "park located to 洛阳市 (Luoyang) only" in city.reason_en
    yima = r.loc["yima-coal-chemical-logistics-park"]  # 义马市 is not in Luoyang: the city's college may be nearest
    nearer = yima.breakdown["talent"].get("maybe_nearer")
    assert nearer is not None and nearer["name_zh"] == "洛阳职业技术学院"
    assert "洛阳职业技术学院可能更近" in yima.reason_zh and "洛阳职业技术学院 may be nearer" in yima.reason_en


def test_distance_text_rounds_outward():
    assert siting.distance_text(400.0, 30_200.0, exact=False) == "0–31 km"
    assert siting.distance_text(12_900.0, 13_100.0, exact=False) == "12–14 km"
    assert siting.distance_text(3_240.0, 3_240.0, exact=True) == "3.2 km"
