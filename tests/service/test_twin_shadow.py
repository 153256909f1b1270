"""The shadow twin in the live service: a second level/trend tracker with other parameters
runs beside the live one on the same readings in the same batch step; the comparison of
their tracking error says which suits the sensors better; promoting it changes the live
model (and its alarms) for good, across a restart; a failed commit, of a batch or of a
start, promotion or stop, leaves everything as it was; and a running shadow survives a
restart."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from twinsync.analytics.snapshot import load
from twinsync.errors import Conflict, InvalidInput, StoreError
from twinsync.model import Event
from twinsync.physics.comparison import MIN_COUNTED
from twinsync.physics.tracker_settings import TrackerSettings
from twinsync.service import TwinService
from twinsync.service.twin_models import TWIN_SNAPSHOT
from twinsync.service.twin_shadow import PROMOTED, SHADOW_SNAPSHOT, STARTED, STOPPED
from twinsync.store import open_store

from .faults import FailingStore
from .test_twin_models import SENSORS, SHIFT_DAY, START, STEP, feed, open_slab, open_slab_on, stream

ROWS = np.arange(len(SENSORS))
#: Readings of each sensor before a shadow starts: the live models have warmed up.
WARM = 150


def stepping(slots: int, seed: int = 3) -> np.ndarray:
    """Three loggers of one slab whose level really steps by ±1 °C, together, thirty
    times after ``WARM`` (a heater that switches), sensor noise 0.05 °C. A gate that
    re-opens after one reading follows each step a reading or two sooner than the live
    gate (after five, or when the CUSUM fires after three): known to track it better."""
    rng = np.random.default_rng(seed)
    steps = np.zeros(slots)
    steps[rng.choice(np.arange(WARM, slots), 30, replace=False)] = rng.choice([-1, 1], 30)
    level = np.cumsum(steps)[:, None]
    return np.round(20 + level + rng.normal(0, 0.05, (slots, 3)), 3)


def rows_of(tracker: object) -> dict[str, np.ndarray]:
    return tracker.save(ROWS)  # type: ignore[attr-defined,no-any-return]


def assert_same(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    assert set(a) == set(b)
    for name, column in a.items():
        assert np.array_equal(b[name], column, equal_nan=True), name


def shadow_events(events: list[Event]) -> list[Event]:
    return [e for e in events if e.kind.startswith("twin_shadow")]


async def test_a_shadow_with_the_live_parameters_sees_the_same_readings_and_stays_equal(
        tmp_path: object) -> None:
    """Started from the live rows with no parameter changed, the shadow takes every
    reading the live model takes, in the same step: after four days of batches (a level
    shift among them) its rows are the live rows bit for bit, and the two errors equal."""
    values = stream(days=4, shift=1.0)
    service = await open_slab(f"sqlite:///{tmp_path}/twin.sqlite")
    try:
        await feed(service, values, range(0, WARM))
        report = await service.twin_models.shadow.start({})
        assert report["shadow"]["changed"] == {}
        await feed(service, values, range(WARM, 4 * 96))
        shadow = service.twin_models.shadow.running
        assert shadow is not None
        assert_same(rows_of(service.twin_models.tracker), rows_of(shadow.tracker))
        report = await service.twin_models.shadow.report()
        fleet = report["comparison"]
        # Every reading since that health trusted, counted once.
        trusted = 0
        for row in ROWS:
            stored = service.store.history(int(row), START + WARM * STEP, 4e9)
            assert len(stored.value) == 4 * 96 - WARM
            trusted += int((stored.quality >= 0.5).sum())
        assert fleet["readings"] == trusted > 2 * (4 * 96 - WARM)
        assert fleet["rms_ratio"] == pytest.approx(1.0)
        assert fleet["shadow_closer"] == 0.0
        assert fleet["live"] == fleet["shadow"]
        assert fleet["live"]["divergences"] == 1  # the shift, told by both
        for sensor in report["comparison"]["best"]:
            assert sensor["live"] == sensor["shadow"]
    finally:
        await service.aclose()


async def test_a_shadow_suited_to_the_stream_tracks_it_closer_and_promoting_it_makes_it_live(
        tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/twin.sqlite"
    slots = 1200
    values = stepping(slots + 400)
    service = await open_slab(url)
    desk = service.twin_models.shadow
    try:
        await feed(service, values, range(0, WARM))
        await desk.start({"reopen_after": 1})
        await feed(service, values, range(WARM, slots))
        report = await desk.report()
        fleet = report["comparison"]
        assert fleet["sensors_compared"] == 3 and fleet["readings"] > (slots - WARM)
        assert fleet["rms_ratio"] < 0.85
        assert fleet["shadow_lower_rms"] == 3 and fleet["live_lower_rms"] == 0
        assert fleet["shadow"]["divergences"] < fleet["live"]["divergences"]
        assert 0.5 < fleet["shadow"]["calibration"] < 1.5
        # Per sensor, in the element's route as in the fleet's lists, in °C.
        element = await service.twin_models.of_element("slab-1")
        for sensor in element["sensors"]:
            figures = sensor["shadow"]["comparison"]
            assert figures["shadow"]["rms"] < figures["live"]["rms"] < 0.5
            assert sensor["shadow"]["state"] in ("in_control", "diverging")
        assert [s["sensor_id"] for s in fleet["best"]] == [
            s["sensor_id"] for s in reversed(fleet["worst"])]

        promoted_rows = rows_of(desk.running.tracker)  # type: ignore[union-attr]
        alarms_before = service.alarms.savepoint()
        answer = await desk.promote()
        assert answer["parameters"]["reopen_after"] == 1
        assert answer["previous_parameters"]["reopen_after"] == 5
        assert answer["comparison"]["rms_ratio"] == pytest.approx(fleet["rms_ratio"])
        assert desk.running is None and desk.live.reopen_after == 1
        live = service.twin_models.tracker
        assert live.knobs.reopen_after == 1
        assert_same(promoted_rows, rows_of(live))
        (event,) = service.store.recent_events(limit=1, kind=PROMOTED)
        assert event.data["comparison"]["readings"] == fleet["readings"]
        # The alarms follow the promoted model: none for a sensor it finds in step.
        diverging = {service.pipeline.table.ids[r] for r in np.flatnonzero(
            live.columns["diverging"][:3])}
        twin_alarms = {k[len("twin:"):] for k in service.alarms.active if k.startswith("twin:")}
        assert twin_alarms == diverging, alarms_before

        # The live model now is the promoted one: a shadow with the old parameters,
        # started from it, tracks the rest of the stream worse.
        await desk.start({"reopen_after": 5})
        await feed(service, values, range(slots, slots + 400))
        after = (await desk.report())["comparison"]
        assert after["rms_ratio"] > 1.05 and after["live_lower_rms"] == 3
        await desk.stop()
        state = rows_of(live)
    finally:
        await service.aclose()

    restarted = await open_slab(url)
    try:
        assert restarted.twin_models.shadow.live.reopen_after == 1
        assert restarted.twin_models.tracker.knobs.reopen_after == 1
        assert restarted.twin_models.shadow.running is None
        assert_same(state, rows_of(restarted.twin_models.tracker))
    finally:
        await restarted.aclose()


async def test_promoting_a_shadow_that_finds_a_sensor_in_step_clears_its_alarm_in_the_same_commit(
        tmp_path: object) -> None:
    """t-1 steps by 1 °C: the live model diverges and raises ``twin:t-1``. A shadow started
    fresh after the step knows only the new level; promoted while the live model still
    diverges, the alarm is cleared by the promotion's transaction, after its event."""
    values = stream(days=4, shift=1.0)
    shift_slot = SHIFT_DAY * 96
    service = await open_slab(f"sqlite:///{tmp_path}/twin.sqlite")
    desk = service.twin_models.shadow
    try:
        await feed(service, values, range(0, shift_slot + 8))
        assert "twin:t-1" in service.alarms.active
        await desk.start({}, start_from="fresh")
        await feed(service, values, range(shift_slot + 8, shift_slot + 16))
        assert "twin:t-1" in service.alarms.active  # the live model is not back in step yet
        shadow = desk.running
        assert shadow is not None and (shadow.tracker.columns["diverging"][:3] == 0).all()
        (newest,) = service.store.recent_events(limit=1)
        await desk.promote()
        events = service.store.events(after=newest.seq or 0)
        assert [e.kind for e in events] == [PROMOTED, "alarm_cleared"]
        assert events[1].data["key"] == "twin:t-1"
        assert "twin:t-1" not in service.alarms.active
    finally:
        await service.aclose()


