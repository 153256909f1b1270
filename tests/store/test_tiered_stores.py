"""What every tiered store must do alike: seal in the background without losing or doubling
a reading, and come back after a restart as it was, the sensors' saved health included."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from tests.store.conftest import batch_of

from twinsync.errors import InvalidInput
from twinsync.health import HealthMonitor, snapshot
from twinsync.model import Element, Sensor
from twinsync.store import open_store
from twinsync.store.check import expected_aggregates


def test_a_seal_in_the_background_keeps_every_reading_exactly_once(store_url: str) -> None:
    store = open_store(store_url + "&seal_rows=1000")
    rng = np.random.default_rng(3)
    committed = []
    try:
        for number in range(20):
            rows = rng.integers(0, 50, 400).tolist()
            times = (number * 400 + np.arange(400)).astype(float).tolist()
            values = rng.random(400).tolist()
            store.commit(batch_of(rows, times, values), [])
            committed.extend((r, t, v, 0) for r, t, v in zip(rows, times, values, strict=True))
            assert store.counts()["readings"] == len(committed)
        store.seal()
        got, want = store.aggregates(), expected_aggregates(committed)
        assert got.count.tolist() == want.count.tolist()
        assert np.allclose(got.mean, want.mean) and np.allclose(got.m2, want.m2)
        history = store.history(7, 0.0, 1e9)
        assert history.event_time.tolist() == sorted(t for r, t, _, _ in committed if r == 7)
    finally:
        store.close()


def test_reopening_gives_the_same_twin_history_aggregates_and_sequences(
        store_url: str) -> None:
    store = open_store(store_url)
    store.save_changes([], elements=[Element("e", "IfcSlab")],
                       sensors=[(row, Sensor(f"s{row}", "temperature", "degC"))
                                for row in range(20)])
    rng = np.random.default_rng(5)
    for number in range(4):
        store.commit(batch_of(rng.integers(0, 20, 300).tolist(),
                              (number * 300 + np.arange(300)).astype(float).tolist(),
                              rng.random(300).tolist()), [])
        if number == 2:
            assert store.seal() == 900  # three batches sealed, the fourth stays hot
    before = (store.aggregates(), store.history(3, 0.0, 1e9), store.counts(),
              store.recent_sequences(), store.load_twin())
    store.close()
    reopened = open_store(store_url)
    after = (reopened.aggregates(), reopened.history(3, 0.0, 1e9), reopened.counts(),
             reopened.recent_sequences(), reopened.load_twin())
    reopened.close()
    for name in ("rows", "count", "last_value", "last_event_time", "minimum", "maximum"):
        assert getattr(after[0], name).tolist() == getattr(before[0], name).tolist()
    # Sums may be added in another order once a seal has run: equal to rounding.
    assert np.allclose(after[0].mean, before[0].mean) and np.allclose(after[0].m2, before[0].m2)
    assert after[1].event_time.tolist() == before[1].event_time.tolist()
    assert after[1].value.tolist() == before[1].value.tolist()
    assert after[2] == before[2] and after[2]["readings"] == 1200
    assert [a.tolist() for a in after[3]] == [b.tolist() for b in before[3]]
    assert [(r, s.to_dict()) for r, s in after[4][1]] == [(r, s.to_dict())
                                                          for r, s in before[4][1]]


def test_a_health_table_saved_in_the_store_loads_into_a_fresh_monitor_after_reopening(
        store_url: str) -> None:
    monitor = HealthMonitor()
    rows = np.arange(50)
    monitor.configure(rows, group=rows // 5, expected_interval=np.full(50, 60.0))
    rng = np.random.default_rng(2)
    for step in range(200):
        monitor.update_many(rows, 20 + rng.normal(0, 0.1, 50), np.full(50, 60.0 * step))
    ids = [f"s{row}" for row in range(50)]
    store = open_store(store_url)
    store.save_snapshot("health", snapshot.dump(monitor, ids))
    store.close()
    reopened = open_store(store_url)
    body = reopened.load_snapshot("health")
    reopened.close()
    assert body is not None
    restored = HealthMonitor()
    assert snapshot.load(restored, body, ids) == 50
    for name in monitor.table.column_names():
        np.testing.assert_array_equal(restored.table.column(name)[:50],
                                      monitor.table.column(name)[:50], err_msg=name)


def test_commits_from_several_threads_beside_seals_are_neither_lost_nor_doubled(
        store_url: str) -> None:
    url = store_url + "&seal_rows=700"

    def push(worker: int) -> None:
        for number in range(25):
            times = [worker * 1e4 + number * 100.0 + k for k in range(100)]
            store.commit(batch_of([worker] * 100, times, [float(worker)] * 100), [])

    store = open_store(url)
    workers = [threading.Thread(target=push, args=(w,)) for w in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    store.close()  # some readings sealed, the rest only in the journal
    reopened = open_store(url)
    try:
        assert reopened.counts()["readings"] == 4 * 25 * 100
        assert reopened.aggregates().count.tolist() == [2500] * 4
        history = reopened.history(2, 0.0, 1e9)
        assert len(history.event_time) == 2500 and len(set(history.event_time.tolist())) == 2500
    finally:
        reopened.close()


def test_a_window_cut_into_more_buckets_than_floats_count_is_refused_by_the_store(
        store_url: str) -> None:
    store = open_store(store_url)
    try:
        for every in (0.0, 1e-300):
            with pytest.raises(InvalidInput):
                store.downsample(0, 0.0, 86_400.0, every)
        assert store.downsample(0, 0.0, 86_400.0, 3_600.0) is not None
    finally:
        store.close()
