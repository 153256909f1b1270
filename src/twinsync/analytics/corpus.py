"""A labelled corpus in the Numenta Anomaly Benchmark's layout, read and written.

``data/<category>/<name>.csv`` (columns ``timestamp,value``) with the windows of every file
in a labels file (``combined_windows.json``: the file's path under ``data`` to a list of
``[start, end]`` timestamps). A detector's results go to
``results/<detector>/<category>/<detector>_<name>.csv`` with the columns
``timestamp,value,anomaly_score,label`` (label 1 inside a window), row for row.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from .nab import Series

__all__ = ["LabelledFile", "read_corpus", "write_results"]


@dataclass(frozen=True, slots=True)
class LabelledFile:
    """One file of the corpus: its path under ``data`` (``category/name.csv``), its rows
    as read, and its windows as rows."""

    path: str
    timestamps: list[str]
    value_texts: list[str]
    """The values as the file spells them (written back unchanged)."""
    times: NDArray[np.float64]
    """Seconds since the epoch (the file's times read as UTC)."""
    values: NDArray[np.float64]
    series: Series

    @property
    def category(self) -> str:
        return self.path.split("/", 1)[0]

    @property
    def stem(self) -> str:
        return Path(self.path).stem


def _times(texts: list[str], where: str) -> NDArray[np.datetime64]:
    try:
        return np.array([text.strip() for text in texts], dtype="datetime64[us]")
    except ValueError as exc:
        raise ValueError(f"{where}: a timestamp is not ISO 8601 ({exc})") from exc


def _read_file(path: Path, name: str, windows: list[list[str]]) -> LabelledFile:
    timestamps: list[str] = []
    texts: list[str] = []
    values: list[float] = []
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or not {"timestamp", "value"} <= set(reader.fieldnames):
            raise ValueError(f"{name}: the columns are timestamp,value")
        for line, row in enumerate(reader, start=2):
            try:
                values.append(float(row["value"]))
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{name}, line {line}: value {row['value']!r}") from exc
            timestamps.append(row["timestamp"])
            texts.append(row["value"])
    times = _times(timestamps, name)
    spans = []
    for start, end in windows:
        first, last = _times([start, end], f"{name}: window {start}..{end}")
        # Rows are taken in file order; a real file's clock may step back (NAB's machine
        # temperature does once), so a window is the rows from the first to the last
        # whose time is in it, not a search over sorted times.
        inside = np.flatnonzero((times >= first) & (times <= last))
        if inside.size == 0:
            raise ValueError(f"{name}: window {start}..{end} holds no row")
        spans.append((int(inside[0]), int(inside[-1])))
    seconds = (times - np.datetime64(0, "us")) / np.timedelta64(1, "s")
    return LabelledFile(
        name,
        timestamps,
        texts,
        seconds.astype(np.float64),
        np.array(values, dtype=np.float64),
        Series(name, len(values), spans),
    )


def read_corpus(corpus: Path, labels: Path) -> list[LabelledFile]:
    """Every file the labels name, in the order of their names; a file named but missing
    is an error (a corpus scored without some of its windows would score too well)."""
    try:
        windows_of: dict[str, list[list[str]]] = json.loads(labels.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{labels}: not a readable labels file ({exc})") from exc
    if not isinstance(windows_of, dict) or not windows_of:
        raise ValueError(f"{labels}: no files labelled")
    files = []
    for name in sorted(windows_of):
        path = corpus / name
        if not path.is_file():
            raise ValueError(f"{name}: labelled but not found under {corpus}")
        files.append(_read_file(path, name, windows_of[name]))
    return files


def write_results(
    out: Path, detector: str, file: LabelledFile, scores: NDArray[np.float64]
) -> Path:
    """The results file of ``file`` under ``out`` (see the module's docstring)."""
    target = out / "results" / detector / file.category / f"{detector}_{file.stem}.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    label = np.zeros(file.series.rows, dtype=np.int64)
    for left, right in file.series.windows:
        label[left : right + 1] = 1
    with target.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["timestamp", "value", "anomaly_score", "label"])
        for row in range(file.series.rows):
            writer.writerow(
                [
                    file.timestamps[row],
                    file.value_texts[row],
                    f"{scores[row]:.6f}",
                    int(label[row]),
                ]
            )
    return target