async def test_a_batch_whose_commit_fails_leaves_the_shadow_and_its_comparison_as_they_were(
        tmp_path: object) -> None:
    values = stepping(400)
    store = FailingStore(f"sqlite:///{tmp_path}/twin.sqlite")
    service = TwinService(store)
    try:
        await open_slab_on(service)
        await feed(service, values, range(0, WARM))
        await service.twin_models.shadow.start({"reopen_after": 1, "threshold": 12})
        await feed(service, values, range(WARM, 300))
        shadow = service.twin_models.shadow.running
        assert shadow is not None
        tracker, comparison = rows_of(shadow.tracker), rows_of(shadow.comparison)
        assert comparison["count"].sum() > 0
        store.fail_next = 1
        with pytest.raises(StoreError):
            await feed(service, values, range(300, 316))
        assert_same(tracker, rows_of(shadow.tracker))
        assert_same(comparison, rows_of(shadow.comparison))
        # Sent again, the batch is counted once: each of its readings health trusted.
        await feed(service, values, range(300, 316))
        added = rows_of(shadow.comparison)["count"] - comparison["count"]
        for row in ROWS:
            stored = service.store.history(int(row), START + 300 * STEP, START + 316 * STEP)
            assert len(stored.value) == 16
            assert added[row] == int((stored.quality >= 0.5).sum())
        assert added.sum() > 16
    finally:
        await service.aclose()


