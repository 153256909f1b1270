"""The monitor's contract: batch equals one at a time, growth, snapshots, the bench."""

from __future__ import annotations

import argparse
import copy
import dataclasses
from typing import get_type_hints

import numpy as np
import pytest

from twinsync.bench import health as bench
from twinsync.bench import health_speed
from twinsync.cli import bench_cmd
from twinsync.health import HealthMonitor, HealthParams
from twinsync.health.kernel import NOISY_BIT, AllKnobs
from twinsync.health.silence import SilenceKnobs
from twinsync.health.table import HealthTable

from .conftest import DAY, STEP, grouped, peer_signals, quantise


def faulty_fleet() -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # type: ignore[type-arg]
    """Two groups of three and one lone sensor, with a spike, a freeze and a gap."""
    a, ta = peer_signals(4, seed=11)
    b, tb = peer_signals(4, seed=12)
    lone, tl = peer_signals(4, seed=13, sensors=1)
    values = quantise(np.vstack([a, b, lone]), 0.01)
    times = np.vstack([ta, tb, tl])
    fault = round(2.5 * DAY / STEP)
    values[1, fault] += 3.0
    values[4, fault:fault + 30] = values[4, fault - 1]
    values[6, fault:fault + 12] = np.nan
    groups = np.array([0, 0, 0, 7, 7, 7, -1])
    return values, times, groups


@pytest.mark.parametrize("slots", [4, 96])
def test_update_many_gives_the_same_numbers_as_learn_one(slots: int) -> None:
    values, times, groups = faulty_fleet()
    rows = np.arange(values.shape[0])
    batched, single = HealthMonitor(), HealthMonitor()
    for monitor in (batched, single):
        monitor.configure(rows, group=groups, resolution=np.full(rows.size, 0.01))
    # Batches of an hour or a day: several readings per sensor, peers interleaved in time.
    batch_changes, single_changes = [], []
    for hour in range(0, values.shape[1], slots):
        block = slice(hour, hour + slots)
        present = ~np.isnan(values[:, block])
        r = np.broadcast_to(rows[:, None], present.shape)[present]
        v, t = values[:, block][present], times[:, block][present]
        shuffled = np.random.default_rng(hour).permutation(r.size)
        changes = batched.update_many(r[shuffled], v[shuffled], t[shuffled])
        batch_changes += list(changes)
        for i in np.lexsort((r, t)):
            single_changes += list(single.learn_one(int(r[i]), v[i], t[i]))
        batched.tick((hour + slots) * STEP)
        single.tick((hour + slots) * STEP)
    # The same changes in the same (event-time) order, described as they happened.
    assert batch_changes == single_changes
    assert {change.new for change in batch_changes} >= {"spike", "stuck", "ok"}
    for name in HealthTable.column_names():
        assert np.array_equal(batched.table.column(name), single.table.column(name),
                              equal_nan=True), name


def test_the_kernels_take_every_health_parameter() -> None:
    taken = set(SilenceKnobs._fields).union(
        *(kind._fields for kind in get_type_hints(AllKnobs).values()))
    assert taken == {f.name for f in dataclasses.fields(HealthParams)}


def test_the_table_annotates_every_column_for_the_type_checker() -> None:
    assert set(HealthTable.__annotations__) - {"views"} == set(HealthTable.column_names())


def test_the_table_grows_when_rows_beyond_its_capacity_appear() -> None:
    monitor = HealthMonitor(capacity=16)
    monitor.learn_one(3, 1.0, 0.0)
    monitor.update_many([5000, 3], [2.0, 1.5], [STEP, STEP])
    assert monitor.table.capacity > 5000
    # Every column grew with it, the peer ring's (records of their own) too.
    for name in HealthTable.column_names():
        assert len(monitor.table.column(name)) == monitor.table.capacity, name
    assert monitor.table.count[[3, 5000]].tolist() == [2, 1]
    assert monitor.state(5000).state == "ok"


def test_a_reading_older_than_the_sensors_newest_does_not_move_its_state() -> None:
    monitor = HealthMonitor()
    monitor.learn_one(0, 1.0, 2 * STEP)
    changes = monitor.update_many([0], [99.0], [STEP])
    assert monitor.table.count[0] == 1 and changes.reading_quality.tolist() == [1.0]


def test_score_one_gives_the_quality_update_many_would_give() -> None:
    values, times = peer_signals(3, seed=22, sensors=1)
    monitor = HealthMonitor()
    for k in range(values.shape[1]):
        monitor.learn_one(0, float(values[0, k]), float(times[0, k]))
    nxt = float(times[0, -1] + STEP)
    for jump in (0.0, 0.05, 1.0, -5.0):
        value = float(values[0, -1]) + jump
        trial = copy.deepcopy(monitor)
        quality = trial.update_many([0], [value], [nxt]).reading_quality[0]
        assert monitor.score_one(0, value, nxt) == quality, jump


