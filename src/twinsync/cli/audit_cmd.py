"""``twinsync audit verify | prune``: check the audit log's hash chain, and cut the log to
its retention, on the store directly (beside a running server, like ``twinsync token``).

``verify`` exits 0 when the chain holds and 1 at the first broken entry, which it names.
It prints the head (``<id>:<hash>``): kept somewhere the database's admins cannot write,
it is passed back later as ``--expect`` to find a chain rewritten since.
"""

from __future__ import annotations

import argparse
import json
import time

from ..config import Settings
from ..errors import InvalidInput
from ..store.audit import COMMAND
from ..store.audit_chain import expected_head
from ..store.tokens import open_token_store

DAY = 86_400.0


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    verify = actions.add_parser("verify", help="check the hash chain; name the first break")
    verify.add_argument("--expect", metavar="ID:HASH",
                        help="a head printed by an earlier verify: that entry must still "
                             "have that hash")
    prune = actions.add_parser("prune", help="remove entries older than the retention")
    prune.add_argument("--keep-days", type=float, default=None,
                       help="keep this many days (default: audit_keep_days of the settings)")
    for sub in (verify, prune):
        sub.add_argument("--store", help="store URL (default from twinsync.toml)")
        sub.add_argument("--config", help="TOML settings file")
        sub.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace) -> int:
    settings = Settings.load(args.config, store=args.store)
    keep: float | None = None
    if args.action == "prune":
        keep = args.keep_days if args.keep_days is not None else settings.audit_keep_days
        if keep is None or keep <= 0:
            raise InvalidInput("say how many days to keep (--keep-days, or audit_keep_days "
                               "in the settings)", "bad_retention")
    store = open_token_store(settings.store)
    try:
        if keep is not None:
            now = time.time()
            pruned = store.prune_audit(now - keep * DAY, COMMAND, now)
            print(json.dumps(pruned.to_dict()) if args.json else
                  f"removed {pruned.removed} entries; the chain now starts after entry "
                  f"{pruned.anchor_id} ({pruned.anchor_hash})")
            return 0
        expect = None if args.expect is None else expected_head(args.expect)
        verdict = store.verify_audit(expect)
    finally:
        store.close()
    if args.json:
        print(json.dumps(verdict.to_dict()))
    elif verdict.ok:
        print(f"the audit chain holds: {verdict.checked} entries after entry "
              f"{verdict.anchor_id}; head {verdict.head_id}:{verdict.head_hash}")
    else:
        print(f"the audit chain is broken: {verdict.problem} "
              f"({verdict.checked} entries checked before it)")
    return 0 if verdict.ok else 1
