"""A restarted service keeps what it learned about each sensor's health, and starts afresh,
saying why, when the saved health cannot be used."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import numpy as np
import pytest

from twinsync.health import snapshot
from twinsync.model import Binding, Element, Sensor
from twinsync.pipeline import IncomingBatch, RawReading
from twinsync.service import TwinService
from twinsync.service.twin_service import HEALTH_SNAPSHOT

from ..health.test_snapshot import rewritten

STEP = 900.0
START = 1_767_225_600.0
SENSORS = ["t-0", "t-1", "t-2"]


def readings(slots: int, seed: int = 4) -> np.ndarray:
    """Three peers of one slab's temperature, every 15 minutes; t-0 frozen from slot 240."""
    rng = np.random.default_rng(seed)
    hours = np.arange(slots) * STEP / 3600
    truth = 20 + 2 * np.sin(2 * np.pi * hours / 24)
    values = np.round(truth + rng.normal(0, 0.05, (3, slots)), 2)
    values[0, 240:] = values[0, 239]
    return values


async def open_slab(url: str) -> TwinService:
    service = TwinService.open(url)
    if not service.twin.sensors:
        await service.import_project(
            [Element("slab-1", "IfcSlab")],
            [Sensor(s, "temperature", "degC", 900.0, resolution=0.01) for s in SENSORS],
            [Binding(s, "slab-1", "core_temperature") for s in SENSORS])
    return service


async def ingest(service: TwinService, values: np.ndarray, slots: range) -> None:
    for k in slots:
        at = START + k * STEP
        await service.ingest(IncomingBatch(
            [RawReading(s, float(values[i, k]), at + i) for i, s in enumerate(SENSORS)],
            "test", at + 10.0))


def health_columns(service: TwinService) -> dict[str, np.ndarray]:
    table = service.health.table
    return {name: table.column(name)[:3].copy() for name in table.column_names()}


async def test_a_stuck_sensor_is_still_stuck_after_a_restart_with_its_baselines_kept(
        tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'twin.sqlite'}"
    values = readings(300)
    service = await open_slab(url)
    await ingest(service, values, range(290))
    assert service.sensor_health("t-0")["state"] == "stuck"
    before = health_columns(service)
    quality = service.quality(0)
    await service.aclose()

    reopened = await open_slab(url)
    try:
        assert reopened.sensor_health("t-0")["state"] == "stuck"
        assert reopened.quality(0) == quality
        after = health_columns(reopened)
        for name, column in before.items():
            np.testing.assert_array_equal(after[name], column, err_msg=name)
        # Readings go on from the learned state: still stuck, nothing relearned.
        await ingest(reopened, values, range(290, 300))
        assert reopened.sensor_health("t-0")["state"] == "stuck"
        assert reopened.health.table.sigma_n[1] > 96
        assert reopened.health.table.count[1] == 300
    finally:
        await reopened.aclose()


@pytest.mark.parametrize("damage", ["garbage", "older column set"])
async def test_a_saved_health_that_cannot_be_used_is_refused_and_health_starts_afresh(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, damage: str) -> None:
    url = f"sqlite:///{tmp_path / 'twin.sqlite'}"
    values = readings(300)
    service = await open_slab(url)
    await ingest(service, values, range(100))
    body = snapshot.dump(service.health, service.pipeline.table.ids)
    await service.aclose()
    if damage == "garbage":
        body = b"PK\x03\x04 not a zip at all"
    else:
        # What an older twinsync, without the fast noise estimate, would have saved.
        body = rewritten(body, drop="noise_fast")
    store = TwinService.open(url).store
    store.save_snapshot(HEALTH_SNAPSHOT, body)
    store.close()

    with caplog.at_level(logging.WARNING, logger="twinsync.service.twin_service"):
        reopened = await open_slab(url)
    try:
        assert "saved sensor health not used" in caplog.text
        assert reopened.health.table.count[:3].tolist() == [0, 0, 0]
        await ingest(reopened, values, range(100, 120))
        assert reopened.health.table.count[:3].tolist() == [20, 20, 20]
    finally:
        await reopened.aclose()


async def test_the_watch_saves_health_on_its_timer(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'twin.sqlite'}"
    service = TwinService.open(url, health_save_every=0.0)
    try:
        await service.import_project(
            [Element("slab-1", "IfcSlab")], [Sensor("t-0", "temperature", "degC")],
            [Binding("t-0", "slab-1", "core_temperature")])
        await ingest_one(service)
        assert service.store.load_snapshot(HEALTH_SNAPSHOT) is None
        service.watch.interval = 0.01
        await service.start_background()
        for _ in range(200):
            if service.store.load_snapshot(HEALTH_SNAPSHOT) is not None:
                break
            await asyncio.sleep(0.01)
        body = service.store.load_snapshot(HEALTH_SNAPSHOT)
        assert body is not None
        fresh = TwinService.open("sqlite://:memory:").health
        assert snapshot.load(fresh, body, ["t-0"]) == 1
        assert fresh.table.count[0] == 1
    finally:
        await service.aclose()


async def ingest_one(service: TwinService) -> None:
    await service.ingest(IncomingBatch([RawReading("t-0", 21.0, START)], "test", START + 1))


async def test_lost_and_duplicate_counts_survive_a_restart(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'twin.sqlite'}"
    service = TwinService.open(url)
    await service.add_sensor(Sensor("gap", "temperature", "degC"))
    now = time.time()
    # Numbers 0-4 and 8-9: three lost; then 9 again: one duplicate.
    numbers = [0, 1, 2, 3, 4, 8, 9]
    await service.ingest(IncomingBatch([RawReading("gap", 20.0 + n, now - 20 + n, None, n)
                                        for n in numbers], "gw", now))
    await service.ingest(IncomingBatch([RawReading("gap", 29.0, now - 11, None, 9)], "gw",
                                       now))
    before = service.sensor_health("gap")
    assert (before["lost"], before["duplicates"]) == (3, 1)
    await service.aclose()
    reopened = TwinService.open(url)
    try:
        after = reopened.sensor_health("gap")
        assert (after["lost"], after["duplicates"]) == (3, 1)
    finally:
        await reopened.aclose()
