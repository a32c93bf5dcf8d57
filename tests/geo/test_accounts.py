"""Users, roles and API tokens in the store (geo.accounts), on a GeoPackage and on PostGIS."""

from __future__ import annotations

import time

import pandas as pd
import pytest

from geo import accounts
from geo.accounts import User
from geo.dataset import load_dataset
from geo.errors import NotFoundError, ValidationError
from geo.store import GeoPackageStore

PASSWORD = "correct horse battery staple"


@pytest.fixture()
def store(built):
    """A private copy of the built store, of each kind (the shared ``built`` fixture)."""
    return built

def tables(store) -> dict:
    return accounts.read_tables(store)


def all_text(store) -> str:
    """Every cell of every table of the store without geometry, as one text (to look for a secret in)."""
    out = []
    for name in store.layer_names():
        frame = store.read(name)
        out.append(pd.DataFrame(frame).drop(columns=["geometry"], errors="ignore").to_csv())
    return "\n".join(out)


def test_passwords_are_stored_only_as_salted_scrypt_hashes(store):
    accounts.add_user(store, "wang", PASSWORD, "editor")
    accounts.add_user(store, "li", PASSWORD, "viewer")  # the same password
    users = store.read("users")
    assert list(users.columns) == list(accounts.USER_COLUMNS)
    assert list(users["name"]) == ["wang", "li"] and list(users["role"]) == ["editor", "viewer"]
    hashes = list(users["password_hash"])
    assert all(h.startswith("scrypt:") for h in hashes)
    assert hashes[0] != hashes[1]  # salted: the same password, two hashes
    assert PASSWORD not in all_text(store)
    # what the app sees: the snapshot's internal tables, never a layer
    data = load_dataset(store)
    assert set(data.internal) >= {"users"} and "users" not in data.layers
    assert accounts.check_password(data.internal, "wang", PASSWORD) == User("wang", "editor")


def test_check_password_right_wrong_and_unknown(store):
    accounts.add_user(store, "wang", PASSWORD, "editor")
    t = tables(store)
    assert accounts.check_password(t, "wang", PASSWORD) == User("wang", "editor")
    assert accounts.check_password(t, "wang", PASSWORD + "x") is None
    assert accounts.check_password(t, "wang", "") is None
    assert accounts.check_password(t, "Wang", PASSWORD) is None  # names are exact
    assert accounts.check_password(t, "nobody", PASSWORD) is None
    assert accounts.check_password({}, "wang", PASSWORD) is None  # a store without users
    assert accounts.check_password(t, None, PASSWORD) is None


def test_an_unknown_user_costs_a_hash_check_too():
    """The time of a failed login does not tell whether the name exists (both run one scrypt check)."""
    users = pd.DataFrame([{"name": "wang", "role": "editor", "created_at": "2025-01-01T00:00:00+00:00",
                           "password_hash": accounts.generate_password_hash(PASSWORD, method="scrypt")}])
    t = {"users": users}
    accounts.check_password(t, "nobody", "x")  # the dummy hash is made once, outside the timing

    def timed(name: str) -> float:
        start = time.perf_counter()
        for _ in range(3):
            assert accounts.check_password(t, name, "wrong password") is None
        return time.perf_counter() - start

    known, unknown = timed("wang"), timed("nobody")
    assert unknown > 0.3 * known and known > 0.3 * unknown, (known, unknown)


def test_roles(store):
    for name, role in (("v", "viewer"), ("e", "editor"), ("a", "admin")):
        accounts.add_user(store, name, PASSWORD, role)
    t = tables(store)
    viewer, editor, admin = (accounts.find_user(t, n) for n in ("v", "e", "a"))
    assert (viewer.can_write, editor.can_write, admin.can_write) == (False, True, True)
    assert (viewer.is_admin, editor.is_admin, admin.is_admin) == (False, False, True)
    assert editor.has_role("editor") and admin.has_role("editor") and not viewer.has_role("editor")
    assert admin.has_role("admin") and not editor.has_role("admin")
    with pytest.raises(ValidationError) as bad:
        accounts.add_user(store, "x", PASSWORD, "superuser")
    assert bad.value.field == "role"
    listed = accounts.list_users(t)
    assert [(u["name"], u["role"]) for u in listed] == [("v", "viewer"), ("e", "editor"), ("a", "admin")]
    assert all("password_hash" not in u for u in listed)


