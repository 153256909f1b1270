"""The fleet's budget of anomaly events through the real service when one gateway's clock
is an hour off the others: the budget is one window of arrival time, so readings stamped
an hour behind or ahead of the rest open no second window, do not double the budget, and
the storm's count holds every anomaly kept."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from twinsync.analytics import AnomalyMonitor
from twinsync.analytics.zscore import ZScoreDetector
from twinsync.model import Event, Sensor
from twinsync.pipeline import IncomingBatch, RawReading
from twinsync.service import TwinService

START = 1_767_225_600.0  # 2026-01-01
MINUTE = 60.0
HOUR = 3600.0
LEARNED = 60  # readings a sensor learned, a minute apart, before the fleet leaves them
FLEET = [f"site-{k}" for k in range(10)]
GATEWAY = ["gw-0", "gw-1"]
BUDGET = 3


async def feed(service: TwinService, sensors: list[str], source: str, stamp: float,
               value: float, received: float) -> None:
    """One reading of each of ``sensors`` from ``source``, stamped ``stamp`` on its clock."""
    result = await service.ingest(IncomingBatch(
        [RawReading(s, value, stamp) for s in sensors], source, received))
    assert result.accepted == len(sensors)


def learned(service: TwinService) -> AnomalyMonitor:
    """A monitor whose plain detector learned an hour of every sensor reading 1 and 2 by
    turns (taught directly, as the monitor's own tests do: through the service each of
    those readings would score): 1.8 then scores a mild anomaly (no alarm, which would be
    told whatever the budget), 1.5 nothing. And a small budget."""
    detector = ZScoreDetector(warmup=20)
    index = service.pipeline.table.index
    rows = np.repeat(np.array([index[s] for s in FLEET + GATEWAY], dtype=np.int64), LEARNED)
    detector.learn_many(rows, {"time": np.tile(MINUTE * np.arange(LEARNED), 12),
                               "value": np.tile([1.0, 2.0], rows.size // 2)})
    return AnomalyMonitor(detector, fleet_events=BUDGET)


def anomalous_readings(service: TwinService) -> int:
    """Readings stored with a score at the event threshold, over every sensor."""
    table = service.pipeline.table
    total = 0
    for sensor in FLEET + GATEWAY:
        history = service.store.history(table.index[sensor], 0.0, 4e9)
        total += int(np.count_nonzero(history.anomaly >= service.anomalies.monitor.event_at))
    return total


@pytest.mark.parametrize(("fleet_offset", "gateway_offset", "gateway_first"), [
    # The gateway an hour behind sends first: its readings would open the window an hour
    # early, and the fleet's, an hour after that start, a second one at once.
    (0.0, -HOUR, True),
    # The fleet's clocks an hour behind (uncorrectable one way), the gateway's right: its
    # readings are an hour ahead of the window the fleet opened.
    (-HOUR, 0.0, False),
    # The gateway an hour behind sends last: its readings are before the window.
    (0.0, -HOUR, False),
], ids=["behind-first", "ahead-of-the-window", "behind-last"])
async def test_a_gateway_an_hour_off_opens_no_second_window_nor_doubles_the_budget(
        tmp_path: Path, fleet_offset: float, gateway_offset: float,
        gateway_first: bool) -> None:
    service = TwinService.open(f"sqlite:///{tmp_path / 'twin.sqlite'}")
    try:
        for sensor in FLEET + GATEWAY:
            await service.add_sensor(Sensor(sensor, "temperature", "degC", MINUTE))
        service.anomalies.monitor = learned(service)
        (before,) = service.store.recent_events(limit=1) or [Event("none", 0.0, seq=0)]
        # Every sensor leaves its values in the same minute of arrival, both sources.
        now = START + 1.0
        order = [("gw", GATEWAY, gateway_offset), ("site", FLEET, fleet_offset)]
        if not gateway_first:
            order.reverse()
        for second, (source, sensors, offset) in enumerate(order):
            await feed(service, sensors, source, START + offset, 1.8, now + second)
        # The window passes: the next readings (calm) end its storm.
        for k in (1, 2):
            await feed(service, FLEET, "site", START + HOUR + MINUTE * k + fleet_offset, 1.5,
                       now + HOUR + MINUTE * k)
            await feed(service, GATEWAY, "gw", START + HOUR + MINUTE * k + gateway_offset,
                       1.5, now + HOUR + MINUTE * k)
        events = service.store.events(after=before.seq or 0, limit=10_000)
        kinds = [event.kind for event in events]
        anomalies = anomalous_readings(service)
        assert anomalies == len(FLEET + GATEWAY)  # one each, none kept by a quiet time
        assert kinds.count("anomaly") == BUDGET
        # Mild anomalies: no anomaly alarm (health names the clock an hour behind).
        assert not [key for key in service.alarms.active if key.startswith("anomaly:")]
        storms = [e for e in events if e.kind == "anomaly_storm"]
        (ended,) = [e for e in events if e.kind == "anomaly_storm_ended"]
        assert len(storms) == 1 and storms[0].element_id is None
        assert storms[0].data["since"] == ended.data["since"] == now
        assert ended.data["until"] == now + HOUR
        assert (ended.data["told"], ended.data["untold"]) == (BUDGET, anomalies - BUDGET)
        # Every anomaly kept is counted on its sensor too, to be told with its next event.
        monitor = service.anomalies.monitor
        assert int(monitor.untold[: len(FLEET + GATEWAY)].sum()) == anomalies - BUDGET
    finally:
        await service.aclose()
