"""The physics twin in the live service: every bound sensor's level/trend model runs on the
reading path; a level shift raises one ``twin_divergence`` alarm (not one per reading) and
a recalibration with its parameters before and after, a steady stream raises none, a
reading health doubts moves the model less, a failed commit leaves the models as they
were, the models survive a restart, and the setting switches them off."""

from __future__ import annotations

import numpy as np
import pytest

from twinsync.errors import StoreError
from twinsync.model import Binding, Element, Event, Sensor
from twinsync.physics.tracker import LevelTrendTracker
from twinsync.pipeline import IncomingBatch, RawReading
from twinsync.service import TwinService

from .faults import FailingStore

STEP = 900.0
DAY = 86_400.0
START = 1_767_225_600.0  # 2026-01-01
SENSORS = ["t-0", "t-1", "t-2"]
SHIFT_DAY = 3


def stream(days: float, seed: int = 7, shift: float = 0.0, cycle: float = 3.0) -> np.ndarray:
    """Three loggers of one slab every 15 minutes, a daily cycle of ±``cycle`` °C and sensor
    noise of 0.05 °C; t-1 reads ``shift`` higher from ``SHIFT_DAY`` on. (slot, sensor)
    values."""
    rng = np.random.default_rng(seed)
    slots = int(days * DAY / STEP)
    hours = np.arange(slots) * STEP / 3600
    values = (20 + cycle * np.sin(2 * np.pi * hours / 24)[:, None]
              + rng.normal(0, 0.05, (slots, 3)))
    values[hours >= SHIFT_DAY * 24, 1] += shift
    return np.round(values, 3)


async def open_slab(url: str, **options: object) -> TwinService:
    return await open_slab_on(TwinService.open(url, **options))


async def open_slab_on(service: TwinService) -> TwinService:
    if not service.twin.sensors:
        await service.import_project(
            [Element("slab-1", "IfcSlab")],
            [Sensor(s, "temperature", "degC", STEP, resolution=0.001) for s in SENSORS],
            [Binding(s, "slab-1", "core_temperature") for s in SENSORS])
    return service


async def feed(service: TwinService, values: np.ndarray, slots: range,
               per_batch: int = 16) -> list[Event]:
    """Readings ``per_batch`` slots a batch, received as a gateway sends them; returns the
    events committed meanwhile."""
    (newest,) = service.store.recent_events(limit=1) or [Event("none", 0.0, seq=0)]
    for first in range(slots.start, slots.stop, per_batch):
        last = min(first + per_batch, slots.stop)
        readings = [RawReading(s, float(values[k, i]), START + k * STEP + i)
                    for k in range(first, last) for i, s in enumerate(SENSORS)]
        result = await service.ingest(IncomingBatch(readings, "test",
                                                    START + last * STEP + 10.0))
        assert result.accepted == len(readings)
    return service.store.events(after=newest.seq or 0, limit=100_000)


def twin_events(events: list[Event]) -> list[Event]:
    return [e for e in events if e.kind.startswith("twin_")
            or e.data.get("key", "").startswith("twin:")]


async def test_a_level_shift_raises_one_divergence_alarm_and_a_recalibration_and_it_all_survives_a_restart(  # noqa: E501
        store_url: str) -> None:
    values = stream(days=4, shift=1.0)
    shift_slot = SHIFT_DAY * 96
    service = await open_slab(store_url)
    try:
        events = twin_events(await feed(service, values, range(0, shift_slot + 8)))
        kinds = [(e.kind, e.data.get("sensor") or e.data.get("key")) for e in events]
        assert kinds == [("twin_divergence", "t-1"), ("alarm_raised", "twin:t-1"),
                         ("twin_recalibrated", "t-1")]
        divergence, raised, recalibrated = events
        assert divergence.element_id == "slab-1"
        data = divergence.data
        assert (data["property"], data["direction"], data["unit"]) == (
            "core_temperature", "up", "degC")
        # Started at the shift (the CUSUM's change point), told within four readings,
        # its size the shift's (1 °C) within the readings' noise.
        assert data["since"] == pytest.approx(START + shift_slot * STEP, abs=2.0)
        assert divergence.time <= START + (shift_slot + 4) * STEP + 2.0
        assert data["size"] == pytest.approx(1.0, abs=0.15)
        assert data["size_sd"] > 3.0
        assert raised.element_id == "slab-1"
        before, after = recalibrated.data["before"], recalibrated.data["after"]
        assert before["level"] < 20 + 3 + 0.5 < 20 + 3 + 1.0 - 0.2 < after["level"] or (
            after["level"] - before["level"] > 0.6)
        assert set(before) == set(after) == {"noise", "ratio", "level", "trend"}
        assert after["noise"] > 0 and after["ratio"] > 0
        # The rest of the shifted day: the model follows the new level, no more alarms.
        more = twin_events(await feed(service, values, range(shift_slot + 8, 4 * 96)))
        assert [e.kind for e in more] == ["alarm_cleared"]
        assert more[0].data["key"] == "twin:t-1"
        row = service.pipeline.table.index["t-1"]
        state = service.twin_models.tracker.save(np.arange(3))
        assert abs(state["level"][row] - float(np.mean(values[-4:, 1]))) < 0.3
    finally:
        await service.aclose()

    restarted = await open_slab(store_url)
    try:
        again = restarted.twin_models.tracker.save(np.arange(3))
        for name, column in state.items():
            assert np.array_equal(again[name], column, equal_nan=True), name
    finally:
        await restarted.aclose()


