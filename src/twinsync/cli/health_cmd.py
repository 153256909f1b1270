"""``twinsync health SUBCOMMAND``: sensor health offline, through the live code.

Each sub-command is a module of its own with ``add_arguments(parser)`` and
``run(args) -> int``, named in ``SUBCOMMANDS``; a new one is one line here.
"""

from __future__ import annotations

import argparse
import importlib

SUBCOMMANDS = {
    "replay": "twinsync.cli.health_replay",
}


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    subcommands = parser.add_subparsers(dest="health_command", required=True,
                                        metavar="SUBCOMMAND")
    for sub_name, module_name in SUBCOMMANDS.items():
        module = importlib.import_module(module_name)
        help_text = (module.__doc__ or "").strip().splitlines()[0]
        sub = subcommands.add_parser(sub_name, help=help_text, description=module.__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(sub)
        sub.set_defaults(health_run=module.run)


def run(args: argparse.Namespace) -> int:
    code: int = args.health_run(args)
    return code
