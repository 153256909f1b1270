"""``twinsync token create | list | revoke``: API tokens, kept hashed in the twin's store.

Works on the store directly, beside a running server (which sees a new token at once and
a revoked one within seconds). The secret is printed once, at creation, and never again.
"""

from __future__ import annotations

import argparse
import json
import os
import time

from ..config import Settings
from ..store.audit import COMMAND
from ..store.tokens import created, open_token_store, revoked
from ..tokens import Role, TokenRecord, new_token, role_of

DAY = 86_400.0


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = actions.add_parser("create", help="create a token and print it (once)")
    create.add_argument("name", help="who or what holds it, e.g. 'site-gateway'")
    create.add_argument("--role", required=True, choices=[r.value for r in Role])
    create.add_argument("--days", type=float, default=None,
                        help="days until it expires (default: until revoked)")
    create.add_argument("--sensor", action="append", default=[], dest="sensors",
                        help="for a device: a sensor id or pattern (L1-*) it may post; "
                             "repeat for more")
    listing = actions.add_parser("list", help="list tokens (never their secrets)")
    revoke = actions.add_parser("revoke", help="revoke a token and its sessions")
    revoke.add_argument("id", help="the token's id, from `twinsync token list`")
    for sub in (create, listing, revoke):
        sub.add_argument("--store", help="store URL (default from twinsync.toml)")
        sub.add_argument("--config", help="TOML settings file")
        sub.add_argument("--json", action="store_true", help="print JSON")


def create_token(store_url: str, name: str, role: Role, *, days: float | None = None,
                 sensors: tuple[str, ...] = ()) -> tuple[str, TokenRecord]:
    """Create a token in the store at ``store_url``; its secret and record."""
    now = time.time()
    secret, record = new_token(name, role, now=now,
                               expires_at=None if days is None else now + days * DAY,
                               sensors=sensors)
    store = open_token_store(store_url)
    try:
        store.add(record, created(record, COMMAND, now))
    finally:
        store.close()
    return secret, record


def bearer_header(token: str | None) -> dict[str, str]:
    """The header a command sends to a running twinsync: ``token``, else $TWINSYNC_TOKEN."""
    token = token or os.environ.get("TWINSYNC_TOKEN")
    return {"Authorization": f"Bearer {token}"} if token else {}


def run(args: argparse.Namespace) -> int:
    settings = Settings.load(args.config, store=args.store)
    if args.action == "create":
        secret, record = create_token(settings.store, args.name, role_of(args.role),
                                      days=args.days, sensors=tuple(args.sensors))
        if args.json:
            print(json.dumps({**record.public(), "token": secret}))
        else:
            print(f"token {record.id} ({record.role.value}) for {record.name}; shown only "
                  f"now, keep it safe:\n{secret}")
        return 0
    store = open_token_store(settings.store)
    try:
        if args.action == "revoke":
            now = time.time()
            if not store.revoke(args.id, now, revoked(args.id, COMMAND, now)):
                print(f"twinsync: no token {args.id}")
                return 1
            print(f"revoked {args.id}")
            return 0
        records = [r for r in store.records() if r.kind.value == "token"]
    finally:
        store.close()
    if args.json:
        print(json.dumps([r.public() for r in records]))
        return 0
    now = time.time()
    for r in records:
        state = "valid" if r.valid(now) else ("revoked" if r.revoked_at else "expired")
        ends = "never" if r.expires_at is None else time.strftime(
            "%Y-%m-%d %H:%M", time.gmtime(r.expires_at))
        grants = f" sensors={','.join(r.sensors)}" if r.sensors else ""
        print(f"{r.id}  {r.role.value:8}  {state:7}  expires {ends}  {r.name}{grants}")
    return 0
