"""Backup and restore: the whole store in one GeoPackage and back, into either store, never losing a change."""

from __future__ import annotations

import hashlib
import itertools
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyogrio
import pytest
import shapely

from geo import accounts
from geo.errors import ConflictError, StoreError, ValidationError
from geo.ledger import backup as backups
from geo.ledger.backup import META_TABLE, backup, read_backup, restore
from geo.ledger.changes import LOG
from geo.ledger.imports import import_file
from geo.postgis import PostGISStore
from geo.store import GeoPackageStore, is_spatial
from tests.postgis_cluster import new_database

ROOT = Path(__file__).resolve().parents[2]
_numbers = itertools.count()
OFFICE_CSV = ("项目名称,区县,状态,总投资(万元),经度,纬度\n"
              "洛阳储能电池项目,偃师区,在建,250000,112.7946,34.7259\n"
              "孟津新材料项目,孟津县,规划,,,\n")


def _fresh_postgis(postgis_url: str) -> PostGISStore:
    """A store in a new, empty database (PostGIS extension only)."""
    return PostGISStore(new_database(postgis_url, f"backup_{next(_numbers)}"))




def _import(store, data: str = OFFICE_CSV, user: str = "张三"):
    return import_file(store, data.encode(), "项目库.csv", layer="projects", input_crs="gcj02", user=user)


def _with_accounts(store) -> str:
    """Give a store an editor with a token and a viewer; return the editor's token."""
    accounts.add_user(store, "wang", "password-wang", "editor")
    accounts.add_user(store, "李四", "password-li", "viewer")
    return accounts.add_token(store, "wang")[1]


def _state(store) -> str:
    """What identifies the store's content now (a content hash of the file, or the data version)."""
    if isinstance(store, GeoPackageStore):
        return hashlib.sha256(store.path.read_bytes()).hexdigest()
    return store.data_version()


def assert_same_layers(got: dict, expected: dict) -> None:
    """Same layers in the same order; each with the same columns, dtypes, values, rows; geometry within 1e-9°."""
    assert list(got) == list(expected)
    for name, frame in expected.items():
        other = got[name]
        assert is_spatial(other) == is_spatial(frame), name
        assert list(other.columns) == list(frame.columns), name
        if is_spatial(frame):
            assert other.crs == frame.crs
            assert shapely.equals_exact(other.geometry.values, frame.geometry.values, tolerance=1e-9).all(), name
            other, frame = (pd.DataFrame(f.drop(columns=f.geometry.name)) for f in (other, frame))
        pd.testing.assert_frame_equal(pd.DataFrame(other), pd.DataFrame(frame), check_exact=True, obj=name)


def test_a_geopackage_backup_restores_into_postgis_and_back(tmp_path, store_path, postgis_url):
    origin = GeoPackageStore(tmp_path / "corridors.gpkg")
    shutil.copy(store_path, origin.path)
    token = _with_accounts(origin)
    assert _import(origin).change_id == "c000002"
    expected = origin.read_all()
    assert {"sources", LOG, "users", "tokens"} <= set(expected)

    report = backup(origin, tmp_path / "backup.gpkg")
    assert report.store_kind == "geopackage" and report.last_change_id == "c000002" and report.changes == 2
    assert report.layers == {name: len(frame) for name, frame in expected.items()} and report.include_accounts
    assert report.size_bytes == (tmp_path / "backup.gpkg").stat().st_size
    meta = read_backup(tmp_path / "backup.gpkg").meta
    assert meta["format"] == "corridors-backup" and meta["store_kind"] == "geopackage"
    assert meta["last_change_id"] == "c000002" and meta["data_version"] == report.data_version
    assert [item["name"] for item in json.loads(meta["layers"])] == list(expected)
    # the accounts keep only hashes: no password and no token is in the file
    raw = (tmp_path / "backup.gpkg").read_bytes()
    assert b"password-wang" not in raw and token.encode() not in raw
    assert accounts.token_digest(token).encode() in raw

    with _fresh_postgis(postgis_url) as database:
        restored = restore(database, tmp_path / "backup.gpkg")
        assert restored.store_kind == "postgis" and restored.last_change_id == "c000002"
        assert not restored.lost_change_ids and restored.accounts_restored
        assert_same_layers(database.read_all(), expected)
        tables = accounts.read_tables(database)
        assert accounts.user_for_token(tables, token) == accounts.User("wang", "editor")
        assert accounts.check_password(tables, "李四", "password-li") == accounts.User("李四", "viewer")

        again = backup(database, tmp_path / "from-postgis.gpkg")
        assert again.store_kind == "postgis" and again.last_change_id == "c000002"
    back = GeoPackageStore(tmp_path / "restored.gpkg")
    restore(back, tmp_path / "from-postgis.gpkg")
    assert_same_layers(back.read_all(), expected)


