"""The command line: ``twinsync demo | serve | import | replay | bench | health | schedule …``.

Each command is a small module with ``add_arguments(parser)`` and ``run(args) -> int``;
benchmarks live in ``twinsync.bench`` with ``add_arguments`` and ``run(args) -> dict``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from ..errors import TwinsyncError

COMMANDS = {
    "demo": ("twinsync.cli.serve_cmd", "start the demo twin with the site simulator"),
    "serve": ("twinsync.cli.serve_cmd", "serve a twin from a store"),
    "import": ("twinsync.cli.import_cmd", "import a BIM model (IFC) into a twin"),
    "replay": ("twinsync.cli.replay_cmd", "replay a CSV file of readings into a twin"),
    "bench": ("twinsync.cli.bench_cmd", "run a benchmark and print its figures"),
    "health": ("twinsync.cli.health_cmd", "judge recorded readings by the live health checks"),
    "token": ("twinsync.cli.token_cmd", "create, list and revoke API tokens"),
    "user": ("twinsync.cli.user_cmd", "add, list and remove users who sign in with a password"),
    "audit": ("twinsync.cli.audit_cmd", "verify the audit log's hash chain, or prune it"),
    "schedule": ("twinsync.cli.schedule_cmd",
                 "work out the dates of a P6, MS Project or IFC schedule (critical path), "
                 "or import it into a twin"),
}


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="twinsync", description="Live digital twins.")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        sub = commands.add_parser(name, help=help_text, description=help_text)
        module = importlib.import_module(module_name)
        module.add_arguments(sub, name)
        sub.set_defaults(run=module.run)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except TwinsyncError as exc:
        print(f"twinsync: {exc}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
