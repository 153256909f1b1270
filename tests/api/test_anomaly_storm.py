"""The fleet's budget of anomaly events is a setting (``twinsync.toml``): it reaches the
service's monitor and decides whether a site-wide departure storms, and the storm is read
back from the events API, newest first, as the dashboard reads it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.departures import departure as planted

from twinsync.api.app import create_app
from twinsync.cli.token_cmd import create_token
from twinsync.config import Settings
from twinsync.tokens import Role

from .conftest import seeded_store


def departure(client: TestClient, headers: dict[str, str], *, expected: bool = True,
              within: bool = False) -> int:
    """Every slab logger of the demo: days of a regular course past the detector's learning
    (``tests.departures``), then 6
    degrees high, inside a span marked expected for every slab (a pour: events, no
    alarms, so the budget decides what is told; ``expected=False``: no span, so alarms
    are raised too; ``within``: to a level each has met, never at this hour, scoring
    below 1: ``tests.departures.departure``). The number of loggers."""
    slabs = client.get("/api/elements", params={"type": "IfcSlab"},
                       headers=headers).json()["elements"]
    sensors = [s["id"] for slab in slabs for s in slab["sensors"]]
    now = time.time()
    for slab in slabs:
        if slab["sensors"] and expected:
            marked = client.post("/api/anomalies/expected", headers=headers, json={
                "element_id": slab["id"], "start": now - 600, "end": now + 60,
                "reason": "pour of every slab"})
            assert marked.status_code == 201, marked.text
    readings = planted(sensors, now, within=within)
    answer = client.post("/api/readings", json=readings, headers=headers)
    assert answer.json()["accepted"] == len(readings), answer.text
    return len(sensors)


@pytest.mark.parametrize("budget", [2, None], ids=["budget-2", "default"])
def test_the_fleet_budget_set_in_the_file_reaches_the_monitor_and_decides_the_storm(
        tmp_path: Path, budget: int | None) -> None:
    url = seeded_store(tmp_path)
    secret, _ = create_token(url, "tests admin", Role.ADMIN)
    headers = {"Authorization": f"Bearer {secret}"}
    config = tmp_path / "twinsync.toml"
    config.write_text(f'store = "{url}"\nanomaly_event_quiet_seconds = 1800\n'
                      + (f"anomaly_fleet_events = {budget}\n" if budget else ""))
    with TestClient(create_app(Settings.load(config))) as client:
        monitor = client.app.state.service.anomalies.monitor  # type: ignore[attr-defined]
        assert (monitor.fleet_events, monitor.event_quiet) == (budget or 1000, 1800.0)
        loggers = departure(client, headers)
        storms = client.get("/api/events", headers=headers, params={
            "kind": "anomaly_storm", "newest_first": "true", "limit": 1}).json()["events"]
        told = client.get("/api/events", headers=headers,
                          params={"kind": "anomaly", "limit": 1000}).json()["events"]
    assert loggers == 12
    if budget is None:  # twelve anomalies are far below a thousand
        assert storms == [] and len(told) == loggers
        return
    (storm,) = storms
    assert storm["element_id"] is None and len(told) == budget
    assert (storm["data"]["told"], storm["data"]["untold"]) == (budget, loggers - budget)
    assert storm["data"]["until"] - storm["data"]["since"] == 1800.0