def test_an_import_after_the_backup_makes_a_plain_restore_refuse_and_force_replace_it(built, tmp_path):
    log = built.read(LOG)
    projects = len(built.read("projects"))
    backup(built, tmp_path / "before.gpkg")
    done = _import(built)
    assert done.change_id == "c000002"
    state = _state(built)

    with pytest.raises(ConflictError, match="c000002") as refused:
        restore(built, tmp_path / "before.gpkg")
    assert "--force" in str(refused.value) and "1 change(s)" in str(refused.value)
    assert _state(built) == state and len(built.read("projects")) == projects + 2  # nothing was written

    forced = restore(built, tmp_path / "before.gpkg", force=True)
    assert forced.lost_change_ids == ["c000002"] and forced.forced
    assert len(built.read("projects")) == projects
    pd.testing.assert_frame_equal(pd.DataFrame(built.read(LOG)), pd.DataFrame(log), check_exact=True)
    # the same backup again: nothing would be lost now
    assert restore(built, tmp_path / "before.gpkg").lost_change_ids == []


def test_a_restore_never_undoes_an_account_change_silently_and_never_revives_a_revoked_token(built, tmp_path):
    token = _with_accounts(built)
    backup(built, tmp_path / "before.gpkg")
    accounts.revoke_token(built, "t000001")
    with pytest.raises(ConflictError, match="token t000001 of wang"):
        restore(built, tmp_path / "before.gpkg")
    forced = restore(built, tmp_path / "before.gpkg", force=True)
    assert forced.kept_revoked_tokens == ["t000001"] and forced.lost_change_ids == []
    assert accounts.user_for_token(accounts.read_tables(built), token) is None  # still revoked


def test_a_backup_without_accounts_leaves_the_stores_accounts_as_they_are(built, tmp_path):
    backup(built, tmp_path / "no-accounts.gpkg", include_accounts=False)
    assert not {"users", "tokens"} & set(read_backup(tmp_path / "no-accounts.gpkg").layers)
    token = _with_accounts(built)
    report = restore(built, tmp_path / "no-accounts.gpkg")
    assert not report.accounts_restored and report.kept_layers == ["users", "tokens"]
    assert accounts.user_for_token(accounts.read_tables(built), token) == accounts.User("wang", "editor")


