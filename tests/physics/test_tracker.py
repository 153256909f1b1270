"""The fleet's level/trend tracker (``physics/tracker.py``): it keeps the detector
contract, its filter is the linear Kalman filter of ``kalman.py`` reading by reading, its
CUSUM is ``divergence.Cusum``, a steady stream rarely diverges while a level shift is
told within a few readings with its change point and size, and a reading's quality
weighs it."""

from __future__ import annotations

import numpy as np
import pytest

from twinsync.detect import check_detector
from twinsync.physics import Cusum, KalmanFilter
from twinsync.physics.tracker import DETAIL, STARTED, LevelTrendTracker, TrackUpdate

HOUR = 3600.0
AT = {name: k for k, name in enumerate(DETAIL)}


def white(rng: np.random.Generator, sensors: int, readings: int) -> np.ndarray:
    return 20 + rng.normal(0.0, 0.05, (sensors, readings))


def daily(rng: np.random.Generator, sensors: int, readings: int) -> np.ndarray:
    """A daily cycle of ±3 at 15-minute readings, each sensor at its own phase."""
    hours = 0.25 * np.arange(readings)
    phase = rng.uniform(0, 2 * np.pi, (sensors, 1))
    values: np.ndarray = 3 * np.sin(2 * np.pi * hours / 24 + phase) + white(rng, sensors,
                                                                            readings)
    return values


def run(values: np.ndarray, quality: np.ndarray | None = None,
        tracker: LevelTrendTracker | None = None
        ) -> tuple[LevelTrendTracker, list[TrackUpdate]]:
    """Every sensor's readings, 15 minutes apart, in time order (one batch a time step)."""
    sensors, readings = values.shape
    tracker = tracker or LevelTrendTracker()
    rows = np.arange(sensors, dtype=np.int64)
    updates = []
    for t in range(readings):
        q = np.ones(sensors) if quality is None else quality[:, t]
        updates.append(tracker.track_many(rows, np.full(sensors, t * 900.0), values[:, t], q))
    return tracker, updates


def test_the_tracker_keeps_the_detector_contract() -> None:
    rng = np.random.default_rng(0)
    rows = np.repeat(np.arange(3), 60).reshape(3, 60).T.ravel()
    readings = {"time": np.repeat(900.0 * np.arange(60), 3),
                "value": daily(rng, 3, 60).T.ravel(),
                "quality": rng.choice([1.0, 0.9, 0.2], rows.size)}
    check_detector(lambda: LevelTrendTracker(warmup=12), rows.astype(np.int64), readings)


def test_its_filter_and_cusum_are_the_kalman_filter_and_the_cusum_of_the_physics_package(
        ) -> None:
    """With the online learning stopped, every residual after the start equals the one the
    linear Kalman filter (gate and quality included) gives from the same state, and the
    CUSUM's statistic is ``Cusum``'s; the residual in the unit is the filter's too."""
    rng = np.random.default_rng(1)
    readings = 400
    values = daily(rng, 1, readings)[0]
    values[300:] += 0.4
    quality = rng.choice([1.0, 1.0, 1.0, 0.3], readings)
    tracker = LevelTrendTracker(rate=0.0, ratio_rate=0.0, warmup=32)
    row = np.zeros(1, dtype=np.int64)
    for t in range(200):  # past the start and the CUSUM's own start
        tracker.track_many(row, np.array([t * 900.0]), values[t:t + 1], quality[t:t + 1])
    s = {name: column[0] for name, column in tracker.columns.items()}
    kf = KalmanFilter(np.array([[s["level"], s["trend"]]]),
                      np.array([[[s["p00"], s["p01"]], [s["p01"], s["p11"]]]]))
    # re-opening widens by a reading's and a difference's variance (the tracker's choice)
    kf.reopen_covariance = np.array([[[s["r"], 0.0], [0.0, 2 * s["r"] / 0.25 ** 2]]])
    cusum = Cusum()
    cusum.restore({"diverging": np.zeros(1), "upper": np.array([s["upper"]]),
                   "lower": np.array([s["lower"]])})
    dt, H = 0.25, np.array([[1.0, 0.0]])
    F = np.array([[1.0, dt], [0.0, 1.0]])
    q, qt = s["q"], s["qt"]
    Q = np.array([[q * dt + qt * dt ** 3 / 3, qt * dt ** 2 / 2], [qt * dt ** 2 / 2, qt * dt]])
    for t in range(200, readings):
        update = tracker.track_many(row, np.array([t * 900.0]), values[t:t + 1],
                                    quality[t:t + 1])
        if update.code[0] == STARTED:
            break  # recalibrated: the filter restarts from a fit, a test of its own
        kf.predict(F, Q)
        innovation = kf.update(values[t:t + 1, None], H, s["r"], quality[t:t + 1])
        assert update.normalised[0] == pytest.approx(innovation.normalised[0, 0], rel=1e-9)
        # the one-step prediction error in the reading's unit, for the shadow's comparison
        assert update.residual[0] == pytest.approx(innovation.residual[0, 0], rel=1e-9,
                                                   abs=1e-12)
        statistic = cusum.update(innovation.normalised[:, 0]).statistic[0]
        assert max(tracker.columns["upper"][0], tracker.columns["lower"][0]) == pytest.approx(
            statistic, rel=1e-9, abs=1e-12)
    else:
        pytest.fail("the shift of 0.4 (8 sd of the noise) was never told")
    assert t >= 300


