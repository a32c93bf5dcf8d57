"""Editing records on the map (geo.ledger.edits) on both stores: one change each, logged, undoable, never
overwriting an edit made meanwhile, and refusing bad input before anything is written."""

from __future__ import annotations

import pytest

from geo.dataset import load_dataset
from geo.errors import ConflictError, NotFoundError, ValidationError
from geo.ledger.changes import LOG, commit, history, history_records, records_of, revert
from geo.ledger.edits import add_record, delete_record, edit_record, record_etag, row_etag
from geo.store import Update

PROJECT = "zhongzhou-shidai-phase-1"




def _record(store, record_id: str = PROJECT, layer: str = "projects"):
    return records_of(store.read(layer)).get(record_id)


def _state(store) -> tuple[int, int, str]:
    """How many change-log rows and register rows the store has, and the projects layer as text."""
    return len(store.read(LOG)), len(store.read("sources")), store.read("projects").to_json()


def _undo(store, change_id: str):
    return commit(store, lambda layers, _cid: (revert(layers[LOG], change_id), Update()), user="admin",
                  kind="undo", reverts=change_id)


def test_an_edit_is_one_logged_change_citing_a_new_edit_source_and_undone_by_revert(built):
    before = _record(built)
    done = edit_record(built, "projects", PROJECT,
                       properties={"status": "operating", "capacity_gwh": 72.5, "jobs_planned": 1200,
                                   "status_note_en": None, "name_en": "Phase I, edited"},
                       geometry=None, expected_etag=record_etag(before), user="张三")
    assert done.change_id == "c000002" and done.counts() == {"add": 0, "update": 1, "delete": 0}
    now = _record(built)
    assert now == done.record and record_etag(now) == done.etag  # the ETag the client gets is the store's
    props = now["properties"]
    assert props["status"] == "operating" and props["capacity_gwh"] == 72.5 and props["jobs_planned"] == 1200
    assert "status_note_en" not in props and props["name_en"] == "Phase I, edited"
    assert props["source_id"] == "edit-c000002" and "source" not in props and "source_excerpt" not in props
    assert now["geometry"] == before["geometry"] and props["location_precision"] == "district"

    source = built.read("sources").set_index("id").loc["edit-c000002"]
    assert source["kind"] == "edit" and source["user_name"] == "张三" and source["change_id"] == "c000002"
    assert source["title_zh"] == f"编辑 projects/{PROJECT}（张三）"
    assert source["title_en"] == f"Edit of projects/{PROJECT} (张三)" and source["recorded_at"]

    [row] = history_records(history(built.read(LOG), change_id="c000002"))
    assert row["kind"] == "edit" and row["operation"] == "update" and row["user_name"] == "张三"
    assert row["before"] == before and row["after"] == now and row["source_id"] == "edit-c000002"

    undo = _undo(built, "c000002")
    assert undo.change_id == "c000003" and _record(built) == before


def test_moving_a_record_sets_its_position_precision_notes_and_district(built):
    before = _record(built)
    done = edit_record(built, "projects", PROJECT, properties={},
                       geometry={"type": "Point", "coordinates": [112.7946123456, 34.7259]},  # 偃师区
                       expected_etag=record_etag(before), user="editor1")
    props = _record(built)["properties"]
    assert done.record["geometry"] == {"type": "Point", "coordinates": [112.7946123, 34.7259]}
    assert (props["lon"], props["lat"]) == (112.7946123, 34.7259) and props["location_precision"] == "site"
    assert props["location_note_en"] == "edited on the map by editor1"
    assert props["location_note_zh"] == "在地图上由 editor1 编辑"
    assert before["properties"]["district_code"] == "410311" and props["district_code"] == "410307"
    assert "functional_zone_zh" not in props  # a zone of the district it left
    # the precision and the notes as the client gives them
    again = edit_record(built, "projects", PROJECT, properties={"location_precision": "street",
                                                                "location_note_en": "by the gate"},
                        geometry={"type": "Point", "coordinates": [112.80, 34.72]}, expected_etag=done.etag,
                        user="editor1")
    props = again.record["properties"]
    assert props["location_precision"] == "street" and props["location_note_en"] == "by the gate"
    assert props["location_note_zh"] == "在地图上由 editor1 编辑"


def test_the_etag_of_a_served_row_is_the_etag_of_the_stored_record(built):
    edit_record(built, "projects", PROJECT, properties={"capacity_gwh": 61.0, "jobs_planned": 7},
                geometry={"type": "Point", "coordinates": [112.6412345, 34.6151]},
                expected_etag=None, user="editor1")
    served = load_dataset(built).layers["projects"]  # with the register's titles joined
    assert "source_title_zh" in served.columns
    stored = records_of(built.read("projects"))
    for i in range(len(served)):
        row = served.iloc[i]
        etag = row_etag(row.drop(served.geometry.name).to_dict(), served.geometry.iloc[i])
        assert etag == record_etag(stored[row["id"]]), row["id"]


def test_adding_a_record_is_one_change_and_an_undo_removes_it(built):
    done = add_record(built, "projects", properties={"name_zh": "洛阳新材料项目", "status": "planned",
                                                     "industry": "battery-materials"},
                      geometry={"type": "Point", "coordinates": [112.79, 34.72]}, user="李四")
    rid = done.record_id
    assert rid.startswith("prj-") and done.counts() == {"add": 1, "update": 0, "delete": 0}
    now = _record(built, rid)
    assert now == done.record and record_etag(now) == done.etag
    assert now["properties"]["source_id"] == f"edit-{done.change_id}"
    assert now["properties"]["location_precision"] == "site" and now["properties"]["district_code"]
    [row] = history_records(history(built.read(LOG), change_id=done.change_id))
    assert row["operation"] == "add" and row["before"] is None and row["after"] == now
    with pytest.raises(ConflictError, match=rid):  # the same name again: edit that record instead
        add_record(built, "projects", properties={"name_zh": "洛阳新材料项目"},
                   geometry={"type": "Point", "coordinates": [112.79, 34.72]}, user="李四")
    _undo(built, done.change_id)
    assert _record(built, rid) is None


