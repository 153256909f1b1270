"""``twinsync bench anomaly-split``: what tuning an anomaly detector on half a corpus is
worth on the other half.

The corpus is split in two halves by file (every other file of each category, in name
order: half A the first, third, …). Every setting of a grid is run over every file once
(a fresh detector a file, as ``bench anomaly`` runs it); the setting best on half A
(standard profile) is scored on half B, and the other way round. The mean of the two
held-out scores is what the method, tuned so, can be expected to score on files nobody
tuned it on; the gap to the scores on the half it was tuned on is what tuning flatters.
The grid's median score on the whole corpus says how much a setting picked at random
loses.
"""

from __future__ import annotations

import argparse
import itertools
import time
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..analytics.corpus import LabelledFile, read_corpus
from ..analytics.nab import STANDARD, score_corpus
from ..analytics.novelty import NoveltyDetector
from ..analytics.streaming import StreamingDetector
from ..analytics.surprise import SurpriseDetector

#: The detectors whose settings the grid moves.
MAKERS: dict[str, type[StreamingDetector]] = {
    "novelty": NoveltyDetector,
    "surprise": SurpriseDetector,
}

#: The grid of the first split-half measurement (docs/ANOMALY.md): 144 settings.
GRID: dict[str, list[float]] = {
    "levels": [6, 8, 10],
    "order": [1, 2, 3],
    "tilings": [2, 3],
    "day_parts": [12, 24],
    "warmup": [150, 300],
    "quiet": [200, 300],
}


def _setting(text: str) -> tuple[str, list[float]]:
    name, _, values = text.partition("=")
    try:
        return name, [float(v) for v in values.split(",")]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r}: NAME=VALUE[,VALUE…]") from exc


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--corpus", type=Path, required=True, help="NAB's data folder")
    parser.add_argument("--labels", type=Path, required=True, help="combined_windows.json")
    parser.add_argument("--detector", choices=sorted(MAKERS), default="novelty")
    parser.add_argument(
        "--set",
        type=_setting,
        action="append",
        default=[],
        metavar="NAME=V[,V…]",
        help="a setting's values in the grid (replaces that axis of the default grid, or "
        "adds one); repeatable",
    )


def halves(files: list[LabelledFile]) -> tuple[list[int], list[int]]:
    """The files' indices in half A and half B (see the module)."""
    by_category: dict[str, list[int]] = {}
    for index, file in enumerate(files):
        by_category.setdefault(file.category, []).append(index)
    first: list[int] = []
    second: list[int] = []
    for category in sorted(by_category):
        ordered = sorted(by_category[category], key=lambda i: files[i].path)
        for place, index in enumerate(ordered):
            (first if place % 2 == 0 else second).append(index)
    return first, second


def _kwargs(setting: dict[str, float]) -> dict[str, Any]:
    whole = {"order", "tilings", "day_parts", "warmup", "quiet", "settle", "scales"}
    return {k: int(v) if k in whole else float(v) for k, v in setting.items()}


def run(args: argparse.Namespace) -> dict[str, Any]:
    try:
        files = read_corpus(args.corpus, args.labels)
    except ValueError as exc:
        raise SystemExit(f"bench anomaly-split: {exc}") from exc
    axes = dict(GRID)
    axes.update(dict(args.set))
    first, second = halves(files)
    if not any(files[i].series.windows for i in first) or not any(
        files[i].series.windows for i in second
    ):
        raise SystemExit("bench anomaly-split: each half needs a labelled window")

    def score(columns: list[NDArray[np.float64]], part: list[int]) -> float:
        return round(
            score_corpus(
                [files[i].series for i in part], [columns[i] for i in part], STANDARD
            ).normalised,
            2,
        )

    started = time.perf_counter()
    results = []
    for values in itertools.product(*axes.values()):
        setting = dict(zip(axes, values, strict=True))
        columns = []
        for file in files:
            detector = MAKERS[args.detector](**_kwargs(setting))
            rows = np.zeros(file.series.rows, dtype=np.int64)
            columns.append(detector.learn_many(rows, {"time": file.times, "value": file.values}))
        everything = list(range(len(files)))
        results.append((setting, score(columns, first), score(columns, second),
                        score(columns, everything)))
    best_a = max(results, key=lambda r: r[1])
    best_b = max(results, key=lambda r: r[2])
    whole = sorted(r[3] for r in results)
    held_out = round((best_a[2] + best_b[1]) / 2, 2)
    if not args.json:
        print(f"tuned on A: {best_a[1]:.2f} on A, {best_a[2]:.2f} on B  {_kwargs(best_a[0])}")
        print(f"tuned on B: {best_b[2]:.2f} on B, {best_b[1]:.2f} on A  {_kwargs(best_b[0])}")
        print(f"held-out mean {held_out:.2f}; grid of {len(results)} on the whole corpus: "
              f"median {whole[len(whole) // 2]:.2f}, best {whole[-1]:.2f}")
    return {
        "detector": args.detector,
        "files": len(files),
        "half_a": [files[i].path for i in first],
        "half_b": [files[i].path for i in second],
        "settings": len(results),
        "grid": {k: list(v) for k, v in axes.items()},
        "tuned_on_a": {"own": best_a[1], "held_out": best_a[2], "setting": _kwargs(best_a[0])},
        "tuned_on_b": {"own": best_b[2], "held_out": best_b[1], "setting": _kwargs(best_b[0])},
        "held_out_mean": held_out,
        "whole_median": whole[len(whole) // 2],
        "whole_best": whole[-1],
        "seconds": round(time.perf_counter() - started, 1),
    }