def _truncated(tmp_path: Path, store) -> Path:
    backup(store, tmp_path / "whole.gpkg")
    data = (tmp_path / "whole.gpkg").read_bytes()
    (tmp_path / "truncated.gpkg").write_bytes(data[: len(data) // 2])
    return tmp_path / "truncated.gpkg"


def _missing_layer(tmp_path: Path, store) -> Path:
    """A GeoPackage with a backup's backup_meta but without the layer parks."""
    whole = read_backup(backup(store, tmp_path / "whole.gpkg").out)
    out = tmp_path / "no-parks.gpkg"
    for name, frame in [*whole.layers.items(), (META_TABLE, GeoPackageStore(whole.path).read(META_TABLE))]:
        if name != "parks":
            pyogrio.write_dataframe(frame, out, layer=name, driver="GPKG", append=out.exists())
    return out


def _not_a_backup(tmp_path: Path, store) -> Path:
    """A valid GeoPackage of the service's layers, but not a backup (a store file has no backup_meta)."""
    out = tmp_path / "store-copy.gpkg"
    GeoPackageStore(out).write(store.read_all())
    return out


def _text_file(tmp_path: Path, store) -> Path:
    out = tmp_path / "notes.gpkg"
    out.write_text("项目名称,区县\n", encoding="utf-8")
    return out


@pytest.mark.parametrize(("make", "message"), [
    (_truncated, "damaged"),
    (_missing_layer, "the layer(s) parks are missing"),
    (_not_a_backup, "no 'backup_meta' table"),
    (_text_file, "not a GeoPackage"),
])
def test_a_damaged_or_foreign_file_is_refused_and_the_store_is_untouched(built, tmp_path, make, message):
    bad = make(tmp_path, built)
    state = _state(built)
    with pytest.raises(ValidationError) as refused:
        restore(built, bad, force=True)
    assert message in str(refused.value) and str(bad) in str(refused.value)
    assert _state(built) == state


def test_a_failed_backup_leaves_no_half_file_and_keeps_the_older_one(built, tmp_path, monkeypatch):
    out = tmp_path / "backup.gpkg"
    backup(built, out)
    before = out.read_bytes()
    write = backups._write_gpkg

    def fail_halfway(path, layers):
        write(path, dict(list(layers.items())[:2]))
        raise OSError("disk full")

    monkeypatch.setattr(backups, "_write_gpkg", fail_halfway)
    with pytest.raises(StoreError, match="disk full"):
        backup(built, out)
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".backup")) == []


def test_a_backup_is_never_written_over_its_own_store(tmp_path, store_path):
    store = GeoPackageStore(tmp_path / "corridors.gpkg")
    shutil.copy(store_path, store.path)
    with pytest.raises(ValidationError, match="over the store itself"):
        backup(store, store.path)


def test_the_command_line_backs_up_and_restores(tmp_path, store_path):
    store = tmp_path / "corridors.gpkg"
    shutil.copy(store_path, store)
    data = tmp_path / "项目库.csv"
    data.write_text(OFFICE_CSV, encoding="utf-8")

    def run(*args: str, at: Path = store) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "run.py", *args, "--store", str(at)], check=False, cwd=ROOT,
                              capture_output=True, text=True, timeout=120)

    made = run("backup", "--out", str(tmp_path / "backup.gpkg"))
    assert made.returncode == 0, made.stderr
    assert f"wrote {tmp_path / 'backup.gpkg'}" in made.stdout and "the last c000001" in made.stdout
    assert "geopackage store" in made.stdout and "projects 14" in made.stdout and " MB" in made.stdout
    copy = run("restore", str(tmp_path / "backup.gpkg"), at=tmp_path / "copy.gpkg")
    assert copy.returncode == 0, copy.stderr
    assert "restored" in copy.stdout and "the last c000001" in copy.stdout
    assert_same_layers(GeoPackageStore(tmp_path / "copy.gpkg").read_all(), GeoPackageStore(store).read_all())

    imported = run("import", str(data), "--layer", "projects", "--crs", "gcj02", "--user", "张三")
    assert imported.returncode == 0 and "committed as change c000002" in imported.stdout
    refused = run("restore", str(tmp_path / "backup.gpkg"))
    assert refused.returncode == 2 and "c000002" in refused.stderr and "--force" in refused.stderr
    assert len(GeoPackageStore(store).read("projects")) == 16
    forced = run("restore", str(tmp_path / "backup.gpkg"), "--force")
    assert forced.returncode == 0 and "replaced 1 change(s) the backup lacks: c000002" in forced.stdout
    assert len(GeoPackageStore(store).read("projects")) == 14
    foreign = run("restore", str(store_path))
    assert foreign.returncode == 2 and "backup_meta" in foreign.stderr
