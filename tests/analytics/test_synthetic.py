"""The made-up heavy-tailed corpus: the same seed makes the same files, each anomaly lies
in its window, and the corpus reads back as NAB's layout."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from twinsync.analytics.corpus import read_corpus
from twinsync.analytics.synthetic import KINDS, make_series, write_corpus


def test_the_same_seed_writes_the_same_corpus_and_another_seed_another(tmp_path: Path) -> None:
    first, again, other = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    assert write_corpus(first, series=5, seed=7) == write_corpus(again, series=5, seed=7)
    write_corpus(other, series=5, seed=8)
    files = sorted(p.relative_to(first) for p in first.rglob("*.csv"))
    assert all((first / f).read_bytes() == (again / f).read_bytes() for f in files)
    assert (first / "combined_windows.json").read_text() != (
        other / "combined_windows.json").read_text()


def test_each_anomaly_is_in_the_middle_of_its_window_and_windows_are_nabs_width() -> None:
    rng = np.random.default_rng(3)
    for index in range(30):
        series = make_series(rng, f"s{index}")
        n = series.values.size
        assert np.isfinite(series.values).all() and 3000 <= n <= 6000
        assert set(series.planted) <= set(KINDS) and len(series.planted) == len(series.windows)
        width = int(0.1 * n / max(len(series.windows), 1))
        for left, right in series.windows:
            assert right - left <= width and left >= int(0.2 * n) - width // 2
        # apart and in order, as NAB's windows are
        assert all(a[1] < b[0] for a, b in zip(series.windows, series.windows[1:], strict=False))


def test_the_corpus_reads_back_as_nabs_layout_with_every_window(tmp_path: Path) -> None:
    planted = write_corpus(tmp_path, series=8, seed=2)
    files = read_corpus(tmp_path / "data", tmp_path / "combined_windows.json")
    labels = json.loads((tmp_path / "combined_windows.json").read_text())
    assert [f.path for f in files] == sorted(planted)
    assert [len(f.series.windows) for f in files] == [len(labels[f.path]) for f in files]
    assert sum(len(kinds) for kinds in planted.values()) == sum(
        len(f.series.windows) for f in files)
