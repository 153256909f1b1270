"""The NAB score against cases worked out by hand.

One series of 100 rows: the first 15 are probationary; one window, rows 50 to 59 (width
10). sigma(-1) = 2 / (1 + e^-5) - 1 = 0.986614. The null detector scores -A_FN, the perfect
one +A_TP, so normalised = 100 (raw + A_FN) / (A_TP + A_FN).
"""

from __future__ import annotations

import numpy as np
import pytest

from twinsync.analytics.nab import (
    NEVER,
    PROFILES,
    REWARD_LOW_FN,
    REWARD_LOW_FP,
    STANDARD,
    Series,
    probation,
    score_corpus,
)

SERIES = Series("one", 100, [(50, 59)])


def detections(*rows: int, score: float = 1.0, n: int = 100) -> np.ndarray:
    column = np.zeros(n)
    column[list(rows)] = score
    return column


def test_a_detection_at_a_window_s_first_row_earns_all_of_a_tp() -> None:
    result = score_corpus([SERIES], [detections(50)], STANDARD)
    assert result.raw == pytest.approx(1.0)
    assert result.normalised == pytest.approx(100.0)
    assert (result.true_windows, result.false_detections, result.missed_windows) == (1, 0, 0)


def test_a_late_detection_earns_little() -> None:
    # last row: y = -1/10, sigma(-0.1) = 2 / (1 + e^-0.5) - 1 = 0.244919; / 0.986614
    result = score_corpus([SERIES], [detections(59)], STANDARD)
    assert result.raw == pytest.approx(0.248242, abs=1e-6)
    assert result.normalised == pytest.approx(100 * 1.248242 / 2, abs=1e-4)


def test_a_detection_in_the_middle_earns_by_the_sigmoid() -> None:
    # row 54: y = -(59 - 54 + 1)/10 = -0.6, sigma = 2 / (1 + e^-3) - 1 = 0.905148
    result = score_corpus([SERIES], [detections(54)], STANDARD)
    assert result.raw == pytest.approx(0.917429, abs=1e-6)


def test_only_the_earliest_detection_in_a_window_counts() -> None:
    # rows 51 and 55: row 51 (y = -0.9) alone; 2 / (1 + e^-4.5) - 1 = 0.977982
    result = score_corpus([SERIES], [detections(51, 55, 58)], STANDARD)
    assert result.raw == pytest.approx(0.991295, abs=1e-6)
    assert result.true_windows == 1 and result.false_detections == 0


def test_a_detection_just_after_a_window_costs_less_than_a_far_one() -> None:
    # row 64: d = 5/10, |sigma(0.5)| = 1 - 2 / (1 + e^2.5) = 0.848283, * 0.11 = 0.093311
    near = score_corpus([SERIES], [detections(50, 64)], STANDARD)
    assert near.raw == pytest.approx(1 - 0.093311, abs=1e-6)
    # row 99: d = 4 > 3 widths: the full A_FP
    far = score_corpus([SERIES], [detections(50, 99)], STANDARD)
    assert far.raw == pytest.approx(1 - 0.11)
    assert far.false_detections == 1


def test_a_detection_before_the_first_window_costs_all_of_a_fp() -> None:
    result = score_corpus([SERIES], [detections(20, 50)], STANDARD)
    assert result.raw == pytest.approx(1 - 0.11)


def test_detections_in_the_probationary_period_count_for_nothing() -> None:
    assert probation(100) == 15 and probation(10_000) == 750
    result = score_corpus([SERIES], [detections(3, 14, 50)], STANDARD)
    assert result.raw == pytest.approx(1.0) and result.false_detections == 0


