"""``bench passes`` times each compiled stage of the reading path on readings that all go
the whole way."""

from __future__ import annotations

import json

import pytest

from twinsync.cli import main


def test_every_stage_is_timed_and_every_reading_went_the_whole_path(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "passes", "--sensors", "500", "--batch", "1000", "--batches", "3",
                 "--warm-up", "4", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(figures["ns_per_reading"]) == {"accept", "health", "apply"}
    assert all(ns > 0 for ns in figures["ns_per_reading"].values())
    assert figures["counts"]["accepted"] == (2 + 3) * 1000  # 500 x 4 warm-up, then timed
    assert figures["counts"]["stale"] == 0 and figures["counts"]["late"] == 0


def test_warm_batches_of_one_reading_are_timed_per_batch(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "passes", "--sensors", "50", "--batch", "1", "--batches", "20",
                 "--warm-up", "2", "--warm", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert figures["warm"] is True
    assert set(figures["us_per_batch"]) == {"accept", "health", "apply"}
    assert all(us > 0 for us in figures["us_per_batch"].values())
    assert figures["total_us"] == pytest.approx(sum(figures["us_per_batch"].values()), abs=0.2)
    assert figures["counts"]["accepted"] == 50 * 2 + 20
