"""Fixtures for the ingest tests: a real TwinService on a SQLite file, with sensors."""

from __future__ import annotations

import math
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from twinsync.model import Sensor
from twinsync.service import TwinService
from twinsync.store import Store

SENSORS = [f"s-{i}" for i in range(10)]


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'twin.db'}"


@pytest.fixture
async def service(store_url: str) -> AsyncIterator[TwinService]:
    twin = TwinService.open(store_url)
    for sensor_id in SENSORS:
        await twin.add_sensor(Sensor(sensor_id, "temperature", "degC"))
    yield twin
    await twin.aclose()


@pytest.fixture
def run_id() -> str:
    """Unique per test: topics and client ids must not meet other runs on the broker."""
    return uuid.uuid4().hex[:10]


def stored_pairs(store: Store) -> list[tuple[str, int]]:
    """(sensor id, seq) of every stored reading, duplicates included, via the Store API."""
    _, sensors, _ = store.load_twin()
    return [(sensor.id, seq) for row, sensor in sensors
            for seq in store.history(row, 0.0, math.inf, limit=10_000_000).seq.tolist()]
