"""Site selection on the real data: what a planner would expect, weights, constraints, errors, determinism."""

from __future__ import annotations

import pytest

from geo import siting
from geo.errors import NotFoundError, ValidationError


def ids(result, n=None):
    return list(result.ranking["id"])[:n]


def test_battery_materials_rank_the_new_energy_park_first(layers):
    r = siting.rank_parks(layers, industry_id="battery-materials")
    assert ids(r, 1) == ["luoyang-new-energy-park"]
    top = r.ranking.iloc[0]
    assert 0 <= top.score <= 100 and top["rank"] == 1
    assert top.breakdown["anchor"]["distance_km"] == 0
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
    # weight only talent: the parks nearest a university come first
    talent = siting.rank_parks(layers, industry_id="battery-materials",
                               weights="theme=0,corridor=0,chain=0,anchor=0,status=0,talent=1")
    assert ids(talent, 1) != ids(default, 1)
    assert talent.ranking.iloc[0].breakdown["talent"]["score"] == 1.0


def test_ranking_is_deterministic(layers):
    a = siting.rank_parks(layers, industry_id="castings")
    b = siting.rank_parks(layers, industry_id="castings")
    assert ids(a) == ids(b) and list(a.ranking["score"]) == list(b.ranking["score"])


def test_constraints(layers):
    within = siting.rank_parks(layers, industry_id="battery-materials",
                               constraints=siting.Constraints(within_km=20, of_feature="ruzhou-prefab-park"))
    assert set(ids(within)) == {"ruzhou-prefab-park", "ruxiu-returnee-entrepreneurship-park"}
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
    assert r.empty_because.startswith("corridor (in luo-ru) excluded all 1 remaining parks")
    assert [s["after"] for s in r.constraints] == [1, 0]


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
