"""The change log on both stores: commits, conflicts, undo, as_of, and builds that never lose an edit."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest

from geo.build import build_store
from geo.errors import ConflictError, NotFoundError
from geo.ledger.changes import LOG, as_of, commit, history, plan, records_of, revert
from geo.store import GeoPackageStore, Update
from tests.conftest import set_name_en

PARK = "luoyang-new-energy-park"




def _rename(store, name_en: str, *, before=None, user: str = "planner") -> str | None:
    """Commit an edit of the park's English name; ``before`` is the record the editor saw."""
    def planner(layers, change_id):
        current = records_of(layers["parks"])
        seen = before if before is not None else current[PARK]
        after = {"properties": {**seen["properties"], "name_en": name_en}, "geometry": seen["geometry"]}
        changes = plan("parks", {PARK: seen}, {PARK: after})
        return changes, Update()

    return commit(store, planner, user=user, kind="edit").change_id


def test_the_build_logged_every_record_as_a_seed_change(built):
    log = built.read(LOG)
    assert len(log) == 52 and set(log["change_id"]) == {"c000001"} and set(log["kind"]) == {"seed"}
    assert set(log["operation"]) == {"add"} and set(log["user_name"]) == {"build"}
    # an article's records stand from the day it was published
    park = log[log["record_id"] == PARK].iloc[0]
    assert park["valid_from"] == "2024-09-27" and park["source_id"] == "catl-park-2024"


def test_an_edit_is_logged_with_before_and_after_and_undone_by_a_new_change(built):
    original = records_of(built.read("parks"))[PARK]
    change = _rename(built, "Renamed Park")
    assert change == "c000002"
    assert built.read("parks").set_index("id").at[PARK, "name_en"] == "Renamed Park"
    rows = history(built.read(LOG), record_id=PARK)
    assert list(rows["change_id"]) == ["c000001", "c000002"]
    assert list(rows["operation"]) == ["add", "update"] and rows.iloc[-1]["user_name"] == "planner"

    undo = commit(built, lambda layers, cid: (revert(layers[LOG], "c000002"), Update()), user="admin",
                  kind="undo", reverts="c000002")
    assert undo.change_id == "c000003" and undo.counts() == {"add": 0, "update": 1, "delete": 0}
    assert records_of(built.read("parks"))[PARK] == original
    log = built.read(LOG)
    assert len(log) == 54 and log.iloc[-1]["reverts_change_id"] == "c000002"  # history kept, not rewritten


def test_the_second_writer_of_a_record_gets_a_conflict_and_writes_nothing(built):
    seen = records_of(built.read("parks"))[PARK]  # both users opened the same record
    _rename(built, "First writer", before=seen)
    rows = len(built.read(LOG))
    with pytest.raises(ConflictError) as err:
        _rename(built, "Second writer", before=seen)
    assert err.value.http_status == 409 and PARK in str(err.value)
    assert built.read("parks").set_index("id").at[PARK, "name_en"] == "First writer"
    assert len(built.read(LOG)) == rows


def test_concurrent_edits_of_different_records_all_land(built):
    ids = list(built.read("projects")["id"])[:10]

    def edit(record_id: str) -> str | None:
        def planner(layers, change_id):
            now = records_of(layers["projects"])[record_id]
            after = {"properties": {**now["properties"], "name_en": f"edited {record_id}"}, "geometry": now["geometry"]}
            return plan("projects", {record_id: now}, {record_id: after}), Update()
        return commit(built, planner, user=f"user-{record_id}", kind="edit").change_id

    with ThreadPoolExecutor(6) as pool:
        changes = list(pool.map(edit, ids))
    assert len(set(changes)) == 10
    names = built.read("projects").set_index("id")["name_en"]
    assert all(names[i] == f"edited {i}" for i in ids)
    assert set(history(built.read(LOG), layer="projects")["change_id"]) >= set(changes)


def test_undo_of_an_unknown_change_is_not_found(built):
    with pytest.raises(NotFoundError, match="c999999"):
        revert(built.read(LOG), "c999999")


def test_as_of_answers_as_the_ledger_stood(built):
    log = built.read(LOG)
    # the 2021 article's corridors stood by the end of 2021; the 2024 article's park did not yet
    corridors_2021 = as_of(log, "corridors", date(2021, 12, 31))
    parks_2021 = as_of(log, "parks", date(2021, 12, 31))
    assert len(corridors_2021) == 4 and PARK not in set(parks_2021["id"])
    assert PARK in set(as_of(log, "parks", date(2024, 9, 27))["id"])
    _rename(built, "Renamed today")
    log = built.read(LOG)
    today, yesterday = date.today(), date.today() - timedelta(days=1)
    assert as_of(log, "parks", today).set_index("id").at[PARK, "name_en"] == "Renamed today"
    assert as_of(log, "parks", yesterday).set_index("id").at[PARK, "name_en"] != "Renamed today"


def test_a_rebuild_merges_new_seed_data_and_never_overwrites_an_edit(built, sources_copy):
    _rename(built, "Edited by the office")
    other = "luoyang-green-casting-park"
    set_name_en(sources_copy, "parks", PARK, "Seed changed it too")
    set_name_en(sources_copy, "parks", other, "Seed renamed the casting park")
    location = built.path if isinstance(built, GeoPackageStore) else built.url
    report = build_store(location, sources_dir=sources_copy)
    names = built.read("parks").set_index("id")["name_en"]
    assert names[PARK] == "Edited by the office"  # the user's edit stays
    assert names[other] == "Seed renamed the casting park"  # a record no one edited takes the seed
    assert report.updated == 1 and report.conflicts == [{"layer": "parks", "id": PARK, "last_change": "edit"}]
    again = build_store(location, sources_dir=sources_copy)
    assert again.change_id is None and again.updated == 0  # the same build twice changes nothing
