"""``twinsync health SUBCOMMAND``: sensor health offline, through the live code.

- ``replay``: judge a labelled data set (SENSORS.csv, READINGS.csv) with the live
  admission, clock and health code, writing every state change (STATES.csv);
- ``generate``: write one part (``tune`` or ``holdout``) of the labelled construction-site
  evaluation set in the replay's format;
- ``score``: score a replay's STATES.csv (and QUALITIES.csv) against LABELS.csv;
- ``nab``: convert labelled NAB series to the replay's format.

Each sub-command is a pair of functions (add its arguments, run it) in a module, named in
``SUBCOMMANDS``; a new one is one line here.
"""

from __future__ import annotations

import argparse
import importlib

#: name: (module, function adding its arguments, function running it, help)
SUBCOMMANDS = {
    "replay": ("twinsync.cli.health_replay", "add_arguments", "run",
               "judge a labelled data set through the live health code"),
    "generate": ("twinsync.cli.health_eval_cmd", "add_generate_arguments", "run_generate",
                 "write one part of the labelled site evaluation set"),
    "score": ("twinsync.cli.health_eval_cmd", "add_score_arguments", "run_score",
              "score a replay's health states against the labels"),
    "nab": ("twinsync.cli.health_eval_cmd", "add_nab_arguments", "run_nab",
            "convert labelled NAB series to the replay's files"),
}


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    subcommands = parser.add_subparsers(dest="health_command", required=True,
                                        metavar="SUBCOMMAND")
    for sub_name, (module_name, add_name, run_name, help_text) in SUBCOMMANDS.items():
        module = importlib.import_module(module_name)
        sub = subcommands.add_parser(sub_name, help=help_text, description=module.__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
        getattr(module, add_name)(sub)
        sub.set_defaults(health_run=getattr(module, run_name))


def run(args: argparse.Namespace) -> int:
    code: int = args.health_run(args)
    return code
