"""Replay labelled readings through the live pipeline and health checks, offline.

``twinsync health replay --sensors SENSORS.csv --readings READINGS.csv --out STATES.csv``
builds the twin SENSORS.csv describes, feeds READINGS.csv (in arrival order) through the
same admission, ordering, clock and health code as live ingest, on simulated time, and
writes every health state change as ``time,sensor_id,state,quality,reason``. With
``--qualities FILE`` each accepted reading's quality goes to FILE as
``sensor_id,time,quality``. Bad rows are counted and listed by line, not fatal. A batch
is what one source sent within one second (``--window``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any

from ..errors import InvalidInput
from ..health import HealthParams
from ..health.replay import WINDOW, ReplayResult, replay


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sensors", type=Path, required=True,
                        help="CSV: sensor_id,kind,unit,element_id,property,"
                             "expected_interval_s,resolution,source[,group]")
    parser.add_argument("--readings", type=Path, required=True,
                        help="CSV in arrival order: received_at,source,sensor_id,time,value,seq")
    parser.add_argument("--out", type=Path, required=True,
                        help="where to write the state changes (time,sensor_id,state,quality,"
                             "reason)")
    parser.add_argument("--qualities", type=Path,
                        help="also write each accepted reading's quality (sensor_id,time,"
                             "quality)")
    parser.add_argument("--window", type=float, default=WINDOW,
                        help="seconds of arrival batched together per source (default 1, "
                             "as a connector batches; wider is faster when every reading "
                             "arrived alone, and receives each up to that much later)")
    parser.add_argument("--events", type=Path, default=None, metavar="EVENTS.csv",
                        help="declared site events (start,end,kind and one of sensor_id, "
                             "group, element_id): spans in which the drift check does not "
                             "judge a sensor against its peers")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a health parameter other than its default (repeatable; "
                             "see twinsync.health.HealthParams), to see what it would do "
                             "on these readings")
    parser.add_argument("--json", action="store_true",
                        help="print the counts as one JSON object on the last line")


def params_from(settings: list[str]) -> HealthParams:
    """``HealthParams`` with each ``NAME=VALUE`` set, converted to the field's type."""
    names = {f.name: f for f in dataclasses.fields(HealthParams)}
    changes: dict[str, Any] = {}
    for setting in settings:
        name, sep, text = setting.partition("=")
        name = name.strip()
        if not sep or name not in names:
            raise InvalidInput(f"--set {setting!r}: expected NAME=VALUE with NAME one of "
                               f"{', '.join(sorted(names))}", "bad_parameter")
        kind = int if names[name].type in (int, "int") else float
        try:
            changes[name] = kind(text)
        except ValueError as exc:
            raise InvalidInput(f"--set {setting!r}: {text!r} is not a {kind.__name__}",
                               "bad_parameter") from exc
    return dataclasses.replace(HealthParams(), **changes)


def run(args: argparse.Namespace) -> int:
    for path in (args.sensors, args.readings, *([args.events] if args.events else [])):
        if not path.is_file():
            raise InvalidInput(f"no file {path}", "no_file")
    result = replay(args.sensors, args.readings, args.out, args.qualities, window=args.window,
                    params=params_from(args.set), events=args.events)
    _print(result, args)
    if args.json:
        print(json.dumps(result.to_dict()))
    return 0


def _print(result: ReplayResult, args: argparse.Namespace) -> None:
    figures = result.to_dict()
    print(f"replayed {result.readings} readings in {result.batches} batches: "
          f"{result.accepted} accepted, {figures['rejected_total']} refused, "
          f"{result.duplicates} duplicates, {result.late} late; "
          f"{result.seconds:.1f} s ({figures['readings_per_second']} readings/s)")
    if result.behind_newest:
        print(f"{result.behind_newest} readings came behind their sensor's newest, "
              f"{result.placed} of them judged in their place")
    if result.rejected:
        print("refused: " + ", ".join(f"{reason} {count}"
                                       for reason, count in sorted(result.rejected.items())))
        for bad in result.examples:
            print(f"  line {bad.line}: {bad.reason}: {bad.detail}")
        shown = len(result.examples)
        if figures["rejected_total"] > shown:
            print(f"  ... and {figures['rejected_total'] - shown} more")
    changes = ", ".join(f"{state} {count}" for state, count in sorted(result.states.items()))
    print(f"{result.state_changes} state changes ({changes or 'none'}) written to {args.out}")
    if args.qualities is not None:
        print(f"reading qualities written to {args.qualities}")
