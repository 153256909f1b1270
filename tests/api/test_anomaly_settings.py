"""The anomaly thresholds are settings (``twinsync.toml``): the score from which a reading
is an ``anomaly`` event, the score from which it also raises its sensor's alarm, and how
long an alarm stays without a further anomaly. Each reaches the service's monitor and
decides what a site-wide departure tells and raises."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from twinsync.api.app import create_app
from twinsync.cli.token_cmd import create_token
from twinsync.config import Settings
from twinsync.tokens import Role

from .conftest import seeded_store
from .test_anomaly_storm import departure


def run_departure(tmp_path: Path, settings: str, *, within: bool = False,
                  ) -> tuple[Any, list[dict[str, Any]], list[dict[str, Any]]]:
    """The departure of every slab logger, unmarked, under the given settings: the
    monitor, the anomaly events told and the anomaly alarms active. ``within``: to a
    level each logger has met, never at this hour, which scores below 1 (a departure
    beyond the range learned scores up to 1, which no threshold is above)."""
    url = seeded_store(tmp_path)
    secret, _ = create_token(url, "tests admin", Role.ADMIN)
    headers = {"Authorization": f"Bearer {secret}"}
    config = tmp_path / "twinsync.toml"
    config.write_text(f'store = "{url}"\n{settings}')
    with TestClient(create_app(Settings.load(config))) as client:
        monitor = client.app.state.service.anomalies.monitor  # type: ignore[attr-defined]
        assert departure(client, headers, expected=False, within=within) == 12
        told = client.get("/api/events", headers=headers,
                          params={"kind": "anomaly", "limit": 1000}).json()["events"]
        alarms = [alarm for alarm in client.get("/api/alarms", headers=headers).json()
                  ["alarms"] if alarm["key"].startswith("anomaly:")]
    return monitor, told, alarms


def test_by_default_every_departed_logger_tells_an_event_and_raises_its_alarm(
        tmp_path: Path) -> None:
    monitor, told, alarms = run_departure(tmp_path, "")
    assert (monitor.event_at, monitor.alarm_at, monitor.clear_after) == (0.33, 0.6, 21600.0)
    assert len(told) == 12
    assert len({alarm["key"] for alarm in alarms}) == 12


def test_an_alarm_score_above_every_reading_s_score_tells_events_and_raises_no_alarm(
        tmp_path: Path) -> None:
    # (An event from 0.25: the departure within the range scores a third to two thirds,
    # its calm readings less than a tenth.)
    monitor, told, alarms = run_departure(
        tmp_path, "anomaly_event_score = 0.25\nanomaly_alarm_score = 1.0\n"
        "anomaly_alarm_clear_seconds = 600\n", within=True)
    assert (monitor.event_at, monitor.alarm_at, monitor.clear_after) == (0.25, 1.0, 600.0)
    assert max(event["data"]["score"] for event in told) < 1.0
    assert len(told) == 12 and alarms == []


def test_an_event_score_of_one_tells_nothing_of_the_departure(tmp_path: Path) -> None:
    monitor, told, alarms = run_departure(
        tmp_path, "anomaly_event_score = 1.0\nanomaly_alarm_score = 1.0\n", within=True)
    assert monitor.event_at == 1.0
    assert told == [] and alarms == []
