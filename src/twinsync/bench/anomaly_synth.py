"""``twinsync bench anomaly-synth``: write a made-up corpus of spiky, heavy-tailed series
with planted anomalies in NAB's layout (``analytics/synthetic.py`` says how it is made),
to run ``bench anomaly`` and ``bench anomaly-split`` on."""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path
from typing import Any

from ..analytics.synthetic import write_corpus


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, required=True,
                        help="folder for data/ and combined_windows.json")
    parser.add_argument("--series", type=int, default=40, help="how many (default 40)")
    parser.add_argument("--seed", type=int, default=1)


def run(args: argparse.Namespace) -> dict[str, Any]:
    planted = write_corpus(args.out, args.series, args.seed)
    kinds = Counter(kind for spans in planted.values() for kind in spans)
    return {
        "corpus": str(args.out / "data"),
        "labels": str(args.out / "combined_windows.json"),
        "series": len(planted),
        "windows": sum(kinds.values()),
        "planted": dict(sorted(kinds.items())),
    }
