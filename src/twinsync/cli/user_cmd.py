"""``twinsync user add | list | remove``: people who sign in to the dashboard with a name
and a password (argon2id hash kept in the twin's store, beside the tokens).

The password is asked for twice at the terminal, or read from the first line of standard
input with ``--password-stdin`` (for scripts): never from the command line, which other
users of the machine can read.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
import time

from ..config import Settings
from ..errors import Conflict, InvalidInput
from ..store.audit import COMMAND
from ..store.tokens import TokenStore, created, open_token_store, revoked
from ..tokens import USER_ROLES, Kind, TokenRecord, new_user, role_of


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="add a user (asks for the password)")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=[r.value for r in USER_ROLES])
    add.add_argument("--password-stdin", action="store_true",
                     help="read the password from the first line of standard input")
    listing = actions.add_parser("list", help="list users (never their passwords)")
    remove = actions.add_parser("remove", help="remove a user and end their sessions")
    remove.add_argument("name", nargs="?", help="the user's name")
    remove.add_argument("--id", help="the user's id instead (from `twinsync user list`): "
                                     "for live users who share a name, in a store made "
                                     "before names were unique")
    for sub in (add, listing, remove):
        sub.add_argument("--store", help="store URL (default from twinsync.toml)")
        sub.add_argument("--config", help="TOML settings file")
        sub.add_argument("--json", action="store_true", help="print JSON")


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise InvalidInput("the two passwords differ", "bad_user")
    return first


def run(args: argparse.Namespace) -> int:
    settings = Settings.load(args.config, store=args.store)
    store = open_token_store(settings.store)
    try:
        if args.action == "add":
            if store.find_user(args.name.strip()) is not None:
                # Asked before the password, which would be typed for nothing.
                raise Conflict(f"there is a user {args.name.strip()!r} already")
            record = new_user(args.name, role_of(args.role), _password(args.password_stdin),
                              now=time.time())
            store.add(record, created(record, COMMAND, record.created_at))
            print(json.dumps(record.public()) if args.json
                  else f"user {record.name} ({record.role.value}) added")
            return 0
        users = [r for r in store.records() if r.kind is Kind.USER and r.revoked_at is None]
        if args.action == "remove":
            return _remove(store, users, args)
        duplicates = store.duplicate_users
    finally:
        store.close()
    if args.json:
        print(json.dumps([u.public() for u in users]))
    else:
        for user in users:
            print(f"{user.id}  {user.role.value:8}  {user.name}")
        for name, ids in duplicates.items():
            print(f"twinsync: {len(ids)} live users are named {name!r} ({', '.join(ids)}); "
                  f"nobody signs in as {name!r} until all but one are removed with "
                  "`twinsync user remove --id ID`", file=sys.stderr)
    return 0


def _remove(store: TokenStore, users: list[TokenRecord], args: argparse.Namespace) -> int:
    if (args.name is None) == (args.id is None):
        raise InvalidInput("name the user to remove, or give --id", "bad_user")
    found = [u for u in users if (u.id == args.id if args.id else u.name == args.name)]
    if not found:
        print(f"twinsync: no user {args.id or args.name}")
        return 1
    if len(found) > 1:
        print(f"twinsync: {len(found)} users are named {args.name!r} "
              f"({', '.join(u.id for u in found)}): remove one with --id")
        return 1
    [user] = found
    now = time.time()
    store.revoke(user.id, now, revoked(user.id, COMMAND, now, user=True))
    print(f"removed {user.name} ({user.id})")
    return 0
