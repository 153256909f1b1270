"""``twinsync bench NAME``: run a benchmark; with ``--json`` its figures end the output as
one JSON object on the last line."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform

BENCHES = {
    "ingest": "twinsync.bench.ingest",
    "passes": "twinsync.bench.passes",
    "health": "twinsync.bench.health",
    "health-speed": "twinsync.bench.health_speed",
    "nab": "twinsync.bench.nab",
    "anomaly": "twinsync.bench.anomaly",
    "anomaly-speed": "twinsync.bench.anomaly_speed",
    "anomaly-split": "twinsync.bench.anomaly_split",
    "anomaly-synth": "twinsync.bench.anomaly_synth",
    "anomaly-room": "twinsync.bench.anomaly_room",
    "mqtt": "twinsync.bench.mqtt",
    "bim": "twinsync.bench.bim",
    "auth": "twinsync.bench.auth",
    "schedule": "twinsync.bench.schedule",
    "curing": "twinsync.bench.curing",
    "forecast": "twinsync.bench.forecast",
    "twin": "twinsync.bench.twin",
    "zones": "twinsync.bench.zones",
    "zone-gain": "twinsync.bench.zone_gain",
    "zone-demo": "twinsync.bench.zone_demo",
    "zone-neighbours": "twinsync.bench.zone_neighbours",
    "tracker": "twinsync.bench.tracker",
    "shadow": "twinsync.bench.shadow",
    "twin-track": "twinsync.bench.twin_track",
    "p6": "twinsync.bench.p6",
    "measurement-retry": "twinsync.bench.measurement_retry",
}


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    benches = parser.add_subparsers(dest="bench", required=True, metavar="BENCH")
    for bench_name, module_name in BENCHES.items():
        module = importlib.import_module(module_name)
        # argparse formats help with %: a docstring's "90 %" would break ``bench --help``.
        summary = (module.__doc__ or "").strip().splitlines()[0].replace("%", "%%")
        sub = benches.add_parser(bench_name, help=summary)
        module.add_arguments(sub)
        if not any("--json" in action.option_strings for action in sub._actions):
            sub.add_argument("--json", action="store_true",
                             help="print the figures as one JSON object on the last line")
        sub.set_defaults(bench_run=module.run)


def machine() -> dict[str, object]:
    return {"cpus": os.cpu_count(), "python": platform.python_version(),
            "platform": platform.platform()}


def run(args: argparse.Namespace) -> int:
    figures = args.bench_run(args)
    figures = {"bench": args.bench, **figures, "machine": machine()}
    if args.json:
        print(json.dumps(figures))
    else:
        width = max(len(k) for k in figures)
        for key, value in figures.items():
            print(f"{key:<{width}}  {value}")
    return 0
