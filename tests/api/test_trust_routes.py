"""Health, sources, time sync, alarms and metrics over HTTP."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient

from twinsync.api.app import create_app
from twinsync.config import Settings
from twinsync.tokens import Role

from .conftest import bearer, seeded_store


def test_sensor_health_and_the_fleet_summary(client: TestClient) -> None:
    now = time.time()
    client.post("/api/readings", json=[{"sensor_id": "L0-room1-temp", "value": 20.0 + i * 0.1,
                                        "time": now - 20 + i, "seq": i} for i in range(20)])
    health = client.get("/api/sensors/L0-room1-temp/health").json()
    assert health["state"] in ("ok", "stale")
    assert 0.0 <= health["quality"] <= 1.0
    assert health["lost"] == 0 and health["duplicates"] == 0
    fleet = client.get("/api/health").json()
    assert sum(fleet["summary"].values()) == 50
    assert fleet["readings"]["accepted"] == 20


def test_sources_show_clock_offset_and_latency(client: TestClient) -> None:
    now = time.time()
    client.post("/api/readings", headers={"x-twinsync-source": "gateway-7"},
                json=[{"sensor_id": "L0-room1-temp", "value": 20.0, "time": now + 45}])
    [source] = [s for s in client.get("/api/sources").json()["sources"]
                if s["source"] == "gateway-7"]
    assert 44 < source["clock_offset"] < 46
    assert source["latency"]["receive"]["samples"] == 1
    assert source["latency"]["commit"]["p50"] is not None


def test_time_sync_exchange_teaches_a_source_its_offset(client: TestClient) -> None:
    t0 = time.time() - 12.0  # a device 12 s behind
    answer = client.get("/api/time", params={"t0": t0}).json()
    t3 = time.time() - 12.0
    learned = client.post("/api/time", json={"source": "dev-1", "t0": t0, "t1": answer["t1"],
                                              "t2": answer["t2"], "t3": t3}).json()
    assert learned["round_trip"] >= 0
    # An exchange knows the offset to within half its round trip (the path's asymmetry
    # is unknown), however slow the machine that runs the test.
    assert abs(learned["synced_offset"] + 12.0) <= learned["round_trip"] / 2 + 1e-3
    assert learned["round_trip"] < 5.0


def test_metrics_are_served_in_prometheus_text_format(client: TestClient) -> None:
    client.post("/api/readings", json=[{"sensor_id": "L0-room1-temp", "value": 20.0,
                                        "time": time.time() - 1},
                                       {"sensor_id": "nobody", "value": 1.0}])
    text = client.get("/metrics").text
    assert 'twinsync_readings_total{outcome="accepted"} 1.0' in text
    assert "twinsync_dead_letters_total 1.0" in text
    assert "twinsync_latency_seconds" in text
    assert 'twinsync_sensors{state="ok"}' in text


def test_acknowledging_an_unknown_alarm_is_not_found(client: TestClient) -> None:
    assert client.get("/api/alarms").json() == {"alarms": []}
    assert client.post("/api/alarms/nothing/ack", json={"by": "me"}).status_code == 404


def test_a_device_syncs_its_own_clock_and_its_readings_are_placed_by_it(
        tmp_path: Path) -> None:
    url = seeded_store(tmp_path)
    device = bearer(url, Role.DEVICE, sensors=("L0-*",))
    admin = bearer(url)
    with TestClient(create_app(Settings(store=url))) as client:
        t0 = time.time() - 30.0  # a device whose clock runs 30 s behind
        answer = client.get("/api/time", params={"t0": t0}, headers=device)
        assert answer.status_code == 200
        t1, t2 = answer.json()["t1"], answer.json()["t2"]
        assert answer.json()["t0"] == t0 and t1 <= t2 <= time.time()
        exchange = {"t0": t0, "t1": t1, "t2": t2, "t3": time.time() - 30.0}
        # Another source's clock is not a device's to move.
        other = client.post("/api/time", json={**exchange, "source": "gateway-7"},
                            headers=device)
        assert other.status_code == 403 and other.json()["error"] == "source_not_yours"
        learned = client.post("/api/time", json=exchange, headers=device)
        assert learned.status_code == 200, learned.text
        assert learned.json()["source"] == "device:tests device"
        # An exchange places a clock within half its round trip (the time the server did
        # not hold the request): on a loaded machine that may be more than a second.
        round_trip = (exchange["t3"] - t0) - (t2 - t1)
        assert abs(learned.json()["synced_offset"] + 30.0) <= round_trip / 2 + 0.01
        # Its readings, stamped by its slow clock, are placed on the twin's time.
        stamped = time.time() - 30.0
        posted = client.post("/api/readings", headers=device, json=[
            {"sensor_id": "L0-room1-temp", "value": 21.0, "time": stamped}])
        assert posted.status_code == 200, posted.text
        history = client.get("/api/sensors/L0-room1-temp/readings", headers=admin,
                             params={"start": stamped - 60}).json()
        [placed] = history["time"]
        assert abs(placed - (stamped + 30.0)) < 1.0 + round_trip / 2


def test_a_clock_exchange_must_carry_this_servers_recent_times(tmp_path: Path) -> None:
    url = seeded_store(tmp_path)
    device = bearer(url, Role.DEVICE, sensors=("L0-*",))
    with TestClient(create_app(Settings(store=url)), headers=device) as client:
        now = time.time()
        # A t2 in the future would keep the sync "recent" for ever; an old one is a replay.
        for t1, t2 in ((now, now + 3600.0), (now - 3600.0, now - 3599.0), (now, now - 1.0)):
            refused = client.post("/api/time", json={"t0": now, "t1": t1, "t2": t2,
                                                     "t3": now + 0.01})
            assert refused.status_code == 422 and refused.json()["error"] == "bad_time_sync"
        assert client.get("/api/sources", headers=device).status_code == 403
