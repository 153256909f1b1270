"""Readings that come behind their sensor's newest are judged in their place (``refold``)."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from twinsync.health import HealthMonitor, snapshot
from twinsync.health.table import HealthTable
from twinsync.pipeline.accept import ALLOWED_LATENESS_SECONDS as REACH

STEP = 60.0
#: What arrivals teach (``silence``) depends on when readings arrive, not on their order:
#: the fold state compared is the rest.
ARRIVAL_COLUMNS = frozenset({"heard", "expect", "cadence", "cadence_n", "lag_low",
                             "lag_before", "lag_start", "gaps", "gap_first", "gap_last"})


def faulty_signal(seed: int, steps: int = 300) -> tuple[NDArray[np.float64],
                                                        NDArray[np.float64]]:
    """A slow wave with noise, a spike, a stuck run and a burst of noise."""
    rng = np.random.default_rng(seed)
    times = STEP * np.arange(steps) + 1_000_000.0
    values = 20 + 0.4 * np.sin(np.arange(steps) / 40) + rng.normal(0, 0.02, steps)
    values[int(rng.integers(150, 170))] += 3.0
    stuck = int(rng.integers(190, 220))
    values[stuck: stuck + 40] = values[stuck]
    values[270:290] += rng.normal(0, 0.3, 20)
    return values, times


def monitor() -> HealthMonitor:
    health = HealthMonitor()
    health.configure(np.array([0, 1]), expected_interval=np.array([STEP, STEP]))
    return health


def deliver(health: HealthMonitor, values: NDArray[np.float64], times: NDArray[np.float64],
            arrival: list[int], batches: list[int], *, row: int = 0
            ) -> tuple[dict[int, float], list[tuple[str, str]]]:
    """Readings ``arrival`` (indices, in the order they arrive) in batches of the given
    sizes; return each reading's quality and the changes told. Their arrival is not
    given (NaN: not noted): what arrivals teach (cadence, clock) depends on when readings
    come, not on their order, and is left out of the comparison."""
    quality: dict[int, float] = {}
    told: list[tuple[str, str]] = []
    at = 0
    for size in batches:
        part = np.array(arrival[at: at + size], dtype=np.int64)
        at += size
        if part.size == 0:
            continue
        received = np.full(part.size, np.nan)
        changes = health.update_many(np.full(part.size, row), values[part], times[part],
                                     received_at=received)
        quality.update(zip(part.tolist(), changes.reading_quality.tolist(), strict=True))
        told += [(c.old, c.new) for c in changes]
    return quality, told


def fold_state(table: HealthTable, row: int) -> dict[str, bytes]:
    """Every column of ``row`` but its arrivals', as bytes (so NaN equals NaN)."""
    return {name: np.ascontiguousarray(table.column(name)[row]).tobytes()
            for name in table.column_names() if name not in ARRIVAL_COLUMNS}


def shuffled_within(times: NDArray[np.float64], delays: list[float]) -> list[int]:
    """The readings in the order a gateway hands them over when reading i is held back
    ``delays[i]`` seconds: none comes more than max(delays) behind the newest."""
    return np.argsort(times + np.array(delays), kind="stable").tolist()


# -- a spike and a stuck run, delivered out of order -------------------------------------------

def test_a_spike_delivered_after_the_reading_that_follows_it_is_still_named() -> None:
    values, times = faulty_signal(1)
    spike = int(np.argmax(np.abs(values - np.median(values))))
    arrival = list(range(times.size))
    # Each reading of the spike's poll comes after the next (the first swap starts the
    # sensor's log: it cannot be placed yet, as nothing was kept to place it by).
    arrival[10], arrival[11] = 11, 10
    arrival[spike], arrival[spike + 1] = spike + 1, spike
    quality, told = deliver(monitor(), values, times, arrival, [1] * times.size)
    in_order, told_in_order = deliver(monitor(), values, times, list(range(times.size)),
                                      [1] * times.size)
    assert ("ok", "spike") in told_in_order
    assert ("ok", "spike") in told
    assert quality[spike] == in_order[spike] < 0.5


def test_a_stuck_run_delivered_shuffled_within_the_lateness_ends_as_in_order() -> None:
    values, times = faulty_signal(2)
    rng = np.random.default_rng(7)
    arrival = shuffled_within(times, rng.uniform(0, 0.9 * REACH, times.size).tolist())
    sorted_health, shuffled_health = monitor(), monitor()
    sizes = [1] * times.size
    _, told_in_order = deliver(sorted_health, values, times, list(range(times.size)), sizes)
    _, told = deliver(shuffled_health, values, times, arrival, sizes)
    assert ("ok", "stuck") in told_in_order and ("ok", "stuck") in told
    assert int(shuffled_health.table.count[0]) > 0.97 * times.size
    assert shuffled_health.state(0).state == sorted_health.state(0).state