async def test_a_start_promotion_or_stop_whose_commit_fails_changes_nothing(
        tmp_path: object) -> None:
    values = stepping(300)
    store = FailingStore(f"sqlite:///{tmp_path}/twin.sqlite")
    service = TwinService(store)
    desk = service.twin_models.shadow
    try:
        await open_slab_on(service)
        await feed(service, values, range(0, WARM))
        store.fail_next = 1
        with pytest.raises(StoreError):
            await desk.start({"reopen_after": 1})
        assert desk.running is None
        assert service.store.recent_events(limit=1, kind=STARTED) == []

        await desk.start({"reopen_after": 1})
        await feed(service, values, range(WARM, 300))
        live, running = service.twin_models.tracker, desk.running
        live_rows = rows_of(live)
        store.fail_next = 1
        with pytest.raises(StoreError):
            await desk.promote()
        assert service.twin_models.tracker is live and desk.running is running
        assert desk.live.reopen_after == 5
        assert_same(live_rows, rows_of(service.twin_models.tracker))
        assert service.store.recent_events(limit=1, kind=PROMOTED) == []

        store.fail_next = 1
        with pytest.raises(StoreError):
            await desk.stop()
        assert desk.running is running
        stopped = await desk.stop()
        assert desk.running is None and stopped["parameters"]["reopen_after"] == 1
        assert [e.kind for e in shadow_events(service.store.events(limit=1000))] == [
            STARTED, STOPPED]
    finally:
        await service.aclose()


async def test_bad_parameters_and_a_second_shadow_are_refused_and_nothing_starts(
        tmp_path: object) -> None:
    service = await open_slab(f"sqlite:///{tmp_path}/twin.sqlite")
    desk = service.twin_models.shadow
    try:
        refused = [({"rate": 0.9}, "bad_parameter"), ({"warmup": 4}, "bad_parameter"),
                   ({"warmup": 12.5}, "bad_parameter"), ({"settle": True}, "bad_parameter"),
                   ({"threshold": float("nan")}, "bad_parameter"),
                   ({"reference": 3.0, "threshold": 2.0}, "bad_parameter"),
                   ({"warmup": 600}, "bad_parameter"),  # past memory (500)
                   ({"gate_probability": 1.0}, "bad_parameter"),
                   ({"alpha": 1}, "unknown_parameter")]
        for parameters, reason in refused:
            with pytest.raises(InvalidInput) as caught:
                await desk.start(parameters)
            assert caught.value.reason == reason, parameters
        with pytest.raises(InvalidInput) as caught:
            await desk.start({}, start_from="yesterday")
        assert caught.value.reason == "bad_start_from"
        assert desk.running is None and service.store.events(limit=1000, kind=STARTED) == []
        with pytest.raises(Conflict):
            await desk.promote()
        with pytest.raises(Conflict):
            await desk.stop()
        await desk.start({"warmup": 48, "memory": 600})
        with pytest.raises(Conflict):
            await desk.start({})
    finally:
        await service.aclose()


