"""Real OGC API - Features clients against the real server (gunicorn, ``run.py serve``) over a copy of the
built store: OWSLib lists and pages through every collection; GDAL's OAPIF driver (through pyogrio) lists
the layers and reads each with a bbox and an attribute filter, giving the ids ``/api/layers`` gives."""

from __future__ import annotations

import json
import shutil
import urllib.request

import pyogrio
import pytest
import shapely
from owslib.ogcapi.features import Features

from tests.serving import running_server

COLLECTIONS = ["parks", "projects", "corridors", "institutions", "districts"]
#: (west, south, east, north), CRS84: central Luoyang.
BOX = (112.3, 34.55, 112.7, 34.75)
#: A queryable per layer that GDAL turns into a query parameter.
FILTERS = {"parks": "status", "projects": "status", "corridors": "location_precision", "institutions": "kind",
           "districts": "city_code"}


@pytest.fixture(scope="module")
def server(store_path, tmp_path_factory):
    """The shipped server over a private copy of the built store."""
    copy = tmp_path_factory.mktemp("ogc-clients") / "corridors.gpkg"
    shutil.copy(store_path, copy)
    with running_server(copy, workers=2) as srv:
        yield srv


def _layer(server, name):
    """The layer as /api/layers gives it (GeoJSON features)."""
    with urllib.request.urlopen(f"{server.base_url}/api/layers/{name}", timeout=30) as resp:
        return json.load(resp)["features"]


def _key(props):
    return props["id"] if props.get("id") is not None else props["code"]


def test_owslib_lists_and_pages_through_every_collection(server):
    api = Features(server.base_url + "/ogcapi")
    assert [c["id"] for c in api.collections()["collections"]] == COLLECTIONS
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in api.conformance()["conformsTo"]
    for name in COLLECTIONS:
        assert api.collection(name)["id"] == name
        assert FILTERS[name] in api.collection_queryables(name)["properties"]
        expected = [_key(f["properties"]) for f in _layer(server, name)]
        seen, offset = [], 0
        while True:
            page = api.collection_items(name, limit=4, offset=offset)
            assert page["numberMatched"] == len(expected)
            seen += [f["id"] for f in page["features"]]
            if not any(link["rel"] == "next" for link in page["links"]):
                break
            offset += page["numberReturned"]
        assert seen == expected, name
        one = api.collection_item(name, expected[0])
        assert one["id"] == expected[0]


def test_gdal_oapif_lists_the_layers(server):
    layers = pyogrio.list_layers("OAPIF:" + server.base_url + "/ogcapi")
    assert [str(name) for name, _ in layers] == COLLECTIONS
    types = {str(n): str(t) for n, t in layers}
    assert types["parks"] == "Point" and types["corridors"] == "LineString"


@pytest.mark.parametrize("name", COLLECTIONS)
def test_gdal_oapif_reads_with_bbox_and_attribute_filter(server, name):
    source = "OAPIF:" + server.base_url + "/ogcapi"
    features = _layer(server, name)
    everything = pyogrio.read_dataframe(source, layer=name, PAGE_SIZE=4)  # follows the next links
    assert sorted(map(str, everything["id"] if "id" in everything else everything["code"])) == \
        sorted(_key(f["properties"]) for f in features)
    column = FILTERS[name]
    box = shapely.box(*BOX)
    in_box = [f for f in features if shapely.geometry.shape(f["geometry"]).intersects(box)]
    value = next(f["properties"][column] for f in in_box if f["properties"].get(column))
    expected = sorted(_key(f["properties"]) for f in in_box if f["properties"].get(column) == value)
    frame = pyogrio.read_dataframe(source, layer=name, bbox=BOX, where=f"{column} = '{value}'")
    got = sorted(map(str, frame["id"] if "id" in frame else frame["code"]))
    assert got == expected and got, (name, column, value)
    # GDAL sent the box and the filter to the server (found them in the API definition), not only filtered locally
    log = server.log()
    assert f"/ogcapi/collections/{name}/items?" in log and f"{column}={value}" in log and "bbox=" in log