def test_deleting_a_record_is_one_change_and_an_undo_brings_it_back(built):
    before = _record(built)
    done = delete_record(built, "projects", PROJECT, expected_etag=record_etag(before), user="王五")
    assert done.record is None and _record(built) is None
    [row] = history_records(history(built.read(LOG), change_id=done.change_id))
    assert row["operation"] == "delete" and row["before"] == before and row["after"] is None
    assert row["source_id"] == f"edit-{done.change_id}"
    assert f"edit-{done.change_id}" in set(built.read("sources")["id"])
    with pytest.raises(NotFoundError):
        delete_record(built, "projects", PROJECT, expected_etag=record_etag(before), user="王五")
    _undo(built, done.change_id)
    assert _record(built) == before


def test_a_stale_etag_is_a_conflict_and_writes_nothing(built):
    seen = record_etag(_record(built))  # two users opened the same record
    first = edit_record(built, "projects", PROJECT, properties={"status": "operating"}, expected_etag=seen,
                        user="first")
    state = _state(built)
    with pytest.raises(ConflictError) as err:
        edit_record(built, "projects", PROJECT, properties={"status": "planned"}, expected_etag=seen,
                    user="second")
    assert err.value.http_status == 409 and PROJECT in str(err.value) and "reload" in str(err.value)
    with pytest.raises(ConflictError):
        delete_record(built, "projects", PROJECT, expected_etag=seen, user="second")
    assert _state(built) == state and _record(built)["properties"]["status"] == "operating"
    # with the record reloaded, the second user's edit lands
    edit_record(built, "projects", PROJECT, properties={"status": "planned"}, expected_etag=first.etag,
                user="second")
    assert _record(built)["properties"]["status"] == "planned"


def test_an_edit_that_changes_nothing_writes_nothing(built):
    before = _record(built)
    state = _state(built)
    done = edit_record(built, "projects", PROJECT, properties={"status": before["properties"]["status"]},
                       geometry=before["geometry"], expected_etag=record_etag(before), user="editor1")
    assert done.change_id is None and done.etag == record_etag(before) and _state(built) == state


def test_an_unknown_record_is_not_found(built):
    with pytest.raises(NotFoundError):
        edit_record(built, "projects", "no-such-project", properties={"status": "planned"}, expected_etag=None,
                    user="editor1")


@pytest.mark.parametrize("properties, geometry, field", [
    ({"colour": "red"}, None, "colour"),
    ({"source_id": "my-source"}, None, "source_id"),
    ({"id": "another-id"}, None, "id"),
    ({"source_excerpt": "text"}, None, "source_excerpt"),
    ({"lon": 112.5}, None, "lon"),
    ({"status": "finished"}, None, "status"),
    ({"location_precision": "house"}, None, "location_precision"),
    ({"capacity_gwh": -1}, None, "capacity_gwh"),
    ({"capacity_gwh": "lots"}, None, "capacity_gwh"),
    ({"jobs_planned": 2.5}, None, "jobs_planned"),
    ({"investment_cny_100m_qualifier": "about"}, None, "investment_cny_100m_qualifier"),
    ({"park_id": "no-such-park"}, None, "park_id"),
    ({"district_code": "999999"}, None, "district_code"),
    ({"reported_date": "26 Feb 2024"}, None, "reported_date"),
    ({"status": None}, None, "status"),  # required: changed, never cleared
    ({}, {"type": "Point", "coordinates": [121.47, 31.23]}, "geometry"),  # Shanghai
    ({}, {"type": "Point", "coordinates": [34.62, 112.45]}, "geometry"),  # swapped
    ({}, {"type": "LineString", "coordinates": [[112.4, 34.6], [112.5, 34.7]]}, "geometry"),
    ({}, {"type": "Point", "coordinates": ["112.4", 34.6]}, "geometry"),
])
def test_bad_input_is_refused_naming_the_field_and_writes_nothing(built, properties, geometry, field):
    state = _state(built)
    with pytest.raises(ValidationError) as err:
        edit_record(built, "projects", PROJECT, properties=properties, geometry=geometry,
                    expected_etag=record_etag(_record(built)), user="editor1")
    assert err.value.field == field and err.value.http_status == 400
    assert _state(built) == state


def test_adding_needs_a_name_and_a_point_in_an_editable_layer(built):
    state = _state(built)
    point = {"type": "Point", "coordinates": [112.45, 34.62]}
    for layer, properties, geometry, field in [
        ("projects", {"status": "planned"}, point, "name_zh"),
        ("projects", {"name_zh": "无位置项目"}, None, "geometry"),
        ("projects", {"name_zh": "坏状态项目", "status": "soon"}, point, "status"),
        ("corridors", {"name_zh": "新走廊"}, point, "layer"),
        ("parks", {"name_zh": "新园区", "kind": "mall"}, point, "kind"),
    ]:
        with pytest.raises(ValidationError) as err:
            add_record(built, layer, properties=properties, geometry=geometry, user="editor1")
        assert err.value.field == field, (layer, properties)
    assert _state(built) == state
