"""The ``users`` and ``tokens`` commands of ``run.py``: who may write (:mod:`geo.accounts`), kept in the store.

``add_parser(sub)`` adds both sub-commands to ``run.py``'s sub-parsers. They read and write the store the
settings name (``CORRIDORS_STORE``, else ``DATABASE_URL``, else ``instance/corridors.gpkg``; ``--store``
overrides), through the store's read-modify-write, so a running service sees the change at its next request.
A password is read from a prompt (twice, never echoed) or, with ``--password-stdin``, from the first line of
standard input; it is never an argument (arguments show in ``ps`` and shell histories).
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from typing import Any

from geo import accounts, formats
from geo.errors import ValidationError

EXAMPLES = """examples:
  python run.py users add wang --role editor                 asks for the password twice
  printf '%s\\n' "$PASSWORD" | python run.py users add li --role viewer --password-stdin
  python run.py users list
  python run.py users remove li                              also revokes li's tokens
  python run.py tokens add wang                              prints a new token once: keep it
  python run.py tokens list
  python run.py tokens revoke t000001
"""


def _store(args: argparse.Namespace) -> Any:
    from cli.config import settings
    from geo.store import open_store

    return open_store(settings(args).store)


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        line = sys.stdin.readline()
        return line.removesuffix("\n").removesuffix("\r")
    if not sys.stdin.isatty():
        raise ValidationError("no terminal to ask for the password on: pipe it in with --password-stdin",
                              field="password")
    first = getpass.getpass(f"password for {args.name}: ")
    if getpass.getpass("again: ") != first:
        raise ValidationError("the two passwords differ · 两次输入的密码不一致", field="password")
    return first


def _with_store(run: Any) -> Any:
    def wrapped(args: argparse.Namespace) -> int:
        store = _store(args)
        try:
            return run(args, store)
        finally:
            store.close()
    return wrapped


@_with_store
def _users_add(args: argparse.Namespace, store: Any) -> int:
    accounts.check_name(args.name)
    password = _read_password(args)
    user = accounts.add_user(store, args.name, password, args.role)
    print(f"added user {user.name} ({user.role})")
    return 0


@_with_store
def _users_list(args: argparse.Namespace, store: Any) -> int:
    rows = accounts.list_users(accounts.read_tables(store))
    if args.format == "json":
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    elif rows:
        print(formats.to_table(rows, ["name", "role", "created_at", "tokens"]))
    else:
        print("no users yet: add one with `python run.py users add NAME --role editor`")
    return 0


@_with_store
def _users_remove(args: argparse.Namespace, store: Any) -> int:
    revoked = accounts.remove_user(store, args.name)
    print(f"removed user {args.name}" + (f" and revoked {revoked} token(s)" if revoked else ""))
    return 0


@_with_store
def _tokens_add(args: argparse.Namespace, store: Any) -> int:
    token_id, token = accounts.add_token(store, args.name)
    print(f"token {token_id} for {args.name}; it is shown this once and cannot be shown again. Send it as "
          "'Authorization: Bearer <token>':", file=sys.stderr)
    print(token)
    return 0


@_with_store
def _tokens_list(args: argparse.Namespace, store: Any) -> int:
    rows = accounts.list_tokens(accounts.read_tables(store), args.user)
    if args.format == "json":
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    elif rows:
        table = [{**r, "state": "revoked" if r["revoked_at"] else "valid", "revoked_at": r["revoked_at"] or "—"}
                 for r in rows]
        print(formats.to_table(table, ["token_id", "user_name", "created_at", "state", "revoked_at"]))
    else:
        print("no tokens")
    return 0


@_with_store
def _tokens_revoke(args: argparse.Namespace, store: Any) -> int:
    newly = accounts.revoke_token(store, args.token_id)
    print(f"revoked token {args.token_id}" if newly else f"token {args.token_id} was revoked already")
    return 0


def add_parser(sub: Any) -> None:
    """Add ``users`` and ``tokens`` to run.py's sub-parsers (``sub``), each with its sub-commands."""
    store_help = "GeoPackage path or postgresql:// URL (default: $CORRIDORS_STORE, else $DATABASE_URL, as for build)"

    users = sub.add_parser("users", help="who may log in: add, list or remove users (viewer, editor, admin)",
                           description="The users of the service, kept in the store (passwords as salted scrypt "
                           "hashes). Roles: viewer (log in, read), editor (also write), admin (everything).",
                           epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    verbs = users.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    p = verbs.add_parser("add", help="add a user (the password from a prompt, or --password-stdin)")
    p.add_argument("name", help="1-64 letters, digits, '.', '_', '-' or Chinese characters")
    p.add_argument("--role", default="viewer", choices=accounts.ROLES, help="viewer (default), editor or admin")
    p.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    p.add_argument("--store", default=None, help=store_help)
    p.set_defaults(func=_users_add)
    p = verbs.add_parser("list", help="list the users, their roles and valid tokens")
    p.add_argument("--format", default="table", choices=["table", "json"])
    p.add_argument("--store", default=None, help=store_help)
    p.set_defaults(func=_users_list)
    p = verbs.add_parser("remove", help="remove a user and revoke their tokens")
    p.add_argument("name")
    p.add_argument("--store", default=None, help=store_help)
    p.set_defaults(func=_users_remove)

    tokens = sub.add_parser("tokens", help="API tokens (Authorization: Bearer): add, list or revoke",
                            description="API tokens act as their user. A new token is printed once; the store "
                            "keeps only its SHA-256.", epilog=EXAMPLES,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    verbs = tokens.add_subparsers(dest="tokens_command", metavar="ACTION", required=True)
    p = verbs.add_parser("add", help="make a token for a user and print it (once)")
    p.add_argument("name", help="the user the token acts as")
    p.add_argument("--store", default=None, help=store_help)
    p.set_defaults(func=_tokens_add)
    p = verbs.add_parser("list", help="list the tokens (ids, users, dates; never the tokens)")
    p.add_argument("--user", default=None, help="only this user's tokens")
    p.add_argument("--format", default="table", choices=["table", "json"])
    p.add_argument("--store", default=None, help=store_help)
    p.set_defaults(func=_tokens_list)
    p = verbs.add_parser("revoke", help="revoke a token by its id (like t000001)")
    p.add_argument("token_id")
    p.add_argument("--store", default=None, help=store_help)
    p.set_defaults(func=_tokens_revoke)
