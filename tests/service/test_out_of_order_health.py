"""Readings a gateway hands over out of order, within the allowed lateness, are judged by
health in event-time order on the live path: the same verdicts as delivered in order."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from twinsync.errors import StoreError
from twinsync.model import Binding, Element, Sensor
from twinsync.pipeline import IncomingBatch, RawReading
from twinsync.service import TwinService

from ..health.test_refold import fold_state as health_fold_state
from .faults import FailingStore

STEP = 60.0
POLL = 5  # readings a poll of the gateway hands over, one delivery each
START = 1_767_225_600.0
SENSOR = "room-t"


def signal(steps: int = 300) -> NDArray[np.float64]:
    """A room's temperature every minute: a spike at 160, stuck from 200 for 40 minutes."""
    rng = np.random.default_rng(11)
    values = 20 + 0.4 * np.sin(np.arange(steps) / 40) + rng.normal(0, 0.02, steps)
    values[160] += 3.0
    values[200:240] = values[200]
    return np.round(values, 3)


def arrival(steps: int, shuffled: bool, poll_size: int = POLL) -> list[int]:
    """Readings in the order the gateway hands them over: poll by poll (every five
    minutes), within a poll in time order or shuffled. Both start alike, with one reading
    swapped (a sensor's first reading behind its newest starts its log; it cannot be
    placed itself: nothing was kept to place it by)."""
    rng = np.random.default_rng(3)
    order = [0, 1, 2, 4, 3]
    for start in range(POLL, steps, poll_size):
        poll = list(range(start, min(start + poll_size, steps)))
        if shuffled:
            rng.shuffle(poll)
        order += poll
    return order


async def open_room(path: Path, allowed_lateness: float = 300.0) -> TwinService:
    service = TwinService(FailingStore(f"sqlite:///{path / 'twin.sqlite'}"),
                          allowed_lateness=allowed_lateness)
    await service.import_project(
        [Element("room-1", "IfcSpace")],
        [Sensor(SENSOR, "temperature", "degC", STEP, resolution=0.001)],
        [Binding(SENSOR, "room-1", "air_temperature")])
    return service


async def deliver(service: TwinService, values: NDArray[np.float64], order: list[int],
                  fail_at: int = -1, poll_size: int = POLL) -> list[tuple[str, str]]:
    """Each reading in its own delivery, received when its poll ends; the delivery at
    ``fail_at`` is refused once by the store and sent again. Returns the health states
    named, in order."""
    named: list[tuple[str, str]] = []
    for k, i in enumerate(order):
        poll_end = START + (i // poll_size * poll_size + poll_size - 1) * STEP
        batch = IncomingBatch([RawReading(SENSOR, float(values[i]), START + i * STEP, None, i)],
                              "bms", poll_end + 5.0 + 0.2 * (k % poll_size))
        if k == fail_at:
            store = service.store
            assert isinstance(store, FailingStore)
            store.fail_next = 1
            with pytest.raises(StoreError):
                await service.ingest(batch)
        before = service.sensor_health(SENSOR)["state"]
        await service.ingest(batch)
        after = service.sensor_health(SENSOR)["state"]
        if after != before:
            named.append((before, after))
    return named


def fold_state(service: TwinService) -> dict[str, bytes]:
    return health_fold_state(service.health.table, service.sensor_row(SENSOR))


def stored_quality(service: TwinService) -> NDArray[np.float64]:
    history = service.store.history(service.sensor_row(SENSOR), START - 1, START + 1e6)
    assert np.all(np.diff(history.event_time) > 0)
    return history.quality


def judged_after_all_before(order: list[int]) -> list[int]:
    """The readings that came after every earlier reading: their verdict, given in their
    place, is the in-order one (a reading handed over before an earlier one was judged
    without it, and keeps that verdict)."""
    seen: set[int] = set()
    whole: list[int] = []
    for i in order:
        seen.add(i)
        if all(j in seen for j in range(i)):
            whole.append(i)
    return whole


async def test_a_spike_and_a_stuck_run_handed_over_shuffled_are_judged_as_in_order(
        tmp_path: Path) -> None:
    values = signal()
    shuffled_order = arrival(values.size, shuffled=True)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    in_order = await open_room(tmp_path / "a")
    shuffled = await open_room(tmp_path / "b")
    try:
        named_in_order = await deliver(in_order, values, arrival(values.size, False))
        named = await deliver(shuffled, values, shuffled_order)
        assert ("ok", "spike") in named_in_order and ("ok", "stuck") in named_in_order
        assert ("ok", "spike") in named and ("ok", "stuck") in named
        # Every reading but the first one behind its newest was judged in its place.
        row = shuffled.sensor_row(SENSOR)
        assert int(shuffled.health.table.count[row]) == values.size - 1
        assert fold_state(shuffled) == fold_state(in_order)
        assert shuffled.sensor_health(SENSOR) == in_order.sensor_health(SENSOR)
        whole = judged_after_all_before(shuffled_order)
        assert 160 in whole  # the spike
        assert len(whole) > 0.4 * values.size
        np.testing.assert_array_equal(stored_quality(shuffled)[whole],
                                      stored_quality(in_order)[whole])
        assert stored_quality(shuffled)[160] < 0.5
    finally:
        await in_order.aclose()
        await shuffled.aclose()


async def test_a_failed_commit_amid_shuffled_deliveries_judges_nothing_twice_or_not_at_all(
        tmp_path: Path) -> None:
    values = signal()
    order = arrival(values.size, shuffled=True)
    # A delivery that a re-fold places (behind its newest), refused once, in the stuck run.
    fail_at = next(k for k, i in enumerate(order)
                   if i > 205 and any(j > i for j in order[:k]))
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    steady = await open_room(tmp_path / "a")
    failing = await open_room(tmp_path / "b")
    try:
        await deliver(steady, values, order)
        await deliver(failing, values, order, fail_at=fail_at)
        assert isinstance(failing.store, FailingStore) and failing.store.failures == 1
        row = failing.sensor_row(SENSOR)
        assert int(failing.health.table.count[row]) == values.size - 1
        assert fold_state(failing) == fold_state(steady)
        np.testing.assert_array_equal(stored_quality(failing), stored_quality(steady))
        assert stored_quality(failing).size == values.size
    finally:
        await steady.aclose()
        await failing.aclose()


async def test_a_longer_allowed_lateness_places_readings_as_far_back(tmp_path: Path) -> None:
    values = signal()
    # A gateway polled every 15 minutes, its polls shuffled: readings up to 14 min behind.
    order = arrival(values.size, shuffled=True, poll_size=15)
    service = await open_room(tmp_path, allowed_lateness=1200.0)
    try:
        await deliver(service, values, order, poll_size=15)
        # Every reading but the first behind its sensor's newest, and those of its poll
        # behind the log's start, judged in its place.
        row = service.sensor_row(SENSOR)
        assert int(service.health.table.count[row]) >= values.size - POLL
    finally:
        await service.aclose()