def test_snapshot_and_summary_describe_every_known_sensor() -> None:
    monitor = grouped()
    monitor.update_many([0, 1, 2], [20.0, 20.1, 19.9], [0.0, 1.0, 2.0])
    snapshot = monitor.snapshot()
    assert [s.row for s in snapshot] == [0, 1, 2]
    assert snapshot[0].state == "ok" and snapshot[0].quality == 1.0
    assert "learning" in snapshot[0].reason
    assert monitor.summary()["ok"] == 3


def test_score_one_flags_an_outlier_without_learning_it() -> None:
    values, times = peer_signals(2, seed=21, sensors=1)
    monitor = HealthMonitor()
    for k in range(values.shape[1]):
        monitor.learn_one(0, float(values[0, k]), float(times[0, k]))
    count = int(monitor.table.count[0])
    nxt = float(times[0, -1] + STEP)
    assert monitor.score_one(0, float(values[0, -1]) + 5.0, nxt) <= 0.2
    assert monitor.score_one(0, float(values[0, -1]), nxt) == 1.0
    assert monitor.table.count[0] == count


def test_score_one_flags_no_outlier_of_a_noisy_sensor_as_the_update_would_not() -> None:
    values, times = peer_signals(2, seed=21, sensors=1)
    monitor = HealthMonitor()
    for k in range(values.shape[1]):
        monitor.learn_one(0, float(values[0, k]), float(times[0, k]))
    monitor.table.cond[0] |= NOISY_BIT
    nxt = float(times[0, -1] + STEP)
    assert monitor.score_one(0, float(values[0, -1]) + 5.0, nxt) == monitor.table.quality[0]
    # Nor does the update hold it as a suspected spike.
    assert monitor.learn_one(0, float(values[0, -1]) + 5.0, nxt).reading_quality[0] > 0.2


def test_a_short_bench_run_finds_faults_far_better_than_chance() -> None:
    parser = argparse.ArgumentParser()
    bench_cmd.add_arguments(parser, "bench")
    result = bench.run(parser.parse_args(["health", "--sensors", "45", "--days", "10",
                                          "--seed", "5", "--json"]))
    for kind, row in result["kinds"].items():
        assert row["faults"] > 0, kind
        assert row["f1"] >= 0.7, (kind, row)
    assert result["false_alarms_per_100_sensor_days"] <= 3.0


def test_the_speed_bench_feeds_every_reading() -> None:
    parser = argparse.ArgumentParser()
    health_speed.add_arguments(parser)
    result = health_speed.run(parser.parse_args(
        ["--sensors", "30", "--per-sensor", "5", "--batch", "60", "--readings", "600",
         "--group", "3", "--ticks", "2"]))
    assert result["readings"] == 600 and sum(result["summary"].values()) == 30


def test_configure_from_twin_scales_the_resolution_by_the_bindings_gain_and_unit() -> None:
    from twinsync.health import sensor_settings
    from twinsync.model import Binding, Element, Sensor, Transform, Twin
    from twinsync.pipeline import Pipeline

    twin = Twin()
    twin.add_element(Element(id="slab", type="IfcSlab"))
    twin.add_sensor(Sensor(id="plain", kind="temperature", unit="degC", resolution=0.1))
    twin.add_sensor(Sensor(id="gain", kind="temperature", unit="degC", resolution=0.1))
    twin.add_sensor(Sensor(id="kelvin", kind="temperature", unit="degF", resolution=0.1))
    twin.bind_sensor(Binding("plain", "slab", "t"))
    twin.bind_sensor(Binding("gain", "slab", "t", Transform(gain=-2.0)))
    twin.bind_sensor(Binding("kelvin", "slab", "t", Transform(unit="degC")))
    settings = sensor_settings(twin, Pipeline(twin).table)
    by_row = dict(zip(settings.rows.tolist(), settings.resolution.tolist(), strict=True))
    table = Pipeline(twin).table
    assert by_row[table.index["plain"]] == 0.1
    assert by_row[table.index["gain"]] == 0.2
    assert abs(by_row[table.index["kelvin"]] - 0.1 * 5 / 9) < 1e-12


def test_the_fold_is_handed_the_table_s_own_columns_even_after_it_grows() -> None:
    monitor = HealthMonitor(capacity=8)
    table = monitor.table
    table.ensure(100)
    records = table.views.records
    assert records.shape == table.column("count").shape
    assert all(records[name].ctypes.data == table.column(name).ctypes.data
               for name in records.dtype.names or ())
    handed = [(name, column) for group in table.views[1:]
              for name, column in zip(group._fields, group, strict=True)]
    assert len({name for name, _ in handed}) == len(handed)
    assert all(column is table.column(name) for name, column in handed)
