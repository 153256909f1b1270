"""Live values reach subscribers promptly after a quiet spell, and at a bounded pace while
they keep moving, as columns that say what each sensor read."""

from __future__ import annotations

import asyncio
import time

import numpy as np
import orjson
import pytest

from twinsync.pipeline import IncomingBatch, RawReading
from twinsync.service import TwinService
from twinsync.service.publisher import Publisher


async def _next_delta(queue: asyncio.Queue[object], timeout: float) -> dict[str, object]:
    message = await asyncio.wait_for(queue.get(), timeout)
    assert isinstance(message, str)  # encoded once for every subscriber of everything
    decoded: dict[str, object] = orjson.loads(message)
    return decoded


async def _reading(service: TwinService, value: float, seq: int) -> None:
    await service.ingest(IncomingBatch(
        [RawReading("L1-room2-temp", value, time.time(), None, seq)], "test", time.time(),
        "test"))


async def test_a_change_after_a_quiet_spell_goes_out_at_once_then_at_most_one_a_pause(
        service: TwinService) -> None:
    await service.publisher.stop()
    # A pause far longer than the test: only the wake-up on the first change can send it.
    service.publisher = Publisher(service, interval=30.0)
    service.publisher.start()
    await _reading(service, 20.0, 1)  # compiled code loaded before the clock matters
    subscriber = service.hub.subscribe()
    subscriber.everything = True
    try:
        await _reading(service, 21.0, 2)
        # Well before the 30 s pause could have passed: only the wake-up sends it.
        first = await _next_delta(subscriber.queue, timeout=15.0)
        moved = first["properties"]
        assert isinstance(moved, dict)
        assert moved["sensor_id"] == ["L1-room2-temp"] and moved["sensor_value"] == [21.0]
        assert isinstance(first["committed_at"], float)
        # Still moving within the pause: held back and coalesced, not sent at once.
        await _reading(service, 22.0, 3)
        await _reading(service, 23.0, 4)
        await asyncio.sleep(0.5)
        assert subscriber.queue.empty()
        # What is held is pushed whole, the newest value only, when asked to.
        assert await service.publisher.flush() == 1
        second = await _next_delta(subscriber.queue, timeout=1.0)
        assert isinstance(second["properties"], dict)
        assert second["properties"]["sensor_value"] == [23.0]
    finally:
        service.hub.unsubscribe(subscriber)


async def test_a_delta_that_cannot_be_built_does_not_fail_the_committed_batch(
        service: TwinService, monkeypatch: pytest.MonkeyPatch) -> None:
    await service.publisher.stop()
    service.publisher = publisher = Publisher(service, interval=30.0)
    publisher.start()
    await _reading(service, 20.0, 1)
    subscriber = service.hub.subscribe()
    subscriber.everything = True
    build = publisher.changes_of
    failures: list[int] = []

    def broken(rows: np.ndarray) -> object:  # type: ignore[type-arg]
        failures.append(rows.size)
        raise RuntimeError("a bug in building the delta")

    try:
        monkeypatch.setattr(publisher, "changes_of", broken)
        await _reading(service, 21.0, 2)  # accepted: no exception reaches the ingest
        assert failures
        monkeypatch.setattr(publisher, "changes_of", build)
        # The marks were kept: the value still reaches the subscriber.
        await publisher.flush()
        message = await _next_delta(subscriber.queue, timeout=15.0)
        moved = message["properties"]
        assert isinstance(moved, dict) and moved["sensor_value"] == [21.0]
        assert service.sensor_snapshot("L1-room2-temp")["value"] == 21.0
    finally:
        service.hub.unsubscribe(subscriber)