def test_the_threshold_is_the_one_with_the_best_total() -> None:
    # 0.95 at row 80 (d = 2.1: 0.11 * 0.999945 = 0.109994), 0.9 at row 50, 0.5 at row 90
    # (d = 3.1: 0.11). Above 0.95: -1 (null); at 0.95: -1.109994; at 0.9: 0.890006;
    # at 0.5: 0.780006.
    scores = np.zeros(100)
    scores[[80, 50, 90]] = [0.95, 0.9, 0.5]
    result = score_corpus([SERIES], [scores], STANDARD)
    assert result.threshold == 0.9
    assert result.raw == pytest.approx(0.890006, abs=1e-6)


def test_a_lower_threshold_is_chosen_when_it_finds_the_window_earlier() -> None:
    # 0.9 at row 58 (y = -0.2), 0.6 at row 52 (y = -0.8: 0.977107): 0.6 is better
    scores = np.zeros(100)
    scores[[58, 52]] = [0.9, 0.6]
    result = score_corpus([SERIES], [scores], STANDARD)
    assert result.threshold == 0.6
    assert result.raw == pytest.approx(0.977107, abs=1e-6)


def test_a_detector_worse_than_silence_scores_as_the_null_detector() -> None:
    result = score_corpus([SERIES], [detections(20, 30, 80)], STANDARD)
    assert result.threshold == NEVER
    assert result.normalised == 0.0 and result.missed_windows == 1


def test_the_profiles_weigh_misses_and_false_detections_differently() -> None:
    late_and_false = detections(20, 59)
    standard = score_corpus([SERIES], [late_and_false], STANDARD)
    low_fp = score_corpus([SERIES], [late_and_false], REWARD_LOW_FP)
    low_fn = score_corpus([SERIES], [late_and_false], REWARD_LOW_FN)
    assert standard.raw == pytest.approx(0.248242 - 0.11, abs=1e-6)
    assert low_fp.raw == pytest.approx(0.248242 - 0.22, abs=1e-6)
    # null -2, perfect +1: 100 (0.138242 + 2) / 3
    assert low_fn.normalised == pytest.approx(100 * 2.138242 / 3, abs=1e-4)


def test_the_threshold_is_shared_by_every_series_of_the_corpus() -> None:
    # The second series' window is found only at 0.5, where the first series' false
    # detection at 0.5 fires too: 1 + 1 - 0.11 beats 1 - 1 (threshold 0.9).
    other = Series("two", 200, [(100, 119)])
    first = detections(50, score=0.9)
    first[30] = 0.5
    second = detections(100, score=0.5, n=200)
    result = score_corpus([SERIES, other], [first, second], STANDARD)
    assert result.threshold == 0.5
    assert result.raw == pytest.approx(2 - 0.11)
    assert result.normalised == pytest.approx(100 * (2 - 0.11 + 2) / 4)


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.name)
def test_the_perfect_detector_scores_100_and_the_silent_one_0(profile: object) -> None:
    corpus = [SERIES, Series("two", 300, [(60, 79), (200, 239)]), Series("quiet", 50)]
    perfect = [detections(50), detections(60, 200, n=300), np.zeros(50)]
    silent = [np.zeros(100), np.zeros(300), np.zeros(50)]
    assert score_corpus(corpus, perfect, profile).normalised == pytest.approx(100.0)
    assert score_corpus(corpus, silent, profile).normalised == 0.0


def test_bad_input_is_refused_with_a_reason() -> None:
    with pytest.raises(ValueError, match="not within"):
        Series("bad", 10, [(5, 12)])
    with pytest.raises(ValueError, match="in order"):
        Series("bad", 100, [(50, 60), (40, 45)])
    with pytest.raises(ValueError, match="in \\[0, 1\\]"):
        score_corpus([SERIES], [detections(50, score=2.0)], STANDARD)
    with pytest.raises(ValueError, match="99 scores for 100 rows"):
        score_corpus([SERIES], [np.zeros(99)], STANDARD)
    with pytest.raises(ValueError, match="no labelled window"):
        score_corpus([Series("quiet", 50)], [np.zeros(50)], STANDARD)
