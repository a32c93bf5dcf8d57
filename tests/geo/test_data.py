"""The shipped data: cited, located honestly, inside the districts it names, with the articles' figures."""

from __future__ import annotations

import re

import geopandas as gpd
import pytest
import shapely

from geo.schema import LOCATION_PRECISIONS, SOURCE_EXCERPT_MAX_CHARS

ARTICLE_LAYERS = ("corridors", "parks", "projects", "institutions")
POINT_LAYERS = ("parks", "projects", "institutions")


def test_layers_are_named_exactly(store):
    assert store.layer_names() == ["districts", "corridors", "parks", "projects", "institutions", "sources", "changes"]


@pytest.mark.parametrize("name", ["districts", *ARTICLE_LAYERS])
def test_layers_are_wgs84(layers, name):
    assert layers[name].crs.to_epsg() == 4326


@pytest.mark.parametrize("name", ARTICLE_LAYERS)
def test_every_record_cites_an_article_and_an_excerpt(layers, name):
    gdf = layers[name]
    assert gdf["source"].str.fullmatch(r"\d{3}_[0-9a-f]{16}\.txt").all()
    assert gdf["source_excerpt"].str.len().between(4, SOURCE_EXCERPT_MAX_CHARS).all()
    assert gdf["id"].is_unique
    assert gdf["name_zh"].str.contains(r"[\u4e00-\u9fff]").all()
    assert gdf["name_en"].str.contains(r"[A-Za-z]").all()


@pytest.mark.parametrize("name", ARTICLE_LAYERS)
def test_every_record_says_how_precise_its_location_is(layers, name):
    gdf = layers[name]
    assert gdf["location_precision"].isin(LOCATION_PRECISIONS).all()
    assert (gdf["location_note_en"].str.len() > 10).all()
    assert gdf["location_note_zh"].str.contains(r"[\u4e00-\u9fff]").all()  # a Chinese reader learns it too


@pytest.mark.parametrize("name", POINT_LAYERS)
def test_every_located_record_lies_in_the_district_it_names(layers, name):
    districts = layers["districts"]
    for rec in layers[name].itertuples():
        county = districts[districts["code"] == rec.district_code]
        area = county if not county.empty else districts[districts["city_code"] == rec.district_code]
        assert not area.empty, f"{rec.id}: unknown district {rec.district_code}"
        polygon = shapely.union_all(area.geometry.values)
        assert polygon.covers(rec.geometry), f"{rec.id} is not inside {rec.district_code}"
        assert rec.geometry.x == pytest.approx(rec.lon) and rec.geometry.y == pytest.approx(rec.lat)


def test_city_precision_is_used_with_city_codes_only(layers):
    city_codes = set(layers["districts"]["city_code"])
    for name in POINT_LAYERS:
        gdf = layers[name]
        city = gdf[gdf["location_precision"] == "city"]
        assert city["district_code"].isin(city_codes).all()


def test_districts_cover_luoyang_and_the_corridor_neighbours(layers):
    d = layers["districts"]
    codes = set(d["code"])
    # current codes after the 2021 changes: 偃师区 410307, 孟津区 410308 (吉利区 410306 merged in)
    assert {"410307", "410308", "410311", "410305", "410304", "410327", "410326", "410329"} <= codes
    assert "410306" not in codes and "410381" not in codes
    assert {"419001", "410181", "411221", "411281", "410482", "410802", "410883"} <= codes
    luoyang_km2 = d.loc[d["city_code"] == "410300", "area_km2"].sum()
    assert 14_500 < luoyang_km2 < 16_000  # Luoyang is about 15,230 km²
    assert d.geometry.is_valid.all()


def test_corridors_are_the_four_belts_with_targets(layers):
    c = layers["corridors"].set_index("id")
    assert set(c.index) == {"luo-ji-jiao", "luo-gong", "luo-mian", "luo-ru"}
    targets = c["investment_target_2021_cny_100m"].to_dict()
    assert targets == {"luo-ji-jiao": 25, "luo-gong": 25, "luo-mian": 10, "luo-ru": 40}
    assert (c.geometry.geom_type == "LineString").all()
    lengths_km = gpd.GeoSeries(c.geometry, crs=4326).to_crs(32649).length / 1000
    assert lengths_km.between(30, 200).all()


def test_the_articles_figures_are_in_the_data(layers):
    p = layers["projects"].set_index("id")
    phase1 = p.loc["zhongzhou-shidai-phase-1"]
    assert (phase1.capacity_gwh, phase1.investment_cny_100m) == (60, 140)
    assert phase1.planned_date == "2024-Q2"
    assert p.loc["zhongzhou-shidai-phase-1-line-1"].capacity_gwh == 30
    assert p.loc["luoyang-petrochemical-styrene"].capacity_kt_per_yr == 120
    assert p.loc["luoyang-petrochemical-ethylene"].capacity_kt_per_yr == 1000
    assert p.loc["youbo-battery-foil"].capacity_kt_per_yr == 150
    parks = layers["parks"].set_index("id")
    ne = parks.loc["luoyang-new-energy-park"]
    assert (ne.signed_projects_count, ne.signed_investment_cny_100m, ne.started_projects_count) == (22, 187.6, 15)
    casting = parks.loc["luoyang-green-casting-park"]
    assert (casting.firms_count, casting.firms_operating_count, casting.firms_building_count) == (7, 4, 3)
    d = layers["districts"].set_index("code")
    assert d.loc["410304", "fund_total_cny_100m"] == 50
    assert d.loc["410304", "fund_digital_economy_cny_100m"] == 10


def test_unknown_figures_are_null_not_zero(layers):
    p = layers["projects"].set_index("id")
    assert p["investment_cny_100m"].isna().sum() > 0
    assert not (p["investment_cny_100m"] == 0).any()


def test_projects_name_the_parks_and_corridors_they_belong_to(layers):
    park_ids = set(layers["parks"]["id"])
    corridor_ids = set(layers["corridors"]["id"])
    p = layers["projects"]
    assert p["park_id"].dropna().isin(park_ids).all()
    assert p["corridor_id"].dropna().isin(corridor_ids).all()
    assert set(p.loc[p["id"].str.startswith("zhongzhou-shidai"), "park_id"]) == {"zhongzhou-shidai-base"}


def test_ids_are_slugs_and_unique_across_layers(layers):
    ids = [i for n in ARTICLE_LAYERS for i in layers[n]["id"]]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", i) for i in ids)
