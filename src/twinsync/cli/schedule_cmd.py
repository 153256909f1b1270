"""``twinsync schedule cpm FILE``: schedule a P6 XER, MS Project XML or IFC work schedule on
its own, as of its data date;
``twinsync schedule import FILE``: make it the twin's schedule (``schedule_import``).

``cpm`` writes one row per activity (``--out``, CSV): code, early and late dates
(``YYYY-MM-DD HH:MM`` in the schedule's local time), total and free float in hours, and
whether the activity is critical. With ``--json`` a summary ends the output as one JSON
object.
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from datetime import datetime
from pathlib import Path

from ..errors import InvalidInput
from ..schedule import schedule_cpm
from ..schedule.calendar import format_date, read_date
from ..schedule.files import read_schedule
from ..schedule.report import COLUMNS, activity_rows, agreement


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    commands = parser.add_subparsers(dest="schedule_command", required=True,
                                     metavar="SUBCOMMAND")
    cpm = commands.add_parser("cpm", help="schedule a P6 XER, MS Project XML or IFC file and "
                                          "write its dates",
                              description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    cpm.add_argument("file", type=Path,
                     help="the XER, MS Project XML (MSPDI), IFC or CSV file")
    cpm.add_argument("--project", help="the project's id or short name, when the file holds "
                                       "several")
    cpm.add_argument("--data-date", type=_data_date,
                     help="schedule as of this date (YYYY-MM-DD or 'YYYY-MM-DD HH:MM'; "
                          "default: the file's data date)")
    cpm.add_argument("--out", type=Path, required=True, help="the CSV file to write")
    cpm.add_argument("--json", action="store_true",
                     help="print a summary as one JSON object on the last line")
    cpm.set_defaults(run_schedule=run_cpm)
    from . import schedule_import

    schedule_import.add_arguments(commands.add_parser(
        "import", help="import a P6 XER, MS Project XML or IFC file as the twin's schedule "
                       "(a new version)",
        description=schedule_import.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter))


def _data_date(text: str) -> datetime:
    day = read_date(text)
    if day is not None:
        return day
    raise argparse.ArgumentTypeError(f"{text!r} is not YYYY-MM-DD or 'YYYY-MM-DD HH:MM'")


def run(args: argparse.Namespace) -> int:
    code: int = args.run_schedule(args)
    return code


def run_cpm(args: argparse.Namespace) -> int:
    if not args.file.is_file():
        raise InvalidInput(f"no file {args.file}", "no_file")
    started = time.perf_counter()
    schedule = read_schedule(args.file.read_bytes(), project=args.project)
    read_s = time.perf_counter() - started
    started = time.perf_counter()
    result = schedule_cpm(schedule, args.data_date)
    cpm_s = time.perf_counter() - started
    with args.out.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        writer.writerows(activity_rows(result))
    for warning in schedule.warnings:
        print(f"warning: {warning}")
    for link in schedule.external_relationships:
        side = "predecessor" if link.other_is_predecessor else "successor"
        print(f"not scheduled: line {link.line}: a {link.type} relationship to {side} "
              f"{link.other_activity_id} of project {link.other_project_id or '?'}")
    summary = {
        "project": schedule.project_code, "data_date": format_date(result.data_date),
        "project_finish": format_date(result.project_finish),
        "activities": len(result.activities), "relationships": len(schedule.relationships),
        "critical": sum(a.critical for a in result.activities),
        "longest_path": sum(a.longest_path for a in result.activities),
        "external_relationships": len(schedule.external_relationships),
        "warnings": len(schedule.warnings), "read_s": round(read_s, 4),
        "cpm_s": round(cpm_s, 4), "out": str(args.out),
        # against the dates the file's own scheduler stored (when the file has them)
        "agreement_with_file": agreement(schedule, result),
    }
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"{schedule.project_code}: {summary['activities']} activities as of "
              f"{summary['data_date']}, finish {summary['project_finish']}, "
              f"{summary['critical']} critical; written to {args.out}")
    return 0
