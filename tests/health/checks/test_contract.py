"""Every health check keeps the detector contract, alone and as the fold runs it."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from twinsync.detect import check_detector
from twinsync.health import HealthParams
from twinsync.health.checks import CONTRACT_CHECKS, arrivals, drift, noise, outlier, spike, stuck
from twinsync.health.checks.detector import HealthCheck
from twinsync.health.context import RELATIVE

Stream = tuple[NDArray[np.int64], dict[str, NDArray[Any]]]
ROWS = 4
N = 240


def _rows(rng: np.random.Generator) -> NDArray[np.int64]:
    return rng.integers(0, ROWS, N).astype(np.int64)


def _clock(rows: NDArray[np.int64], step: float) -> NDArray[np.float64]:
    """Each row's readings ``step`` apart, in arrival order."""
    times = np.empty(N)
    seen = np.zeros(ROWS)
    for i, row in enumerate(rows):
        seen[row] += 1
        times[i] = seen[row] * step + row
    return times


def outlier_stream(rng: np.random.Generator) -> Stream:
    rows = _rows(rng)
    resid = rng.normal(0, 1, N)
    burst = rng.random(N) < 0.08
    resid[burst] += rng.choice([-8.0, 8.0], burst.sum())
    far = np.abs(resid) > 4.5
    shared = far & (rng.random(N) < 0.2)
    return rows, dict(time=_clock(rows, 60.0), value=20 + resid, resid=resid,
                      outlier=far & ~shared, far_off=far, shared=shared,
                      expected_interval=np.full(N, 60.0))


