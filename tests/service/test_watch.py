"""A silent sensor goes stale and then offline with no reading arriving, and raises an
alarm that clears when it speaks again."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import pytest

from twinsync.model import Binding, Element, Event, Sensor
from twinsync.pipeline import IncomingBatch, RawReading
from twinsync.service import TwinService, twin_service
from twinsync.service.watch import Watch


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_a_silent_sensor_goes_stale_then_offline_and_back_once_regular(
        tmp_path: Path) -> None:
    clock = Clock(time.time())
    service = TwinService.open(f"sqlite:///{tmp_path / 't.sqlite'}", clock=clock)
    try:
        await service.import_project([Element("slab", "IfcSlab")],
                                     [Sensor("t", "temperature", "degC", expected_interval=60)],
                                     [Binding("t", "slab", "core_temperature")])
        start = clock.now
        # Two deliveries a minute apart: the sensor has shown its pace, so its silence is
        # judged on it (a sensor heard from once is named only offline).
        readings = [RawReading("t", 20.0 + (i % 3) * 0.1, start - 600 + 60 * i, None, i)
                    for i in range(11)]
        await service.ingest(IncomingBatch(readings[:10], "gw", start - 60))
        await service.ingest(IncomingBatch(readings[10:], "gw", start))
        assert service.sensor_health("t")["state"] == "ok"

        states = []
        for minutes in (2, 5, 20, 90):
            clock.now = start + minutes * 60
            await service.watch.check()
            states.append(service.sensor_health("t")["state"])
        assert "stale" in states and states[-1] == "offline"
        assert "health:t" in service.alarms.active
        assert service.alarms.active["health:t"].severity == "critical"
        kinds = [e.kind for e in service.store.events(kind="health_changed", limit=100)]
        assert kinds and all(k == "health_changed" for k in kinds)

        clock.now += 1
        await service.ingest(IncomingBatch([RawReading("t", 20.1, clock.now, None, 11)], "gw",
                                           clock.now))
        # Back, but named (stale, no alarm) until it has come regularly for an hour.
        assert service.sensor_health("t")["state"] == "stale"
        assert "health:t" not in service.alarms.active
        for i in range(12, 12 + 62):
            clock.now += 60
            await service.ingest(IncomingBatch([RawReading("t", 20.1, clock.now, None, i)],
                                               "gw", clock.now))
        assert service.sensor_health("t")["state"] == "ok"
    finally:
        await service.aclose()


async def test_active_alarms_survive_a_restart(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 't.sqlite'}"
    service = TwinService.open(url)
    event = service.alarms.raise_("latency:gw", "warning", "slow", time=1.0)
    assert event is not None
    service.store.save_changes([event])
    await service.acknowledge_alarm("latency:gw", by="site engineer")
    await service.aclose()
    reopened = TwinService.open(url)
    try:
        alarm = reopened.alarms.active["latency:gw"]
        assert alarm.acknowledged_by == "site engineer"
    finally:
        await reopened.aclose()


async def test_a_slow_source_raises_a_latency_alarm_that_clears_when_it_catches_up(
        tmp_path: Path) -> None:
    clock = Clock(time.time())
    service = TwinService.open(f"sqlite:///{tmp_path / 't.sqlite'}", clock=clock,
                               latency_alarm=60.0)
    try:
        await service.import_project([Element("room", "IfcSpace")],
                                     [Sensor("t", "temperature", "degC")],
                                     [Binding("t", "room", "air_temperature")])
        now = time.time()
        # Two minutes behind: still fresh enough for the live state, too slow to be quiet.
        slow = [RawReading("t", 20.0 + i / 10, now - 120 + i * 0.1, None, i) for i in range(20)]
        await service.ingest(IncomingBatch(slow, "gw-slow", now))
        clock.now = now
        await service.watch.check()
        alarm = service.alarms.active["latency:gw-slow"]
        assert "gw-slow" in alarm.message and alarm.severity == "warning"

        # The backlog is gone; once the slow samples leave the window, the alarm clears.
        clock.now = now + 400
        fresh = [RawReading("t", 21.0, clock.now - 0.05, None, 100 + i) for i in range(50)]
        await service.ingest(IncomingBatch(fresh, "gw-slow", clock.now))
        await service.watch.check()
        assert "latency:gw-slow" not in service.alarms.active
    finally:
        await service.aclose()


async def test_stale_readings_are_kept_and_judged_but_do_not_move_the_live_value(
        tmp_path: Path) -> None:
    service = TwinService.open(f"sqlite:///{tmp_path / 't.sqlite'}", freshness=600.0)
    try:
        await service.import_project([Element("room", "IfcSpace")],
                                     [Sensor("t", "temperature", "degC")],
                                     [Binding("t", "room", "air_temperature")])
        now = time.time()
        result = await service.ingest(IncomingBatch(
            [RawReading("t", 55.0, now - 7200)], "logger", now))
        assert result.accepted == 1 and result.stale == 1
        assert service.sensor_snapshot("t")["value"] is None
        row = service.sensor_row("t")
        assert len(service.store.history(row, now - 8000, now).value) == 1
        # Judged all the same: health has seen it, in event-time order.
        assert service.health.state(row).last_reading == pytest.approx(now - 7200)
    finally:
        await service.aclose()


async def test_a_logger_that_uploads_its_buffer_hourly_is_judged_reading_by_reading(
        tmp_path: Path) -> None:
    service = TwinService.open(f"sqlite:///{tmp_path / 't.sqlite'}")
    try:
        await service.import_project([Element("slab", "IfcSlab")],
                                     [Sensor("logger", "temperature", "degC",
                                             expected_interval=60.0, resolution=0.01)],
                                     [Binding("logger", "slab", "core_temperature")])
        start = time.time() - 6 * 3600
        row = service.sensor_row("logger")
        for hour in range(5):  # five hourly uploads of a minute-by-minute buffer
            values = [30.0 + 0.2 * ((m * 7) % 5) + 0.05 * hour for m in range(60)]
            if hour == 4:
                values[30] = 48.0  # a spike in the last upload
            readings = [RawReading("logger", v, start + 3600 * hour + 60 * m, None,
                                   60 * hour + m) for m, v in enumerate(values)]
            result = await service.ingest(IncomingBatch(readings, "gw",
                                                        start + 3600 * (hour + 1) + 1200))
            assert result.stale == 60
        spike_time = start + 4 * 3600 + 60 * 30
        stored = service.store.history(row, spike_time - 1, spike_time + 1)
        assert stored.value.tolist() == [48.0]
        assert stored.quality[0] < 0.5  # the spike was judged, an hour after it happened
        assert service.health.state(row).last_reading == pytest.approx(spike_time + 29 * 60)
        # The live view still shows no value: none of it was fresh.
        assert service.sensor_snapshot("logger")["value"] is None
    finally:
        await service.aclose()


async def test_alarms_are_rebuilt_from_every_stored_event_however_many_pages(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 't.sqlite'}"
    service = TwinService.open(url)
    for k in range(5):
        event = service.alarms.raise_(f"latency:gw{k}", "warning", "slow", time=1.0 + k)
        assert event is not None
        service.store.save_changes([event])
    cleared = service.alarms.clear("latency:gw0", "caught up", time=10.0)
    assert cleared is not None
    service.store.save_changes([cleared])
    await service.aclose()
    monkeypatch.setattr(twin_service, "EVENT_PAGE", 2)
    reopened = TwinService.open(url)
    try:
        assert sorted(reopened.alarms.active) == [f"latency:gw{k}" for k in range(1, 5)]
    finally:
        await reopened.aclose()


async def test_a_round_that_finds_the_writer_busy_is_skipped_with_a_warning_not_a_traceback(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    service = TwinService.open(f"sqlite:///{tmp_path / 't.sqlite'}")
    service.writer.max_wait = 0.05
    watch = Watch(service, interval=0.01)
    try:
        checked = 0
        original = watch.check

        async def counted() -> list[Event]:
            nonlocal checked
            events = await original()
            checked += 1
            return events

        watch.check = counted  # type: ignore[method-assign]
        with caplog.at_level(logging.WARNING, logger="twinsync.service.watch"):
            # A write that holds the writer past the rounds' wait, as a long import does.
            busy = asyncio.ensure_future(service.writer.write(time.sleep, 0.3))
            watch.start()
            await busy
            for _ in range(200):
                if checked:
                    break
                await asyncio.sleep(0.01)
            await watch.stop()
        skipped = [r for r in caplog.records if "skipped" in r.getMessage()]
        assert skipped and all(r.levelno == logging.WARNING and r.exc_info is None
                               for r in skipped)
        assert "waited" in skipped[0].getMessage()
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert checked, "the watch went on after the busy writer"
    finally:
        await service.aclose()