async def test_a_steady_stream_of_days_raises_no_divergence(tmp_path: object) -> None:
    service = await open_slab(f"sqlite:///{tmp_path}/twin.sqlite")
    try:
        events = await feed(service, stream(days=6, seed=11), range(0, 6 * 96), per_batch=48)
        assert twin_events(events) == []
        state = service.twin_models.tracker.save(np.arange(3))
        assert (state["count"] == 6 * 96).all() and (state["diverging"] == 0).all()
        assert np.isfinite(state["last_z"]).all()
    finally:
        await service.aclose()


async def test_readings_health_doubts_move_the_model_less_than_trusted_ones_would(
        tmp_path: object) -> None:
    """t-0 turns four times as noisy on day 2: health calls it noisy and gives its readings
    a quality of 0.2-0.3. The service's model of t-0 is the one its readings make with
    those qualities (not with full trust), and each doubted reading moved the level by the
    weight of its quality: less than half of what the same reading, trusted, would have."""
    values = stream(days=4, seed=5, cycle=0.0)
    values[2 * 96:, 0] += np.round(np.random.default_rng(3).normal(0, 0.2, 2 * 96), 3)
    service = await open_slab(f"sqlite:///{tmp_path}/twin.sqlite")
    try:
        await feed(service, values, range(0, 4 * 96))
        stored = await service.history(service.store.history, 0, 0.0, 4e9)
        state = service.twin_models.tracker.save(np.array([0]))
    finally:
        await service.aclose()
    doubted = stored.quality < 0.5
    assert doubted.sum() > 96  # health doubts most of the noisy days' readings
    quality = stored.quality.astype(np.float64)

    def replay(weights: np.ndarray) -> LevelTrendTracker:
        tracker = LevelTrendTracker()
        tracker.track_many(np.zeros(len(weights), dtype=np.int64), stored.event_time,
                           stored.value, weights)
        return tracker

    # (The store keeps the quality as float32: the same numbers to 1e-7.)
    weighted = replay(quality).save(np.array([0]))
    trusted = replay(np.ones(len(quality))).save(np.array([0]))
    assert weighted["level"][0] == pytest.approx(state["level"][0], rel=1e-6)
    assert weighted["r"][0] == pytest.approx(state["r"][0], rel=1e-6)
    assert trusted["level"][0] != pytest.approx(state["level"][0], rel=1e-6)

    tracker, one = LevelTrendTracker(), np.zeros(1, dtype=np.int64)
    moved_weighted, moved_trusted = 0.0, 0.0
    for i in range(len(quality)):
        reading = stored.event_time[i:i + 1], stored.value[i:i + 1]
        if doubted[i]:
            before = tracker.save(one)
            tracker.track_many(one, *reading, np.ones(1))
            after = tracker.save(one)
            tracker.restore(one, before)
            if after["gated_run"][0] == 0:  # trusted, it would have been taken
                moved_trusted += abs(after["level"][0] - before["level"][0])
                tracker.track_many(one, *reading, quality[i:i + 1])
                moved_weighted += abs(tracker.save(one)["level"][0] - before["level"][0])
                continue
        tracker.track_many(one, *reading, quality[i:i + 1])
    assert 0 < moved_weighted < moved_trusted / 2


async def test_a_batch_whose_commit_fails_leaves_the_models_as_they_were(
        tmp_path: object) -> None:
    values = stream(days=4, shift=1.0)
    store = FailingStore(f"sqlite:///{tmp_path}/twin.sqlite")
    service = TwinService(store)
    try:
        await open_slab_on(service)
        shift_slot = SHIFT_DAY * 96
        await feed(service, values, range(0, shift_slot))
        rows = np.arange(3)
        before = service.twin_models.tracker.save(rows)
        alarms = dict(service.alarms.active)
        store.fail_next = 1
        with pytest.raises(StoreError):
            await feed(service, values, range(shift_slot, shift_slot + 8), per_batch=8)
        after = service.twin_models.tracker.save(rows)
        for name, column in before.items():
            assert np.array_equal(after[name], column, equal_nan=True), name
        assert service.alarms.active == alarms
        # Sent again, the batch is taken whole: the divergence is told once.
        events = twin_events(await feed(service, values, range(shift_slot, shift_slot + 8),
                                        per_batch=8))
        assert [e.kind for e in events] == ["twin_divergence", "alarm_raised",
                                            "twin_recalibrated"]
    finally:
        await service.aclose()


async def test_with_the_twin_models_off_nothing_is_modelled_or_saved(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/twin.sqlite"
    service = await open_slab(url, twin_models=False)
    try:
        events = await feed(service, stream(days=4, shift=1.0), range(0, 4 * 96))
        assert twin_events(events) == []
        assert (service.twin_models.tracker.save(np.arange(3))["count"] == 0).all()
        await service.save_health()
        assert service.store.load_snapshot("twin_models") is None
    finally:
        await service.aclose()


async def test_reading_the_model_of_a_row_past_the_table_does_not_grow_it(
        tmp_path: object) -> None:
    """A read is a read: a desk whose table holds one row shows the slab's three sensors,
    two of them never stepped, as learning, and its table is no larger after."""
    from twinsync.service.twin_models import TwinModelDesk

    service = await open_slab(f"sqlite:///{tmp_path}/twin.sqlite")
    try:
        desk = TwinModelDesk(service, tracker=LevelTrendTracker(capacity=1))
        rows = len(desk.tracker.columns["count"])
        assert max(service.sensor_row(s) for s in SENSORS) >= rows
        shown = await desk.of_element("slab-1")
        assert [s["state"] for s in shown["sensors"]] == ["learning"] * 3
        assert all(s["readings"] == 0 for s in shown["sensors"])
        assert len(desk.tracker.columns["count"]) == rows
    finally:
        await service.aclose()