# -- the property --------------------------------------------------------------------------------

@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), data=st.data())
def test_any_delivery_within_the_lateness_bound_ends_in_the_state_of_sorted_delivery(
        seed: int, data: st.DataObject) -> None:
    values, times = faulty_signal(seed)
    steps = times.size
    delays = data.draw(st.lists(st.floats(0.0, 0.95 * REACH), min_size=steps - 2,
                                max_size=steps - 2))
    sizes = data.draw(st.lists(st.integers(1, 6), min_size=steps, max_size=steps))
    # A common start: one reading out of order makes the sensor tracked in both.
    start = [0, 1, 3, 2]
    rest = times[4:]
    shuffled = start + [4 + i for i in shuffled_within(rest, delays[: rest.size])]
    in_order = start + list(range(4, steps))
    sorted_health, shuffled_health = monitor(), monitor()
    deliver(sorted_health, values, times, in_order, [1] * 4 + sizes)
    deliver(shuffled_health, values, times, shuffled, [1] * 4 + sizes)
    assert fold_state(shuffled_health.table, 0) == fold_state(sorted_health.table, 0)
    assert shuffled_health.state(0) == sorted_health.state(0)


# -- transactions and restarts ---------------------------------------------------------------------

def test_a_batch_taken_back_leaves_nothing_logged_and_its_retry_ends_as_if_never_failed() -> None:
    values, times = faulty_signal(3)
    arrival = shuffled_within(times, np.random.default_rng(5).uniform(0, 200, times.size)
                              .tolist())
    failing, steady = monitor(), monitor()
    half = times.size // 2
    for health in (failing, steady):
        deliver(health, values, times, arrival[:half], [3] * half)
    # Every reading so far was folded but the first behind its sensor's newest (nothing
    # was kept yet to place it by) and those before it.
    assert int(failing.table.count[0]) >= half - 3
    assert failing.refold.tracked == 1
    before = (failing.table._records.array.tobytes(), failing.refold._slots.array.tobytes(),
              failing.refold._rows.array.tobytes())
    retried = arrival[half: half + 4]
    point = failing.savepoint(np.zeros(len(retried), dtype=np.int64))
    deliver(failing, values, times, retried, [4])
    failing.rollback(point)  # the commit failed
    assert (failing.table._records.array.tobytes(), failing.refold._slots.array.tobytes(),
            failing.refold._rows.array.tobytes()) == before
    quality, _ = deliver(failing, values, times, arrival[half:], [4] * times.size)
    expected, _ = deliver(steady, values, times, arrival[half:], [4] * times.size)
    assert quality == expected
    assert fold_state(failing.table, 0) == fold_state(steady.table, 0)
    # Nothing folded twice, nothing left out.
    assert times.size - 3 <= int(failing.table.count[0]) <= times.size


def test_a_restored_sensor_starts_its_log_afresh() -> None:
    values, times = faulty_signal(4)
    arrival = shuffled_within(times, np.random.default_rng(6).uniform(0, 200, times.size)
                              .tolist())
    health = monitor()
    deliver(health, values, times, arrival, [2] * times.size)
    restored = monitor()
    body = snapshot.dump(health, ["a", "b"])
    assert snapshot.load(restored, body, ["a", "b"]) == 2
    # A tracked sensor whose state is loaded over is no longer tracked.
    assert health.refold.slot_of(np.array([0]))[0] >= 0
    assert snapshot.load(health, body, ["a", "b"]) == 2
    assert health.refold.slot_of(np.array([0]))[0] == -1
    assert fold_state(restored.table, 0) == fold_state(health.table, 0)
    # Readings after the restart, out of order again, are placed once the log started.
    more_times = times + times.size * STEP
    deliver(restored, values, more_times, arrival, [2] * times.size)
    assert restored.refold.tracked == 1
    assert int(restored.table.count[0]) > int(health.table.count[0]) + 0.97 * times.size


def test_a_sensor_configured_anew_keeps_its_new_settings_through_a_re_fold() -> None:
    """A re-fold puts the sensor back to a checkpoint of its row; its settings changed
    since (a rebind, a new resolution) must not go back with it."""
    values, times = faulty_signal(2)
    arrival = shuffled_within(times, np.random.default_rng(3).uniform(0, 200, times.size)
                              .tolist())
    health = monitor()
    half = times.size // 2
    deliver(health, values, times, arrival[:half], [2] * half)
    assert health.refold.tracked >= 1
    health.configure(np.array([0]), resolution=np.array([0.5]), group=np.array([7]))
    deliver(health, values, times, arrival[half:], [2] * times.size)
    assert float(health.table.resolution[0]) == 0.5
    assert int(health.table.group[0]) == 7
