"""A storm of anomalies going on when the service stops goes on after it starts again: its
window is taken up from the store's newest ``anomaly_storm``, so that its end and final
count are told when its window has passed; a storm already told ended is not taken up."""

from __future__ import annotations

from pathlib import Path

from twinsync.model import Sensor
from twinsync.service import TwinService

from .test_anomaly_storm_clocks import BUDGET, FLEET, GATEWAY, HOUR, MINUTE, START, feed, learned


async def stormed(url: str) -> None:
    """A fleet of ten sensors (and a gateway's two, silent), a budget of three: one minute of
    anomalies, seven kept."""
    service = TwinService.open(url)
    try:
        for sensor in FLEET + GATEWAY:
            await service.add_sensor(Sensor(sensor, "temperature", "degC", MINUTE))
        service.anomalies.monitor = learned(service)
        await feed(service, FLEET, "site", START, 1.8, START + 1.0)
        (storm,) = service.store.events(kind="anomaly_storm", limit=10)
        assert (storm.data["told"], storm.data["untold"]) == (BUDGET, len(FLEET) - BUDGET)
    finally:
        await service.aclose()


async def test_a_storm_going_on_at_a_restart_is_told_ended_with_its_count_after_it(
        tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'twin.sqlite'}"
    await stormed(url)
    service = TwinService.open(url)
    try:
        monitor = service.anomalies.monitor
        assert (monitor.fleet_start, monitor.fleet_untold) == (START + 1.0, len(FLEET) - BUDGET)
        # Within its window nothing ends it; the first batch after it does, once.
        await feed(service, FLEET, "site", START + MINUTE, 1.5, START + 1.0 + MINUTE)
        assert service.store.events(kind="anomaly_storm_ended", limit=10) == []
        for k in (1, 2):
            await feed(service, FLEET, "site", START + HOUR + k * MINUTE, 1.5,
                       START + 1.0 + HOUR + k * MINUTE)
        (ended,) = service.store.events(kind="anomaly_storm_ended", limit=10)
        assert ended.data["since"] == START + 1.0 and ended.data["until"] == START + 1.0 + HOUR
        assert (ended.data["told"], ended.data["untold"]) == (BUDGET, len(FLEET) - BUDGET)
    finally:
        await service.aclose()


async def test_a_storm_told_ended_before_the_stop_is_not_taken_up_again(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'twin.sqlite'}"
    await stormed(url)
    service = TwinService.open(url)
    try:
        await feed(service, FLEET, "site", START + HOUR + MINUTE, 1.5, START + 1.0 + HOUR + 60)
        assert len(service.store.events(kind="anomaly_storm_ended", limit=10)) == 1
    finally:
        await service.aclose()
    service = TwinService.open(url)
    try:
        assert service.anomalies.monitor.fleet_untold == 0
        await feed(service, FLEET, "site", START + 3 * HOUR, 1.5, START + 3 * HOUR + 1.0)
        assert len(service.store.events(kind="anomaly_storm_ended", limit=10)) == 1
    finally:
        await service.aclose()
