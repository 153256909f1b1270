"""A device whose clock runs an hour ahead, through the live ingest path: the pipeline
places its readings right, and health names its clock."""

from __future__ import annotations

import time
from pathlib import Path

from twinsync.model import Sensor
from twinsync.pipeline import IncomingBatch, RawReading
from twinsync.service import TwinService


async def test_a_device_set_an_hour_ahead_is_placed_right_and_named_clock(
        tmp_path: Path) -> None:
    service = TwinService.open(f"sqlite:///{tmp_path / 'twin.sqlite'}")
    try:
        await service.add_sensor(Sensor("gw-t", "temperature", "degC"))
        start = time.time() - 4 * 3600.0
        for k in range(240):  # a reading a minute, its clock jumping an hour ahead at 120
            at = start + 60.0 * k
            stamp = at + (3600.0 if k >= 120 else 0.0)
            batch = IncomingBatch([RawReading("gw-t", 20.0 + 0.01 * (k % 7), stamp, seq=k)],
                                  "gw", at + 0.5, "test")
            await service.ingest(batch)
        health = service.sensor_health("gw-t")
        assert health["state"] == "clock"
        assert "ahead" in health["reason"]
        # Placed right: the newest reading is stamped about now-ish on our clock, not an
        # hour into the future.
        assert health["last_reading"] is not None
        assert health["last_reading"] < start + 60.0 * 240 + 120.0
    finally:
        await service.aclose()
