"""Divergence detectors on normalised residuals: CUSUM and Page-Hinkley, their hysteresis,
their state as arrays, and their run lengths against Siegmund's approximation."""

from __future__ import annotations

import numpy as np
import pytest

from twinsync.physics.divergence import Cusum, PageHinkley
from twinsync.physics.runlength import run_lengths, siegmund_arl, siegmund_two_sided


def test_the_cusum_sums_worked_by_hand() -> None:
    cusum = Cusum(reference=0.5, threshold=3.0)
    readings = [2.0, 1.5, -0.5, -3.0]
    statistics = [float(cusum.update(np.array([z])).statistic[0]) for z in readings]
    # upper 1.5 → 2.5 → 1.5 → 0; lower 0 → 0 → 0 → 2.5
    assert statistics == pytest.approx([1.5, 2.5, 1.5, 2.5])
    assert cusum.save()["upper"].tolist() == [0.0] and cusum.save()["lower"].tolist() == [2.5]


def test_a_divergence_starts_past_the_threshold_and_ends_only_at_the_release() -> None:
    cusum = Cusum(reference=0.5, threshold=3.0, release=1.0, ceiling=4.0)
    seen = cusum.update_many(np.array([[2.5, 2.5, 2.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]]))
    # 2, 4 (started, capped at the ceiling), 4, 3.5, 3, 2.5, 2, 1.5, 1 (ended at 1)
    assert seen.statistic[0].tolist() == [2.0, 4.0, 4.0, 3.5, 3.0, 2.5, 2.0, 1.5, 1.0]
    assert seen.started[0].tolist() == [False, True] + [False] * 7
    assert seen.diverging[0].tolist() == [False] + [True] * 7 + [False]
    assert seen.ended[0].tolist() == [False] * 8 + [True]


def test_only_the_element_whose_residuals_shift_is_named() -> None:
    rng = np.random.default_rng(3)
    residuals = rng.standard_normal((5, 300))
    residuals[2, 100:] += 2.0
    seen = Cusum().update_many(residuals)
    assert seen.started.any(axis=1).tolist() == [False, False, True, False, False]
    assert 100 < int(seen.started[2].argmax()) < 130


@pytest.mark.parametrize("detector", [Cusum, PageHinkley])
def test_one_update_at_a_time_gives_the_numbers_of_a_block(detector: type[Cusum]) -> None:
    rng = np.random.default_rng(4)
    residuals = rng.standard_normal((4, 200)) + np.linspace(0, 3, 200)
    residuals[1, 50:60] = np.nan
    block = detector(threshold=4.0).update_many(residuals)
    alone = detector(threshold=4.0)
    for t in range(200):
        step = alone.update(residuals[:, t])
        assert step.statistic.tolist() == block.statistic[:, t].tolist()
        assert step.started.tolist() == block.started[:, t].tolist()


def test_one_far_reading_cannot_start_a_divergence_alone_but_three_can() -> None:
    cusum = Cusum()
    once = cusum.update_many(np.array([[0.0, 50.0, 0.0, 0.0], [0.0, 50.0, 50.0, 50.0]]))
    # each counts 4 - 0.5: 3.5, then 7, then 10.5 past the threshold of 9
    assert once.statistic[1].tolist() == [0.0, 3.5, 7.0, 10.5]
    assert once.started.any(axis=1).tolist() == [False, True]


def test_a_gap_leaves_an_element_as_it_was() -> None:
    cusum = Cusum(threshold=3.0)
    cusum.update(np.array([2.0, 2.0]))
    before = cusum.save()
    cusum.update(np.array([np.nan, 1.0]))
    after = cusum.save()
    assert after["upper"][0] == before["upper"][0]
    assert after["upper"][1] == before["upper"][1] + 0.5


@pytest.mark.parametrize("detector", [Cusum, PageHinkley])
def test_a_restored_detector_carries_on_as_the_saved_one_would(detector: type[Cusum]) -> None:
    rng = np.random.default_rng(6)
    residuals = rng.standard_normal((3, 120)) + 0.8
    original = detector(threshold=5.0)
    original.update_many(residuals[:, :60])
    copy = detector(threshold=5.0)
    copy.restore(original.save())
    np.testing.assert_array_equal(
        original.update_many(residuals[:, 60:]).statistic,
        copy.update_many(residuals[:, 60:]).statistic,
    )


def test_reset_starts_the_chosen_elements_afresh() -> None:
    cusum = Cusum(threshold=2.0)
    cusum.update(np.array([3.0, 3.0]))
    assert cusum.diverging.tolist() == [True, True]
    cusum.reset(np.array([True, False]))
    assert cusum.diverging.tolist() == [False, True]
    assert cusum.save()["upper"].tolist() == [0.0, 2.5]


def test_a_saved_state_of_another_shape_is_refused() -> None:
    with pytest.raises(ValueError, match="saved state"):
        Cusum().restore({"upper": np.zeros(2)})
    with pytest.raises(ValueError, match="release < threshold"):
        Cusum(threshold=2.0, release=3.0)


def test_page_hinkley_learns_a_bias_present_from_the_start_and_catches_a_later_change() -> None:
    rng = np.random.default_rng(8)
    residuals = rng.standard_normal((2, 600)) + 1.5  # a steady bias of 1.5 sd
    residuals[1, 400:] += 1.5
    cusum = Cusum().update_many(residuals)
    hinkley = PageHinkley().update_many(residuals)
    # the CUSUM, which knows the mean is 0, fires on both at once; Page-Hinkley only on the
    # change, soon after it
    assert cusum.started[:, :30].any(axis=1).tolist() == [True, True]
    assert hinkley.started.any(axis=1).tolist() == [False, True]
    assert 400 <= int(hinkley.started[1].argmax()) < 440


def test_siegmunds_approximation_matches_its_published_worked_values() -> None:
    # k = 0.5, h = 5: in control 938 one-sided (exact 930), a 1-sd shift 10.3 (exact 10.4)
    assert siegmund_arl(0.0, 0.5, 5.0) == pytest.approx(938.2, abs=0.5)
    assert siegmund_arl(1.0, 0.5, 5.0) == pytest.approx(10.34, abs=0.05)
    assert siegmund_two_sided(0.0, 0.5, 5.0) == pytest.approx(938.2 / 2, abs=0.5)


def test_the_measured_false_alarm_run_length_and_delay_match_siegmund() -> None:
    # small h so that the simulation is quick: 2,000 elements, each to its first alarm
    in_control = run_lengths(lambda: Cusum(0.5, 4.0), 2000, seed=11)
    shifted = run_lengths(lambda: Cusum(0.5, 4.0), 2000, shift=1.0, seed=12)
    assert not np.isnan(in_control).any() and not np.isnan(shifted).any()
    # the mean's standard error is about 2 % (in control) and 1 % (shifted)
    assert in_control.mean() == pytest.approx(siegmund_two_sided(0.0, 0.5, 4.0), rel=0.08)
    assert shifted.mean() == pytest.approx(siegmund_two_sided(1.0, 0.5, 4.0), rel=0.05)
