"""Who may write: the service's users, their roles and API tokens, kept in the store (no Flask here).

Two tables of the store, never served as layers (``geo.schema.INTERNAL_TABLES``):

- ``users``: ``name``, ``role`` (one of :data:`ROLES`), ``password_hash`` (werkzeug's scrypt, salted;
  the password itself is never stored), ``created_at`` (UTC, ISO 8601);
- ``tokens``: ``token_id`` (``t000001`` …), ``user_name``, ``token_sha256`` (the hex SHA-256 of the
  token: the token is shown once when it is made and never stored), ``created_at``, ``revoked_at``
  (empty while the token is valid).

Every change goes through the store's read-modify-write (``store.update``, under its write lock, as
:func:`geo.ledger.changes.commit` does), so it works on a GeoPackage and on PostGIS alike, and every
worker of every machine sees it at its next request (the store has a new version). Reading functions
take ``tables``: a mapping like :attr:`geo.dataset.Dataset.internal` (``{"users": DataFrame, "tokens":
DataFrame}``, either may be missing), so a request checks a password or a token against the snapshot
it answers from.

Roles, weakest first: ``viewer`` (may log in and read), ``editor`` (may also write), ``admin`` (may
also do what is reserved to admins). Bad input raises :class:`~geo.errors.ValidationError` naming the
field; an unknown user or token raises :class:`~geo.errors.NotFoundError`.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import pandas as pd
from werkzeug.security import check_password_hash, generate_password_hash

from geo.errors import NotFoundError, ValidationError
from geo.store import Layer, Update

#: The roles, weakest first: each may do everything the ones before it may.
ROLES: tuple[str, ...] = ("viewer", "editor", "admin")
#: The roles that may write.
WRITER_ROLES: tuple[str, ...] = ("editor", "admin")
USERS = "users"
TOKENS = "tokens"
USER_COLUMNS: tuple[str, ...] = ("name", "role", "password_hash", "created_at")
TOKEN_COLUMNS: tuple[str, ...] = ("token_id", "user_name", "token_sha256", "created_at", "revoked_at")
#: How passwords are hashed (werkzeug.security): scrypt with a random salt.
HASH_METHOD = "scrypt"
PASSWORD_MIN_CHARS = 8
PASSWORD_MAX_CHARS = 1024
NAME_MAX_CHARS = 64
#: A user name: 1-64 of ASCII letters and digits, ``.``, ``_``, ``-`` and CJK ideographs (no compatibility
#: ideographs, which look like unified ones: two names that look alike are one name).
NAME_RE = re.compile(r"[A-Za-z0-9._\-\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0003134f]{1,64}")
#: A token as :func:`add_token` makes it (``secrets.token_urlsafe``); anything else is never looked up.
TOKEN_RE = re.compile(r"[A-Za-z0-9_\-]{20,200}")


@dataclass(frozen=True)
class User:
    """A user of the service as a request sees it: the name and the role (never the password hash)."""

    name: str
    role: str

    @property
    def can_write(self) -> bool:
        """Whether the user may write (an editor or an admin)."""
        return self.role in WRITER_ROLES

    @property
    def is_admin(self) -> bool:
        """Whether the user is an admin."""
        return self.role == "admin"

    def has_role(self, role: str) -> bool:
        """Whether the user's role is ``role`` or a stronger one (admin > editor > viewer)."""
        return self.role in ROLES and ROLES.index(self.role) >= ROLES.index(check_role(role))


# -- checks -------------------------------------------------------------------------------------------

def check_name(name: object, field: str = "name") -> str:
    """A valid user name (1-64 letters, digits, ``._-`` or CJK ideographs); ValidationError naming ``field``."""
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        shown = repr(name) if isinstance(name, str) and len(name) <= NAME_MAX_CHARS + 10 else "the value given"
        raise ValidationError(f"{shown} is not a valid user name: use 1-{NAME_MAX_CHARS} letters, digits, '.', "
                              "'_', '-' or Chinese characters · 用户名须为 1–64 个字母、数字、. _ - 或汉字",
                              field=field)
    return name


def check_role(role: object, field: str = "role") -> str:
    """A valid role (one of :data:`ROLES`); ValidationError naming ``field``."""
    if role not in ROLES:
        raise ValidationError(f"{role!r} is not a role; expected one of: {', '.join(ROLES)}", field=field)
    return str(role)


def check_new_password(password: object, field: str = "password") -> str:
    """A password that may be set: text of 8-1024 characters, not only spaces (never echoed)."""
    if not isinstance(password, str) or not password.strip():
        raise ValidationError("a password is needed · 需要密码", field=field)
    if len(password) < PASSWORD_MIN_CHARS:
        raise ValidationError(f"the password is too short: use at least {PASSWORD_MIN_CHARS} characters · 密码至少 "
                              f"{PASSWORD_MIN_CHARS} 个字符", field=field)
    if len(password) > PASSWORD_MAX_CHARS:
        raise ValidationError(f"the password is too long: at most {PASSWORD_MAX_CHARS} characters", field=field)
    return password


