"""Each fault shape puts into the readings what its label says, and only inside its window."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from numpy.typing import NDArray

from twinsync.health.evaluation.faults import Label, Planned, Track, apply_stuck, inject
from twinsync.health.evaluation.params import DAY, HOUR, TUNE
from twinsync.health.evaluation.signals import work_hours

Array = NDArray[np.float64]
STEP = 300.0
EPOCH = TUNE.start


def _track(kind: str = "temperature") -> Track:
    times = np.arange(0.0, 10 * DAY, STEP)
    truth = 20.0 + np.sin(2 * np.pi * times / DAY)
    return Track("s-1", kind, "slab", 0.01, 0.1, times, truth, truth.copy(),
                 np.ones(len(times), dtype=bool), np.zeros(len(times)), 1.0)


def _inject(kind: str, duration: float, track: Track | None = None, seed: int = 1,
            next_bay: Callable[[Array], Array] | None = None
            ) -> tuple[Track, NDArray[np.bool_], Label]:
    track = track or _track()
    before = track.value.copy()
    label = inject(np.random.default_rng(seed), TUNE, track,
                   Planned(0, kind, 4 * DAY + 100.0, duration, ""), EPOCH,
                   next_bay)
    assert label is not None
    inside = (track.times >= label.start - EPOCH) & (track.times <= label.end - EPOCH)
    assert np.array_equal(track.value[~inside], before[~inside]), "changed outside its window"
    return track, inside, label


def test_a_drift_grows_from_nothing_to_its_magnitude_at_the_end_of_its_window() -> None:
    for seed in range(6):
        track, inside, label = _inject("drift", 2 * DAY, seed=seed)
        offset = track.value[inside] - track.truth[inside]
        assert offset[0] == 0.0 and offset[-1] == pytest.approx(label.magnitude)
        assert np.all(np.diff(np.abs(offset)) >= 0)
        assert label.detail in ("linear", "exponential")


def test_an_offset_is_one_step_of_its_magnitude_and_a_crosswire_reads_the_other_bay() -> None:
    track, inside, label = _inject("offset", DAY)
    assert np.allclose(track.value[inside] - track.truth[inside], label.magnitude)

    def other(times: Array) -> Array:
        return np.full(len(times), 25.0)

    track, inside, label = _inject("crosswire", DAY, next_bay=other)
    assert np.allclose(track.value[inside], 25.0)
    assert label.magnitude == pytest.approx(np.median(np.abs(25.0 - track.truth[inside])))


def test_a_spike_touches_exactly_its_readings_and_welding_heat_peaks_first() -> None:
    for count in (1, 4):
        track, inside, label = _inject("spike", float(count))
        assert inside.sum() == count
        jump = track.value[inside] - track.truth[inside]
        assert jump[0] == pytest.approx(label.magnitude) and np.all(jump > 0)
        assert np.all(np.diff(jump) < 0)  # cooling after the first reading
        assert label.detail.startswith(f"{count} reading")


def test_extra_noise_comes_only_in_work_hours() -> None:
    track, inside, label = _inject("noise", 3 * DAY)
    extra = track.value - track.truth
    working = work_hours(track.times)
    assert np.all(extra[inside & ~working] == 0.0)
    noisy = extra[inside & working]
    expected = 0.1 * np.sqrt(label.magnitude**2 - 1)
    assert noisy.std() == pytest.approx(expected, rel=0.25)


def test_a_dropout_loses_its_share_and_a_clock_jump_moves_only_the_clock() -> None:
    track, inside, label = _inject("dropout", 10 * HOUR)
    assert (~track.keep[inside]).mean() == pytest.approx(label.magnitude)
    assert track.keep[~inside].all()
    track, inside, label = _inject("clock", 10 * HOUR)
    assert np.all(track.clock[inside] == label.magnitude)
    assert np.all(track.clock[~inside] == 0.0)
    assert abs(label.magnitude) == 3600.0


def test_a_stuck_value_is_written_after_quantisation_and_holds() -> None:
    for seed in range(8):
        track = _track()
        track, inside, label = _inject("stuck", 6 * HOUR, track=track, seed=seed)
        apply_stuck(np.random.default_rng(seed), track)
        held = track.value[inside]
        if label.detail == "flicker":
            assert set(np.round(held - label.magnitude, 9)) <= {0.0, 0.01}
        else:
            assert np.all(held == label.magnitude)
        if label.detail == "rail":
            assert label.magnitude in (-40.0, 85.0, 0.0)
