"""Two trackers' tracking error in running sums: the figures are those NumPy gives over
the counted readings (both predicted, health trusted), divergences are counted on every
reading, a row of few readings is not ranked, and a savepoint puts the sums back."""

from __future__ import annotations

import numpy as np
import pytest

from twinsync.physics.comparison import COUNTED_QUALITY, LIMIT, MIN_COUNTED, Comparison
from twinsync.physics.tracker import RECALIBRATED, STARTED


def batch(rng: np.random.Generator, n: int, rows: int) -> dict[str, np.ndarray]:
    live_residual = rng.normal(0, 0.2, n)
    shadow_residual = rng.normal(0, 0.1, n)
    live_z = live_residual / 0.2 * rng.uniform(0.5, 3, n)
    shadow_z = shadow_residual / 0.1
    live_z[rng.random(n) < 0.1] = np.nan  # not predicted (warming up)
    shadow_residual[rng.random(n) < 0.1] = np.nan
    shadow_z[np.isnan(shadow_residual)] = np.nan
    live_residual[np.isnan(live_z)] = np.nan
    return {"rows": rng.integers(0, rows, n), "quality": rng.choice([1.0, 0.8, 0.3, np.nan], n),
            "live_residual": live_residual, "live_z": live_z,
            "live_code": rng.choice(np.array([0, 0, 0, STARTED, RECALIBRATED], np.int8), n),
            "shadow_residual": shadow_residual, "shadow_z": shadow_z,
            "shadow_code": rng.choice(np.array([0, 0, 0, 0, STARTED], np.int8), n)}


def test_the_figures_are_numpys_over_the_readings_both_predicted_and_health_trusted() -> None:
    rng = np.random.default_rng(4)
    comparison = Comparison(capacity=2)
    parts = [batch(rng, 500, 5) for _ in range(4)]
    for part in parts:
        comparison.add_many(**part)
    every = {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}
    for row in range(5):
        mine = every["rows"] == row
        counted = (mine & (every["quality"] >= COUNTED_QUALITY)
                   & np.isfinite(every["live_z"]) & np.isfinite(every["shadow_z"]))
        figures = comparison.of_row(row)
        assert figures["readings"] == counted.sum() > 0
        for side in ("live", "shadow"):
            residual = every[f"{side}_residual"][counted]
            z = np.clip(every[f"{side}_z"][counted], -LIMIT, LIMIT)
            assert figures[side]["rms"] == pytest.approx(np.sqrt(np.mean(residual ** 2)))
            assert figures[side]["mean_abs"] == pytest.approx(np.mean(np.abs(residual)))
            assert figures[side]["bias"] == pytest.approx(np.mean(residual))
            assert figures[side]["calibration"] == pytest.approx(np.mean(z ** 2))
            # every reading's divergence, counted or not
            assert figures[side]["divergences"] == (
                every[f"{side}_code"][mine] == STARTED).sum()
        closer = (np.abs(every["shadow_residual"][counted])
                  < np.abs(every["live_residual"][counted]))
        assert figures["shadow_closer"] == pytest.approx(closer.mean())
    fleet = comparison.fleet(np.arange(5))
    assert fleet["readings"] == sum(comparison.of_row(r)["readings"] for r in range(5))
    assert fleet["shadow_lower_rms"] == 5 and fleet["rms_ratio"] == pytest.approx(
        np.exp(np.mean([np.log(comparison.of_row(r)["shadow"]["rms"]
                               / comparison.of_row(r)["live"]["rms"]) for r in range(5)])))


def test_a_row_of_few_readings_is_neither_ranked_nor_in_the_fleets_ratio() -> None:
    comparison = Comparison()
    few, many = MIN_COUNTED - 1, MIN_COUNTED
    rows = np.array([0] * few + [1] * many + [2] * many)
    live = np.where(rows == 1, 0.2, 0.1)
    shadow = np.where(rows == 1, 0.1, 0.3)
    ones, zeros = np.ones(rows.size), np.zeros(rows.size, np.int8)
    comparison.add_many(rows, ones, live, ones, zeros, shadow, ones, zeros)
    ranked, ratios = comparison.ranked(np.arange(3))
    assert ranked.tolist() == [1, 2] and ratios == pytest.approx([0.5, 3.0])
    fleet = comparison.fleet(np.arange(3))
    assert fleet["sensors_compared"] == 2 and fleet["rms_ratio"] == pytest.approx(
        np.sqrt(0.5 * 3.0))
    assert (fleet["shadow_lower_rms"], fleet["live_lower_rms"]) == (1, 1)
    assert comparison.of_row(7)["readings"] == 0  # past the table: read as nothing yet


def test_a_savepoint_puts_the_sums_back_and_forget_counts_a_row_from_zero() -> None:
    rng = np.random.default_rng(5)
    comparison = Comparison(capacity=1)
    comparison.add_many(**batch(rng, 300, 3))
    before = comparison.save(np.arange(3))
    point = comparison.savepoint(np.arange(3))
    comparison.add_many(**batch(rng, 300, 3))
    comparison.rollback(point)
    after = comparison.save(np.arange(3))
    for name, column in before.items():
        assert np.array_equal(after[name], column), name
    comparison.forget(np.array([1]))
    assert comparison.of_row(1)["readings"] == 0 and comparison.of_row(0)["readings"] > 0