# -- reading the tables -----------------------------------------------------------------------------------

def _text(value: object) -> str | None:
    """A cell as text, None when missing (None, NaN, pd.NA)."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return str(value)


def _rows(tables: Mapping[str, Any], name: str, columns: tuple[str, ...]) -> list[dict[str, str | None]]:
    """The rows of one of the tables as dicts of text (an absent table or column: none, or None)."""
    frame = tables.get(name)
    if frame is None or len(frame) == 0:
        return []
    records = pd.DataFrame(frame).to_dict("records")
    return [{c: _text(r.get(c)) for c in columns} for r in records]


def _frame(rows: list[dict[str, str | None]], columns: tuple[str, ...]) -> pd.DataFrame:
    """A table to write: text columns (object dtype, None where empty) in a fixed order."""
    return pd.DataFrame({c: pd.Series([r.get(c) for r in rows], dtype=object) for c in columns},
                        columns=list(columns))


def read_tables(store: Any) -> dict[str, Layer]:
    """The ``users`` and ``tokens`` tables of a store (those it has), for the functions taking ``tables``."""
    names = store.layer_names() if store.exists() else []
    return {name: store.read(name) for name in (USERS, TOKENS) if name in names}


def _user_row(tables: Mapping[str, Any], name: str) -> dict[str, str | None] | None:
    return next((r for r in _rows(tables, USERS, USER_COLUMNS) if r["name"] == name), None)


def find_user(tables: Mapping[str, Any], name: object) -> User | None:
    """The user called ``name`` (exactly), None when there is none."""
    if not isinstance(name, str):
        return None
    row = _user_row(tables, name)
    if row is None or row["role"] not in ROLES:
        return None
    return User(str(row["name"]), str(row["role"]))


def session_stamp(tables: Mapping[str, Any], name: str) -> str | None:
    """What ties a login session to this very user: a digest of the user's (salted) password hash.

    A user removed and added again under the same name gets a new hash, so the sessions of the old
    account end (None: no such user)."""
    row = _user_row(tables, name)
    if row is None or not row["password_hash"]:
        return None
    return hashlib.sha256(f"session\0{row['password_hash']}".encode()).hexdigest()[:32]


def list_users(tables: Mapping[str, Any]) -> list[dict[str, object]]:
    """Every user: name, role, created_at and how many valid tokens it has (never a hash)."""
    active: dict[str, int] = {}
    for t in _rows(tables, TOKENS, TOKEN_COLUMNS):
        if t["revoked_at"] is None and t["user_name"] is not None:
            active[t["user_name"]] = active.get(t["user_name"], 0) + 1
    return [{"name": r["name"], "role": r["role"], "created_at": r["created_at"], "tokens": active.get(r["name"], 0)}
            for r in _rows(tables, USERS, USER_COLUMNS)]


def list_tokens(tables: Mapping[str, Any], user_name: str | None = None) -> list[dict[str, object]]:
    """Every token (or a user's): token_id, user_name, created_at, revoked_at (never the token or its hash)."""
    return [{k: r[k] for k in ("token_id", "user_name", "created_at", "revoked_at")}
            for r in _rows(tables, TOKENS, TOKEN_COLUMNS) if user_name is None or r["user_name"] == user_name]


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A hash of a random password: checked when the user is unknown, so that costs as much as a wrong password."""
    return generate_password_hash(secrets.token_urlsafe(16), method=HASH_METHOD)


def check_password(tables: Mapping[str, Any], name: object, password: object) -> User | None:
    """The user when ``password`` is theirs, else None (unknown user, wrong password, bad input).

    An unknown user still costs one scrypt check (of a dummy hash), so the time taken does not say
    whether a name exists; the hashes are compared in constant time (werkzeug)."""
    ok_input = isinstance(password, str) and 0 < len(password) <= PASSWORD_MAX_CHARS
    row = _user_row(tables, name) if isinstance(name, str) else None
    stored = row["password_hash"] if row is not None and row["password_hash"] else None
    matches = check_password_hash(stored or _dummy_hash(), password if ok_input else "")  # type: ignore[arg-type]
    if not (matches and ok_input and stored is not None and row is not None and row["role"] in ROLES):
        return None
    return User(str(row["name"]), str(row["role"]))


def token_digest(token: str) -> str:
    """The hex SHA-256 of a token, as the ``tokens`` table keeps it."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def user_for_token(tables: Mapping[str, Any], token: object) -> User | None:
    """The user a valid token belongs to; None for an unknown, malformed or revoked token, or a removed user."""
    if not isinstance(token, str) or not TOKEN_RE.fullmatch(token):
        return None
    digest = token_digest(token)
    found = None
    for row in _rows(tables, TOKENS, TOKEN_COLUMNS):
        if hmac.compare_digest(row["token_sha256"] or "", digest) and row["revoked_at"] is None:
            found = row
    return find_user(tables, found["user_name"]) if found is not None else None


# -- writing (the store's read-modify-write) ---------------------------------------------------------------

def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _require(store: Any) -> None:
    if not store.exists():
        raise NotFoundError("the store has not been built: run `python run.py build` first, then add users")


def add_user(store: Any, name: str, password: str, role: str = "viewer") -> User:
    """Add a user with a role; the password is kept only as a salted scrypt hash.

    ValidationError (naming ``name``, ``password`` or ``role``) for bad input or a name already taken
    (also in another case: ``Alice`` when there is ``alice``)."""
    check_name(name)
    check_role(role)
    check_new_password(password)
    _require(store)
    password_hash = generate_password_hash(password, method=HASH_METHOD)  # slow: outside the write lock

    def change(layers: dict[str, Layer]) -> Update:
        rows = _rows(layers, USERS, USER_COLUMNS)
        taken = next((r["name"] for r in rows if (r["name"] or "").casefold() == name.casefold()), None)
        if taken is not None:
            raise ValidationError(f"there is already a user {taken!r} · 用户已存在", field="name")
        rows.append({"name": name, "role": role, "password_hash": password_hash, "created_at": _now()})
        return Update(replace={USERS: _frame(rows, USER_COLUMNS)})

    store.update(change)
    return User(name, role)


def remove_user(store: Any, name: str) -> int:
    """Remove a user and revoke their tokens (their sessions end at their next request); return how many
    tokens were revoked. NotFoundError for an unknown user."""
    check_name(name)
    _require(store)
    revoked = 0

    def change(layers: dict[str, Layer]) -> Update:
        nonlocal revoked
        users = _rows(layers, USERS, USER_COLUMNS)
        kept = [r for r in users if r["name"] != name]
        if len(kept) == len(users):
            raise NotFoundError(f"there is no user {name!r} · 无此用户", field="name")
        tokens = _rows(layers, TOKENS, TOKEN_COLUMNS)
        now = _now()
        revoked = 0
        for t in tokens:
            if t["user_name"] == name and t["revoked_at"] is None:
                t["revoked_at"] = now
                revoked += 1
        replace = {USERS: _frame(kept, USER_COLUMNS)}
        if revoked:
            replace[TOKENS] = _frame(tokens, TOKEN_COLUMNS)
        return Update(replace=replace)

    store.update(change)
    return revoked


def _next_token_id(rows: list[dict[str, str | None]]) -> str:
    numbers = [int(r["token_id"][1:]) for r in rows if r["token_id"] and re.fullmatch(r"t\d+", r["token_id"])]
    return f"t{max(numbers, default=0) + 1:06d}"


def add_token(store: Any, user_name: str) -> tuple[str, str]:
    """Make an API token for a user: return ``(token_id, token)``. Only the token's SHA-256 is stored, so the
    token can be shown this once and never again. NotFoundError for an unknown user."""
    check_name(user_name, field="user_name")
    _require(store)
    token = secrets.token_urlsafe(32)
    made: list[str] = []

    def change(layers: dict[str, Layer]) -> Update:
        if find_user(layers, user_name) is None:
            raise NotFoundError(f"there is no user {user_name!r} · 无此用户", field="user_name")
        rows = _rows(layers, TOKENS, TOKEN_COLUMNS)
        token_id = _next_token_id(rows)
        rows.append({"token_id": token_id, "user_name": user_name, "token_sha256": token_digest(token),
                     "created_at": _now(), "revoked_at": None})
        made[:] = [token_id]
        return Update(replace={TOKENS: _frame(rows, TOKEN_COLUMNS)})

    store.update(change)
    return made[0], token


def revoke_token(store: Any, token_id: str) -> bool:
    """Revoke a token (it stops working at the next request of every worker); return False when it was
    revoked already. NotFoundError for an unknown token id."""
    if not isinstance(token_id, str) or not re.fullmatch(r"t\d{1,12}", token_id):
        raise ValidationError(f"{token_id!r} is not a token id (like t000001)", field="token_id")
    _require(store)
    newly = False

    def change(layers: dict[str, Layer]) -> Update:
        nonlocal newly
        rows = _rows(layers, TOKENS, TOKEN_COLUMNS)
        row = next((r for r in rows if r["token_id"] == token_id), None)
        if row is None:
            raise NotFoundError(f"there is no token {token_id!r}", field="token_id")
        newly = row["revoked_at"] is None
        if not newly:
            return Update()  # nothing to write
        row["revoked_at"] = _now()
        return Update(replace={TOKENS: _frame(rows, TOKEN_COLUMNS)})

    store.update(change)
    return newly


__all__ = [
    "NAME_RE", "ROLES", "TOKENS", "TOKEN_COLUMNS", "USERS", "USER_COLUMNS", "WRITER_ROLES", "User", "add_token",
    "add_user", "check_name", "check_new_password", "check_password", "check_role", "find_user", "list_tokens",
    "list_users", "read_tables", "remove_user", "revoke_token", "session_stamp", "token_digest", "user_for_token",
]
