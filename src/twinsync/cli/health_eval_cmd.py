"""``twinsync health generate`` and ``twinsync health score``: the evaluation set's commands.

``generate`` writes one part of the labelled construction site (SENSORS.csv, READINGS.csv,
LABELS.csv, SITE.json) for ``twinsync health replay``; ``score`` scores the STATES.csv (and
QUALITIES.csv) a replay wrote against LABELS.csv; ``nab`` converts a few labelled NAB
series to the same files, one folder each, as a real-data supplement. Thresholds are chosen
on ``--part tune`` only; ``holdout`` is for checking a choice once it is made
(docs/HEALTH.md).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

from ..errors import InvalidInput
from ..health.evaluation import files
from ..health.evaluation.generate import generate
from ..health.evaluation.nab import SERIES, convert
from ..health.evaluation.params import PARTS
from ..health.evaluation.score import report, score


def add_generate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--part", choices=sorted(PARTS), default="tune",
                        help="tune (to choose thresholds on) or holdout (to check them)")
    parser.add_argument("--seed", type=int, default=1, help="random seed")
    parser.add_argument("--days", type=float, default=28.0, help="simulated days")
    parser.add_argument("--sensors", type=int, default=200, help="about this many sensors")
    parser.add_argument("--out", type=Path, required=True, help="folder to write the files to")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")


def run_generate(args: argparse.Namespace) -> int:
    if args.days <= 0 or args.sensors <= 0:
        raise InvalidInput("--days and --sensors must be positive", "bad_argument")
    summary = generate(args.part, args.seed, args.days, args.out, sensors=args.sensors)
    if args.json:
        print(json.dumps(asdict(summary)))
    else:
        print(f"{summary.part} seed {summary.seed}: {summary.sensors} sensors in "
              f"{summary.groups} groups ({summary.fault_free_sensors} fault-free), "
              f"{summary.days:g} days, {summary.readings} readings, {summary.faults} faults, "
              f"{summary.seconds} s -> {args.out}")
    return 0


def add_score_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--labels", type=Path, required=True, help="LABELS.csv")
    parser.add_argument("--sensors", type=Path, required=True, help="SENSORS.csv")
    parser.add_argument("--states", type=Path, required=True, help="STATES.csv of a replay")
    parser.add_argument("--qualities", type=Path, help="QUALITIES.csv of the same replay")
    parser.add_argument("--site", type=Path,
                        help="SITE.json (the period scored); default: beside LABELS.csv")
    parser.add_argument("--explain", action="store_true",
                        help="also list every missed fault (read these on tune only)")
    parser.add_argument("--json", action="store_true",
                        help="also print the result as JSON on the last line")


def run_score(args: argparse.Namespace) -> int:
    site_file: Path = args.site or args.labels.parent / "SITE.json"
    span = None
    if site_file.is_file():
        site = json.loads(site_file.read_text())
        span = (float(site["start"]), float(site["end"]))
    elif args.site is not None:
        raise InvalidInput(f"{site_file}: no such file", "missing_file")
    for path in (args.labels, args.sensors, args.states, args.qualities):
        if path is not None and not path.is_file():
            raise InvalidInput(f"{path}: no such file", "missing_file")
    result = score(files.read_labels(args.labels), files.read_states(args.states),
                   files.read_sensors(args.sensors),
                   files.read_qualities(args.qualities) if args.qualities else None, span)
    for line in report(result, explain=args.explain):
        print(line)
    if args.json:
        print(json.dumps(result))
    return 0


def add_nab_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, required=True,
                        help="NAB folder with data/ and combined_windows.json (read only)")
    parser.add_argument("--out", type=Path, required=True,
                        help="folder to write one sub-folder per series to")
    parser.add_argument("--series", nargs="*", choices=sorted(SERIES),
                        help="series to convert (default: all that have a conversion)")


def run_nab(args: argparse.Namespace) -> int:
    for name, readings in convert(args.data, args.out, args.series).items():
        print(f"{name}: {readings} readings -> {args.out / name}")
    return 0