def test_tokens_are_stored_as_sha256_only_and_stop_working_when_revoked(store):
    accounts.add_user(store, "wang", PASSWORD, "editor")
    token_id, token = accounts.add_token(store, "wang")
    other_id, other = accounts.add_token(store, "wang")
    assert (token_id, other_id) == ("t000001", "t000002") and token != other and len(token) >= 40
    text = all_text(store)
    assert token not in text and other not in text
    assert accounts.token_digest(token) in text  # only its digest
    t = tables(store)
    assert accounts.user_for_token(t, token) == User("wang", "editor")
    assert accounts.user_for_token(t, token + "x") is None and accounts.user_for_token(t, "") is None
    assert accounts.user_for_token(t, accounts.token_digest(token)) is None  # the stored digest is no token
    assert accounts.list_users(t)[0]["tokens"] == 2

    assert accounts.revoke_token(store, token_id) is True
    assert accounts.revoke_token(store, token_id) is False  # already
    t = tables(store)
    assert accounts.user_for_token(t, token) is None
    assert accounts.user_for_token(t, other) == User("wang", "editor")
    listed = {r["token_id"]: r for r in accounts.list_tokens(t)}
    assert listed[token_id]["revoked_at"] and listed[other_id]["revoked_at"] is None
    assert all(set(r) == {"token_id", "user_name", "created_at", "revoked_at"} for r in listed.values())
    with pytest.raises(NotFoundError):
        accounts.revoke_token(store, "t000099")
    with pytest.raises(NotFoundError):
        accounts.add_token(store, "nobody")


def test_removing_a_user_revokes_their_tokens(store):
    accounts.add_user(store, "wang", PASSWORD, "editor")
    accounts.add_user(store, "li", PASSWORD, "viewer")
    _, token = accounts.add_token(store, "wang")
    _, kept = accounts.add_token(store, "li")
    assert accounts.remove_user(store, "wang") == 1
    t = tables(store)
    assert accounts.find_user(t, "wang") is None and accounts.check_password(t, "wang", PASSWORD) is None
    assert accounts.user_for_token(t, token) is None
    assert accounts.user_for_token(t, kept) == User("li", "viewer")
    # a user added again under the name has a new password hash: old sessions do not carry over
    stamp = accounts.session_stamp(t, "li")
    accounts.remove_user(store, "li")
    accounts.add_user(store, "li", PASSWORD, "viewer")
    assert accounts.session_stamp(tables(store), "li") not in (None, stamp)
    accounts.remove_user(store, "li")
    assert len(store.read("users")) == 0 and accounts.list_users(tables(store)) == []  # an empty table reads back
    with pytest.raises(NotFoundError) as missing:
        accounts.remove_user(store, "wang")
    assert missing.value.field == "name"


@pytest.mark.parametrize("name", ["", "a b", "a/b", "a:b", "x" * 65, "名字\n", "../etc", "ｗａｎｇ", "\uf900x"])
def test_bad_names_are_refused_naming_the_field(tmp_path, name):
    store = GeoPackageStore(tmp_path / "none.gpkg")  # refused before the store is even looked at
    with pytest.raises(ValidationError) as bad:
        accounts.add_user(store, name, PASSWORD, "viewer")
    assert bad.value.field == "name"
    assert not store.exists()


@pytest.mark.parametrize("name", ["wang", "li.lei_2-b", "王小明", "x" * 64, "𠀀字"])
def test_good_names(name):
    assert accounts.check_name(name) == name


def test_bad_passwords_and_taken_names(store):
    with pytest.raises(ValidationError) as short:
        accounts.add_user(store, "wang", "short", "editor")
    assert short.value.field == "password" and "short" in short.value.detail and "'short'" not in str(short.value)
    with pytest.raises(ValidationError):
        accounts.add_user(store, "wang", "        ", "editor")
    accounts.add_user(store, "wang", PASSWORD, "editor")
    for taken in ("wang", "WANG"):
        with pytest.raises(ValidationError) as dup:
            accounts.add_user(store, taken, PASSWORD, "viewer")
        assert dup.value.field == "name"
    assert len(store.read("users")) == 1


def test_a_store_that_was_never_built_is_not_written(tmp_path):
    store = GeoPackageStore(tmp_path / "missing.gpkg")
    with pytest.raises(NotFoundError, match="run.py build"):
        accounts.add_user(store, "wang", PASSWORD, "editor")
    assert not store.exists()
