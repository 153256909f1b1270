"""The novelty detector keeps the detector contract and finds what a sensor never did."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twinsync.analytics.detectors import DETECTORS
from twinsync.analytics.novelty import NoveltyDetector
from twinsync.analytics.surprise import SurpriseDetector
from twinsync.bench.anomaly_room import room_readings
from twinsync.detect import check_detector

DAY = 86_400.0
ROWS = 4


def stream(seed: int, n: int = 600) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Four sensors with daily cycles at 15 minutes, in arrival order; sensor 1 jumps."""
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, ROWS, n).astype(np.int64)
    seen = np.zeros(ROWS)
    times = np.empty(n)
    for i, row in enumerate(rows):
        seen[row] += 1
        times[i] = 1.7e9 + seen[row] * 900.0 + row
    values = 20 + 3 * np.sin(2 * np.pi * times / DAY) + rng.normal(0, 0.2, n)
    values[(rows == 1) & (np.arange(n) > n // 2)] += 15.0
    return rows, {"time": times, "value": values}


@pytest.mark.parametrize("name", sorted(DETECTORS))
@settings(max_examples=3, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_every_detector_keeps_the_detector_contract(name: str, seed: int) -> None:
    rows, readings = stream(seed, n=2400)  # each sensor past its warm-up
    make = DETECTORS[name]
    check_detector(lambda: make(capacity=2), rows, readings)  # type: ignore[call-arg]


def test_the_contract_holds_with_short_warm_ups_and_every_context() -> None:
    # 300 readings a sensor, 75 hours: with the day as context the warm-up lasts a day,
    # and scores are told a day after it.
    rows, readings = stream(5, n=1200)
    check_detector(
        lambda: NoveltyDetector(
            warmup=10, order=4, tilings=2, day_parts=24, settle=5, damp=0.5, capacity=2
        ),
        rows,
        readings,
    )


def scores_of(values: np.ndarray, **settings: float) -> np.ndarray:
    times = 1.7e9 + np.arange(values.size) * 900.0
    detector = NoveltyDetector(**settings)  # type: ignore[arg-type]
    return detector.learn_many(
        np.zeros(values.size, dtype=np.int64), {"time": times, "value": values}
    )


def test_scores_are_in_0_to_1_and_a_jump_to_a_level_never_seen_scores_high() -> None:
    rng = np.random.default_rng(1)
    n = 3000
    values = 20 + 3 * np.sin(2 * np.pi * np.arange(n) * 900.0 / DAY) + rng.normal(0, 0.1, n)
    values[2500] = 40.0
    scores = scores_of(values)
    assert np.all((scores >= 0) & (scores <= 1))
    assert scores[2500] > 0.6  # (see the next test on the table's size)
    assert scores[1000:2500].max() < 0.5  # the cycle, learned, is not news


def test_an_anomaly_is_told_once_then_damped_for_quiet_readings() -> None:
    values = 20 + np.sin(np.arange(3000) / 10)
    values[2000:] += 50.0  # a new level that lasts
    scores = scores_of(values, quiet=300)
    # Not 1: the table is a fixed size, and a few of the new patterns' bits were set by
    # others before (one bit a pattern: a sensor's state does not grow).
    assert scores[2000] > 0.5
    assert scores[2001:2301].max() == 0.0


def test_a_missing_value_neither_scores_nor_teaches() -> None:
    detector = NoveltyDetector(warmup=3)
    for value in [1.0, 2.0, 3.0]:
        detector.learn_one(0, {"time": 0.0, "value": value})
    before = detector.save(np.array([0]))
    assert detector.learn_one(0, {"time": 900.0, "value": float("nan")}) == 0.0
    after = detector.save(np.array([0]))
    assert all(np.array_equal(before[k], after[k], equal_nan=before[k].dtype.kind == "f")
               for k in before)


def test_bad_settings_and_readings_are_refused() -> None:
    with pytest.raises(ValueError, match="order"):
        NoveltyDetector(order=99)
    with pytest.raises(ValueError, match="damp"):
        NoveltyDetector(damp=2.0)
    with pytest.raises(ValueError, match="one time and one value a reading"):
        NoveltyDetector().learn_many(
            np.zeros(3, dtype=np.int64), {"time": np.zeros(3), "value": np.zeros(2)}
        )


_PLAIN_RUN = """
import json, sys, numpy as np
sys.path.insert(0, sys.argv[1])
from test_novelty import plain_scores
print(json.dumps({name: column.tolist() for name, column in plain_scores().items()}))
"""


def plain_scores() -> dict[str, np.ndarray]:
    """Each detector's scores over a stream where a fifth of the readings do not teach."""
    rows, readings = stream(9, n=1200)  # past the day of warm-up and the day after it
    teach = np.random.default_rng(3).random(rows.size) > 0.2
    made = {"novelty": NoveltyDetector(warmup=20, settle=10, day_parts=12),
            "surprise": SurpriseDetector(warmup=20, settle=10, day_parts=12)}
    made |= {name: make() for name, make in DETECTORS.items() if name not in made}
    return {name: d.learn_many(rows, {**readings, "teach": teach}) for name, d in made.items()}


@pytest.mark.parametrize("disable", ["1", "0"])
def test_without_the_compiler_the_scores_are_the_same(disable: str) -> None:
    here = os.path.dirname(__file__)
    env = {**os.environ, "NUMBA_DISABLE_JIT": disable}
    done = subprocess.run(
        [sys.executable, "-c", _PLAIN_RUN, here],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    got = json.loads(done.stdout.strip().splitlines()[-1])
    expected = plain_scores()
    assert set(got) == set(DETECTORS)
    for name, column in expected.items():
        assert np.array_equal(np.array(got[name]), column), name
        assert column.max() > 0.5, name


@pytest.mark.parametrize("name", sorted(DETECTORS))
def test_a_reading_that_does_not_teach_is_scored_as_score_one_and_leaves_the_state(
    name: str,
) -> None:
    rows, readings = stream(4, n=2400)
    teach = np.random.default_rng(2).random(rows.size) > 0.2
    taught = DETECTORS[name]()
    scores = taught.learn_many(rows, {**readings, "teach": teach})
    # The same stream one reading at a time: score_one where it does not teach.
    one = DETECTORS[name]()
    expected = [
        (one.learn_one if teach[i] else one.score_one)(
            int(rows[i]), {"time": readings["time"][i], "value": readings["value"][i]}
        )
        for i in range(rows.size)
    ]
    assert np.array_equal(scores, np.array(expected))
    known = np.unique(rows)
    # ... and it is the stream of the taught readings alone, for the state.
    alone = DETECTORS[name]()
    alone.learn_many(rows[teach], {k: c[teach] for k, c in readings.items()})
    saved, kept = taught.save(known), alone.save(known)
    assert all(np.array_equal(saved[k], kept[k]) for k in saved)
    assert scores[~teach].max() > 0  # the untaught readings were scored




@pytest.mark.parametrize("every", [2.0, 10.0, 60.0])
def test_a_room_read_often_is_calm_the_day_after_its_warm_up_and_a_jump_in_that_day_is_found(
    every: float,
) -> None:
    # From 13:00 UTC: the day-long warm-up ends at 13:00 the next day, and the 6 K jump
    # comes at noon the day after, 23 calm hours later. Neither the levels of its day nor
    # the moves between them are news then: the warm-up's range was remembered at its end.
    times, values, jump_at = room_readings(every, days=1, start_hour=13.0)
    assert jump_at - times[0] == pytest.approx(47 * 3600.0)
    scores = NoveltyDetector().learn_many(
        np.zeros(times.size, dtype=np.int64), {"time": times, "value": values}
    )
    calm = times < jump_at
    assert scores[calm].max() < 0.33  # the monitor's event threshold
    assert scores[np.flatnonzero(~calm)[0]] >= 0.6  # an alarm at the jump's first reading
