"""Importing an office's file: preview first, one atomic commit, idempotent, cited, undoable (both stores)."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
from pathlib import Path

import xlsxwriter

from geo import crs
from geo.ledger.changes import LOG, commit, history, records_of, revert
from geo.ledger.imports import import_file
from geo.store import Update

ROOT = Path(__file__).resolve().parents[2]
#: An office's list: Chinese headers, 万元, GCJ-02 coordinates (an AMap picker), a district-only row, two bad rows.
OFFICE_CSV = (
    "项目名称,英文名称,区县,状态,总投资(万元),经度,纬度\n"
    "洛阳储能电池项目,Luoyang storage battery project,偃师区,在建,250000,112.7946,34.7259\n"
    "孟津新材料项目,,孟津县,规划,,,\n"
    "坏的状态,,偃师,不知道,,,\n"
    "没有位置,,,在建,,,\n"
)




def _import(store, data: bytes = OFFICE_CSV.encode(), name: str = "项目库.csv", **kwargs):
    kwargs = {"layer": "projects", "input_crs": "gcj02", "user": "张三"} | kwargs
    return import_file(store, data, name, **kwargs)


def test_a_preview_says_what_each_row_would_do_and_writes_nothing(built):
    before = built.read(LOG)
    report = _import(built, dry_run=True)
    doc = report.to_dict()
    assert doc["counts"] == {"add": 2, "update": 0, "unchanged": 0, "duplicate": 0, "rejected": 2}
    assert {m["row"] for m in doc["rejected"]} == {4, 5}  # as the spreadsheet numbers them (header = 1)
    bad = next(m for m in doc["rejected"] if m["row"] == 4)
    assert bad["column"] == "状态" and bad["value"] == "不知道" and bad["message_zh"] and bad["message_en"]
    assert report.exit_code == 2 and not report.committed and doc["change_id"] is None
    assert len(built.read(LOG)) == len(before)


def test_rejected_rows_stop_the_commit_unless_skip_invalid(built):
    rows = len(built.read("projects"))
    refused = _import(built)
    assert not refused.committed and len(built.read("projects")) == rows
    done = _import(built, skip_invalid=True)
    assert done.committed and done.change_id == "c000002"
    projects = built.read("projects").set_index("id")
    assert len(projects) == rows + 2
    added = {o.record_id: o for o in done.of("add")}
    site = next(rid for rid, o in added.items() if o.row == 2)
    # stored in WGS84: the GCJ-02 point moved back by the offset (~574 m west, ~113 m north of the input)
    lon, lat = crs.to_wgs84(112.7946, 34.7259, "gcj02")
    assert abs(projects.at[site, "lon"] - float(lon)) < 1e-6 and abs(projects.at[site, "lat"] - float(lat)) < 1e-6
    assert projects.at[site, "investment_cny_100m"] == 25.0  # 250000 万元
    assert projects.at[site, "location_precision"] == "site"
    district_only = next(rid for rid, o in added.items() if o.row == 3)
    assert projects.at[district_only, "location_precision"] == "district"
    assert projects.at[district_only, "district_code"] == "410308"
    # every imported record cites the import, with its row
    assert projects.at[site, "source_id"] == "import-c000002" and projects.at[site, "source_row"] == 2
    register = built.read("sources").set_index("id")
    assert register.at["import-c000002", "kind"] == "import"
    assert register.at["import-c000002", "user_name"] == "张三" and register.at["import-c000002", "file_name"] == "项目库.csv"


def test_importing_the_same_file_twice_changes_nothing_the_second_time(built):
    first = _import(built, skip_invalid=True)
    log = len(built.read(LOG))
    again = _import(built, skip_invalid=True)
    assert again.to_dict()["counts"]["unchanged"] == 2 and again.change_id is None and not again.committed
    assert len(built.read(LOG)) == log and first.committed


def test_a_changed_row_updates_only_its_fields_and_an_empty_cell_clears_nothing(built):
    _import(built, skip_invalid=True)
    changed = OFFICE_CSV.replace("在建,250000", "运营,260000").replace("Luoyang storage battery project", "")
    report = _import(built, changed.encode(), skip_invalid=True)
    (update,) = report.of("update")
    assert update.fields == ["investment_cny_100m", "status"]  # the empty 英文名称 cell cleared nothing
    projects = built.read("projects").set_index("id")
    assert projects.at[update.record_id, "name_en"] == "Luoyang storage battery project"
    assert projects.at[update.record_id, "status"] == "operating"


def test_a_firm_already_in_the_ledger_is_a_possible_duplicate(built):
    data = "项目名称,区县,状态\n宁德时代洛阳基地二期,伊滨区,规划\n".encode()
    report = _import(built, data, "dup.csv", input_crs="wgs84")
    (dup,) = report.of("duplicate")
    assert dup.duplicate_of.startswith("zhongzhou-shidai")  # 中州时代 is 宁德时代's Luoyang base
    assert "possible duplicate of" in dup.to_dict()["message_en"] and not report.committed


def test_an_import_is_undone_by_a_new_change(built):
    rows = len(built.read("projects"))
    done = _import(built, skip_invalid=True)
    commit(built, lambda layers, _cid: (revert(layers[LOG], done.change_id), Update()), user="admin", kind="undo",
           reverts=done.change_id)
    assert len(built.read("projects")) == rows
    assert list(history(built.read(LOG), change_id="c000003")["operation"]) == ["delete", "delete"]


def test_an_xlsx_with_a_title_row_and_a_formula_imports(built):
    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True})
    sheet = book.add_worksheet("项目")
    for col, header in enumerate(["项目名称", "区县", "状态", "总投资(亿元)"]):
        sheet.write(0, col, header)
    sheet.write_row(1, 0, ["涧西轴承配套项目", "涧西区", "在建"])
    sheet.write_formula(1, 3, "=10+2", None, 12)
    book.close()
    report = _import(built, buf.getvalue(), "项目库.xlsx", input_crs="wgs84")
    (added,) = report.of("add")
    assert report.committed and records_of(built.read("projects"))[added.record_id]["properties"][
        "investment_cny_100m"] == 12


def test_the_command_line_previews_commits_and_reports_exit_codes(tmp_path, store_path):
    store = tmp_path / "corridors.gpkg"
    shutil.copy(store_path, store)
    data = tmp_path / "项目库.csv"
    data.write_text(OFFICE_CSV, encoding="gb18030")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "run.py", *args, "--store", str(store)], check=False, cwd=ROOT,
                              capture_output=True, text=True, timeout=120)

    preview = run("import", str(data), "--layer", "projects", "--crs", "gcj02", "--dry-run", "--user", "张三")
    assert preview.returncode == 2 and "preview (nothing written)" in preview.stdout and "不知道" in preview.stdout
    refused = run("import", str(data), "--layer", "projects", "--crs", "gcj02")
    assert refused.returncode == 2 and "nothing written" in refused.stdout
    done = run("import", str(data), "--layer", "projects", "--crs", "gcj02", "--skip-invalid", "--user", "张三")
    assert done.returncode == 2 and "committed as change c000002" in done.stdout
    history_out = run("history", "--change", "c000002")
    assert history_out.returncode == 0 and "c000002" in history_out.stdout and "张三" in history_out.stdout
    undone = run("undo", "c000002", "--user", "admin")
    assert undone.returncode == 0 and "undoes c000002" in undone.stdout
    template = tmp_path / "projects.xlsx"
    made = subprocess.run([sys.executable, "run.py", "template", "--layer", "projects", "--out", str(template)],
                          check=False, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert made.returncode == 0 and template.read_bytes()[:2] == b"PK"