async def test_a_running_shadow_and_its_comparison_survive_a_restart(store_url: str) -> None:
    values = stepping(600)
    service = await open_slab(store_url)
    try:
        await feed(service, values, range(0, WARM))
        await service.twin_models.shadow.start({"reopen_after": 1})
        await feed(service, values, range(WARM, 400))
        running = service.twin_models.shadow.running
        assert running is not None
        tracker, comparison = rows_of(running.tracker), rows_of(running.comparison)
        assert (comparison["count"] >= MIN_COUNTED).all()
    finally:
        await service.aclose()  # saves the live and the shadow state

    restarted = await open_slab(store_url)
    try:
        again = restarted.twin_models.shadow.running
        assert again is not None
        assert (again.id, again.settings, again.counted_since) == (
            running.id, running.settings, running.counted_since)
        assert again.tracker.knobs.reopen_after == 1
        assert_same(tracker, rows_of(again.tracker))
        assert_same(comparison, rows_of(again.comparison))
        await feed(restarted, values, range(400, 600))
        assert rows_of(again.comparison)["count"].sum() > comparison["count"].sum()
    finally:
        await restarted.aclose()


async def test_a_shadow_started_since_the_last_save_starts_again_from_the_live_rows(
        tmp_path: object) -> None:
    """The process stops before the new shadow was ever saved (the snapshot there is an
    older shadow's): the shadow runs again from the live rows as restored, counted from
    the restart."""
    url = f"sqlite:///{tmp_path}/twin.sqlite"
    values = stepping(400)
    service = await open_slab(url)
    desk = service.twin_models.shadow
    try:
        await feed(service, values, range(0, WARM))
        await desk.start({"threshold": 12})
        await feed(service, values, range(WARM, 200))
        await service.save_health()
        older = service.store.load_snapshot(SHADOW_SNAPSHOT)
        await desk.stop()
        await desk.start({"reopen_after": 1})
        shadow_id = desk.running.id  # type: ignore[union-attr]
        await feed(service, values, range(200, 300))
    finally:
        await service.aclose()
    # As if it had stopped before the new shadow was saved: the snapshot is the old one's.
    store = open_store(url)
    try:
        assert older is not None
        store.save_snapshot(SHADOW_SNAPSHOT, older)
    finally:
        store.close()
    started = 1_900_000_000.0
    again = TwinService.open(url, clock=lambda: started)
    try:
        running = again.twin_models.shadow.running
        assert running is not None and running.id == shadow_id
        assert running.settings.reopen_after == 1 and running.counted_since == started
        assert_same(rows_of(again.twin_models.tracker), rows_of(running.tracker))
        assert rows_of(running.comparison)["count"].sum() == 0
    finally:
        await again.aclose()


async def test_with_the_twin_models_off_no_shadow_starts(tmp_path: object) -> None:
    service = await open_slab(f"sqlite:///{tmp_path}/twin.sqlite", twin_models=False)
    try:
        with pytest.raises(Conflict):
            await service.twin_models.shadow.start({"threshold": 12})
        report = await service.twin_models.shadow.report()
        assert report["enabled"] is False and report["shadow"] is None
    finally:
        await service.aclose()


async def test_a_periodic_save_taken_before_a_promotion_does_not_overwrite_the_promoted_state(
        tmp_path: object) -> None:
    """The timer's save dumps on the writer and writes off it; a promotion between the
    two saves its own state at once, and the older dump is then not written over it."""
    values = stepping(300)
    service = await open_slab(f"sqlite:///{tmp_path}/twin.sqlite")
    models = service.twin_models
    try:
        await feed(service, values, range(0, WARM))
        await models.shadow.start({"reopen_after": 1})
        await feed(service, values, range(WARM, 300))
        # The timer's save, as ``save_health`` takes it: dumped on the writer, the
        # promotion between, then written off it.
        state = await service.view(service._dump_state)
        await models.shadow.promote()
        assert TWIN_SNAPSHOT in state.snapshots
        await asyncio.to_thread(service._write_state, state)
        saved = service.store.load_snapshot(TWIN_SNAPSHOT)
        assert saved is not None
        promoted = TrackerSettings(reopen_after=1).tracker()
        assert load(promoted, saved, service.pipeline.table.ids) == 3
        assert_same(rows_of(models.tracker), rows_of(promoted))
    finally:
        await service.aclose()
