"""Health, sources, time sync, alarms and metrics over HTTP."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient


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
    assert -12.5 < learned["synced_offset"] < -11.5
    assert learned["round_trip"] >= 0


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