@pytest.mark.parametrize("stream", [white, daily])
def test_a_steady_stream_diverges_less_than_once_in_10_000_readings(stream: object) -> None:
    rng = np.random.default_rng(2)
    values = stream(rng, 100, 2000)  # type: ignore[operator]
    _, updates = run(values)
    starts = sum(int((u.code == STARTED).sum()) for u in updates)
    assert starts <= 100 * 2000 / 10_000
    z = np.concatenate([u.normalised for u in updates[200:]])
    assert abs(np.mean(z)) < 0.05 and 0.95 < np.std(z) < 1.1


@pytest.mark.parametrize(("stream", "sizes_within", "told_share"),
                         [(white, 0.1, 1.0), (daily, 0.3, 0.9)])
def test_a_level_shift_is_told_within_a_few_readings_with_its_change_point_and_size(
        stream: object, sizes_within: float, told_share: float) -> None:
    """A shift of 0.5 (10 sd of the noise) at reading 400 of 50 sensors. On a daily cycle
    the size is less sure (the step is told from the curve carried on), and a few sensors
    whose model was following the curve closely take part of the step in (one of them
    then overshoots and is told diverging downwards)."""
    rng = np.random.default_rng(3)
    values = stream(rng, 50, 600)  # type: ignore[operator]
    values[:, 400:] += 0.5
    _, updates = run(values)
    told = np.full(50, -1)
    sizes = []
    for t, update in enumerate(updates[400:409], start=400):
        for sensor in np.flatnonzero(update.code == STARTED):
            detail = update.detail[sensor]
            if told[sensor] < 0 and detail[AT["direction"]] == 1.0:
                told[sensor] = t
                assert detail[AT["since"]] == 400 * 900.0  # the change point, found
                assert detail[AT["noise_after"]] > 0
                sizes.append(detail[AT["size"]])
    delays = told[told >= 0] - 400
    assert delays.size >= told_share * 50 and np.median(delays) <= 3 and delays.max() <= 8
    assert np.median(sizes) == pytest.approx(0.5, abs=0.05)
    assert np.percentile(np.abs(np.array(sizes) - 0.5), 80) < sizes_within


def test_a_doubted_reading_counts_by_its_quality() -> None:
    rng = np.random.default_rng(4)
    values = white(rng, 2, 300)
    values[:, 299] = 20.15  # 3 sd high
    quality = np.ones((2, 300))
    quality[1, 299] = 0.25
    tracker, _ = run(values[:, :299])
    before = tracker.save(np.arange(2))
    tracker.track_many(np.arange(2, dtype=np.int64), np.full(2, 299 * 900.0), values[:, 299],
                       quality[:, 299])
    after = tracker.save(np.arange(2))
    moved = after["level"] - (before["level"] + before["trend"] * 0.25)
    assert 0 < moved[1] < moved[0] / 2
