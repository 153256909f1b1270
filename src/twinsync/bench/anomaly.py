"""``twinsync bench anomaly``: a detector over a labelled corpus, scored as NAB scores it.

Reads a corpus in the Numenta Anomaly Benchmark's layout (``--corpus`` holds
``<category>/<name>.csv``, ``--labels`` is its ``combined_windows.json``), runs the detector
over each series once, a reading at a time and in order (each file a sensor of its own, a
fresh detector per file, the same settings for all), writes
``<out>/results/<detector>/<category>/<detector>_<name>.csv`` and prints the normalised
score of each profile at the threshold best for it over the whole corpus.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..analytics import PROFILES, score_corpus
from ..analytics.corpus import read_corpus, write_results
from ..analytics.detectors import DETECTORS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--corpus",
        type=Path,
        required=True,
        help="folder of <category>/<name>.csv (NAB's data folder)",
    )
    parser.add_argument(
        "--labels",
        type=Path,
        required=True,
        help="the windows of every file (NAB's combined_windows.json)",
    )
    parser.add_argument("--out", type=Path, required=True, help="where results/ is written")
    parser.add_argument(
        "--detector",
        choices=sorted(DETECTORS),
        default="novelty",
        help="the detector, with its default settings (default novelty)",
    )


def run(args: argparse.Namespace) -> dict[str, Any]:
    try:
        files = read_corpus(args.corpus, args.labels)
    except ValueError as exc:
        raise SystemExit(f"bench anomaly: {exc}") from exc
    make = DETECTORS[args.detector]
    scores = []
    readings = 0
    started = time.perf_counter()
    for file in files:
        detector = make()
        rows = np.zeros(file.series.rows, dtype=np.int64)
        scores.append(detector.learn_many(rows, {"time": file.times, "value": file.values}))
        readings += file.series.rows
    seconds = time.perf_counter() - started
    for file, column in zip(files, scores, strict=True):
        write_results(args.out, args.detector, file, column)
    series = [file.series for file in files]
    profiles = {}
    for profile in PROFILES:
        result = score_corpus(series, scores, profile)
        profiles[profile.name] = {
            "score": round(result.normalised, 2),
            "threshold": result.threshold,
            "windows_found": result.true_windows,
            "windows_missed": result.missed_windows,
            "false_detections": result.false_detections,
        }
        if not args.json:
            print(
                f"{profile.name:14} {result.normalised:7.2f}  threshold "
                f"{result.threshold:.4f}  windows {result.true_windows}/"
                f"{result.true_windows + result.missed_windows}, false detections "
                f"{result.false_detections}"
            )
    return {
        "detector": args.detector,
        "files": len(files),
        "readings": readings,
        "windows": sum(len(s.windows) for s in series),
        "seconds": round(seconds, 3),
        "results": str(args.out / "results" / args.detector),
        **{name: figures["score"] for name, figures in profiles.items()},
        "profiles": profiles,
    }
