"""Each setting reaches every endpoint that depends on it (a 40 km belt everywhere, not 15 on some)."""

from __future__ import annotations

import pytest

from geo.settings import SettingsError
from webmap import create_app


@pytest.fixture(scope="module")
def clients(store_path):
    def client(**config):
        return create_app({"TESTING": True, "CORRIDORS_STORE": str(store_path), **config}).test_client()
    return client(), client(CORRIDOR_BELT_KM="40")


def test_belt_width_reaches_every_endpoint(clients):
    narrow, wide = clients
    assert wide.get("/api/corridors").get_json()["belt_km"] == 40
    assert all(c["belt_km"] == 40 for c in wide.get("/api/corridors").get_json()["corridors"])
    # membership by belt: a wider belt holds at least as much, and the pages say 40 km
    for url in ("/api/layers/parks?corridor=luo-mian&format=json", "/api/layers/projects?corridor=luo-gong&format=json"):
        assert len(wide.get(url).get_json()["features"]) >= len(narrow.get(url).get_json()["features"])
    assert len(wide.get("/api/layers/parks?corridor=luo-mian&format=json").get_json()["features"]) > len(
        narrow.get("/api/layers/parks?corridor=luo-mian&format=json").get_json()["features"])
    chain_wide = wide.get("/api/chain?corridor=luo-mian").get_json()
    chain_narrow = narrow.get("/api/chain?corridor=luo-mian").get_json()
    assert len(chain_wide["present"]) >= len(chain_narrow["present"])
    assert wide.get("/api/corridors/luo-mian").get_json()["belt_km"] == 40
    assert "40" in wide.get("/corridors").get_data(as_text=True)
    svg = wide.get("/export/map.svg?corridor=luo-mian").get_data(as_text=True)
    assert "±40 km" in svg or "± 40 km" in svg or "40 km" in svg
    surface_wide = wide.get("/api/site/surface?industry=battery-materials&spacing_km=10").get_json()
    surface_narrow = narrow.get("/api/site/surface?industry=battery-materials&spacing_km=10").get_json()
    in_belt = [sum(1 for f in s["features"] if f["properties"]["corridors"]) for s in (surface_wide, surface_narrow)]
    assert in_belt[0] > in_belt[1]
    site_wide = wide.get("/api/site?industry=precision-bearings&format=json").get_json()["ranking"]
    site_narrow = narrow.get("/api/site?industry=precision-bearings&format=json").get_json()["ranking"]
    assert site_wide != site_narrow


def test_a_bad_setting_stops_start_up(store_path):
    with pytest.raises(SettingsError, match="CORRIDOR_BELT_KM"):
        create_app({"CORRIDORS_STORE": str(store_path), "CORRIDOR_BELT_KM": "-3"})
    with pytest.raises(SettingsError, match="TILES_CRS"):
        create_app({"CORRIDORS_STORE": str(store_path), "TILES_CRS": "bd09"})


def test_possible_area_radii_reach_the_queries(tmp_path, store_path):
    """TOWN_RADIUS_KM sizes the possible area of a record located to a town, in every answer."""
    import shutil

    from geo import crs
    from geo.ledger.edits import edit_record
    from geo.store import GeoPackageStore

    path = tmp_path / "corridors.gpkg"
    shutil.copy(store_path, path)
    edit_record(GeoPackageStore(path), "projects", "youbo-battery-foil", properties={"location_precision": "town"},
                expected_etag=None, user="editor1")
    for km in (3, 12):
        client = create_app({"TESTING": True, "CORRIDORS_STORE": str(path), "TOWN_RADIUS_KM": str(km)}).test_client()
        area = client.get("/api/possible-area?feature=youbo-battery-foil").get_json(force=True)
        lon, lat = area["geometry"]["coordinates"][0][0]
        assert crs.geodesic_distance_m(112.789, 34.727, lon, lat) == pytest.approx(km * 1000, rel=0.01)
        hit = client.get("/api/near?lon=112.789&lat=34.727&radius_km=5&layer=projects&format=json").get_json()
        foil = next(f for f in hit["features"] if f["id"] == "youbo-battery-foil")
        assert foil["distance_max_km"] == pytest.approx(km, rel=0.01)
        assert foil["certainty"] == ("certain" if km < 5 else "possible")
    with pytest.raises(SettingsError, match="TOWN_RADIUS_KM"):
        create_app({"CORRIDORS_STORE": str(path), "TOWN_RADIUS_KM": "0"})
