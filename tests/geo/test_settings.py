"""Settings are read and checked once; a bad one stops start-up naming it."""

from __future__ import annotations

import pytest

from geo.settings import DEFAULT_STORE, Settings, SettingsError


def test_defaults_run_out_of_the_box():
    s = Settings.from_mapping({})
    assert s.store == str(DEFAULT_STORE) and DEFAULT_STORE.parent.name == "instance" and not s.is_postgis
    assert (s.belt_km, s.tiles, s.tiles_crs, s.cjk_font) == (15.0, "offline", "wgs84", None)


def test_values_are_read_and_typed():
    s = Settings.from_mapping({"CORRIDORS_STORE": "gpkg:/srv/corridors.gpkg", "CORRIDOR_BELT_KM": "40",
                               "TILES": "http://tiles.intranet/{z}/{x}/{y}.png", "TILES_CRS": "CGCS2000"})
    assert (s.store, s.belt_km, s.tiles_crs) == ("/srv/corridors.gpkg", 40.0, "cgcs2000")


@pytest.mark.parametrize("values, name", [
    ({"CORRIDOR_BELT_KM": "wide"}, "CORRIDOR_BELT_KM"),
    ({"CORRIDOR_BELT_KM": "0"}, "CORRIDOR_BELT_KM"),
    ({"TILES_CRS": "gcj02"}, "TILES_CRS"),
    ({"TILES_CRS": "utm"}, "TILES_CRS"),
    ({"TILES": "http://tiles/no-template.png"}, "TILES"),
    ({"DATABASE_URL": "/srv/corridors.gpkg"}, "DATABASE_URL"),
    ({"DATABASE_URL": "mysql://db/corridors"}, "DATABASE_URL"),
])
def test_a_bad_setting_is_refused_by_name(values, name):
    with pytest.raises(SettingsError) as err:
        Settings.from_mapping(values)
    assert err.value.field == name and name in str(err.value)


def test_database_url_selects_postgis_unless_a_store_is_named():
    url = "postgresql://planner:secret@db.intranet/corridors"
    s = Settings.from_mapping({"DATABASE_URL": url})
    assert (s.store, s.is_postgis) == (url, True)
    s = Settings.from_mapping({"DATABASE_URL": url, "CORRIDORS_STORE": "/srv/corridors.gpkg"})
    assert (s.store, s.is_postgis) == ("/srv/corridors.gpkg", False)
    assert Settings.from_mapping({"CORRIDORS_STORE": "postgres://db/c"}).is_postgis