def noise_stream(rng: np.random.Generator) -> Stream:
    rows = _rows(rng)
    loud = (rows == 1) & (np.arange(N) > N // 3)
    step_change = rng.normal(0, 1, N) * np.where(loud, 4.0, 1.0)
    value = 20 + np.cumsum(step_change) * 0.01
    return rows, dict(
        time=_clock(rows, 600.0), value=value, ref=value + rng.normal(0, 0.1, N),
        res=np.full(N, 0.1),
        tiny=np.full(N, 1e-8), step_change=step_change,
        last_trusted=np.where(np.arange(N) % 50 == 0, np.nan, value - 0.01),
        peer_resid=rng.normal(0, 0.1, N),
        character=np.where(rows == 3, RELATIVE, 0).astype(np.int64),
        resid=rng.normal(0, 1, N) * np.where(loud, 3.0, 1.0), spread=np.full(N, 1.05),
        can=rng.random(N) > 0.02, judged=np.arange(N) > 20, inlier=rng.random(N) > 0.05,
        held=rng.random(N) < 0.03, group_jump=rng.random(N) < 0.02,
        was_noisy=np.zeros(N, dtype=bool), calm_state=np.ones(N, dtype=bool))


def stuck_stream(rng: np.random.Generator) -> Stream:
    rows = _rows(rng)
    ref = 20 + 0.02 * np.arange(N) + rng.normal(0, 0.05, N)
    value = np.round(ref + rng.normal(0, 0.05, N), 1)
    frozen = (rows == 2) & (np.arange(N) > N // 2)
    value[frozen] = 21.3
    repeats = (rows == 0) & (rng.random(N) < 0.5)
    value[repeats] = 20.0
    return rows, dict(
        value=value, ref=ref, res=np.full(N, 0.1), tolerance=np.full(N, 0.05),
        diff_sd=np.full(N, 0.1), peers_known=np.arange(N) > 40,
        via_peers=rows != 0, relative=rows == 3,
        quiet=(rows == 3) & (value < 20.2), learn_repeats=~frozen,
        was_stuck=np.zeros(N, dtype=bool), declared=np.arange(N) > N - 20,
        peers_spread=np.where(rows == 1, 0.05, np.nan))


def drift_stream(rng: np.random.Generator) -> Stream:
    rows = _rows(rng)
    time = _clock(rows, 900.0)
    consensus = 20 + 2 * np.sin(2 * np.pi * time / 86_400)
    offset = np.array([0.0, 0.3, -0.5, 1.0])[rows]
    creep = np.where((rows == 1) & (time > time.max() / 2),
                     (time - time.max() / 2) / 86_400, 0.0)
    value = consensus + offset + creep + rng.normal(0, 0.05, N)
    return rows, dict(
        time=time, value=value, consensus=consensus, gap=np.where(time > 1000, 900.0, np.nan),
        res=np.full(N, 0.01), noise_sd=np.full(N, 0.05), expected_interval=np.full(N, 900.0),
        peer_offset=np.zeros(N), inlier=rng.random(N) > 0.03,
        run=rng.integers(1, 4, N), likely=np.full(N, 0.1),
        stuck=np.zeros(N, dtype=bool), noisy=np.zeros(N, dtype=bool),
        unsettled=rng.random(N) < 0.02, was_drifting=np.zeros(N, dtype=bool),
        calm_state=np.ones(N, dtype=bool), declared=(time > 40_000) & (time < 60_000))


def spike_stream(rng: np.random.Generator) -> Stream:
    rows = _rows(rng)
    time = _clock(rows, 60.0)
    candidate = rng.random(N) < 0.06
    return rows, dict(
        time=time, candidate=candidate, event_size=rng.normal(0, 5, N),
        event_len=rng.integers(1, 4, N), event_time=time - 120.0,
        doubtful=~candidate & (rng.random(N) < 0.05), plain=rng.random(N) > 0.02,
        expected_interval=np.full(N, 60.0))


def arrivals_stream(rng: np.random.Generator) -> Stream:
    """One-minute sensors; one misses ten minutes of deliveries and is shown stale after,
    one's clock runs an hour behind."""
    rows = _rows(rng)
    time = _clock(rows, 60.0)
    late = (rows == 1) & (time > 1800)
    received = time + rng.uniform(0.1, 2.0, N) + np.where(late, 600.0, 0.0)
    return rows, dict(
        received=received, stamped=np.where(rows == 3, time - 3600.0, time),
        interval_given=np.full(N, 60.0), state=np.where(late, 1, 0).astype(np.int64))


STREAMS: dict[ModuleType, Callable[[np.random.Generator], Stream]] = {
    outlier: outlier_stream, noise: noise_stream, stuck: stuck_stream,
    drift: drift_stream, spike: spike_stream, arrivals: arrivals_stream,
}


#: Parameters that let a short stream reach each check's verdicts (drift learns for a day
#: and charts after weeks of readings by default).
PARAMS = {drift: HealthParams(drift_warmup=8, drift_learn=21_600.0, drift_settle=4,
                              drift_spread=8)}


def test_every_check_has_a_stream_to_be_checked_on() -> None:
    assert set(STREAMS) == set(CONTRACT_CHECKS)


@pytest.mark.parametrize("check", CONTRACT_CHECKS, ids=lambda check: check.NAME)
@settings(max_examples=2, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_each_check_keeps_the_detector_contract(check: ModuleType, seed: int) -> None:
    rows, readings = STREAMS[check](np.random.default_rng(seed))
    check_detector(lambda: HealthCheck(check, PARAMS.get(check), capacity=2), rows, readings)


def test_a_check_s_parameters_change_what_it_finds() -> None:
    rows, readings = stuck_stream(np.random.default_rng(7))
    default = HealthCheck(stuck).learn_many(rows, readings)
    patient = HealthCheck(stuck, HealthParams(stuck_min_run=10_000)).learn_many(rows, readings)
    assert default.sum() > 0 and patient.sum() == 0


def test_a_saved_state_of_another_check_is_refused() -> None:
    saved = HealthCheck(stuck).save(np.arange(ROWS))
    with pytest.raises(ValueError, match="columns"):
        HealthCheck(drift).restore(np.arange(ROWS), saved)


def test_evidence_of_another_length_than_the_rows_is_refused() -> None:
    rows, readings = spike_stream(np.random.default_rng(1))
    with pytest.raises(ValueError, match="one value a reading"):
        HealthCheck(spike).learn_many(rows[:-1], readings)
