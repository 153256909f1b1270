"""Rate limits per token: past its requests or readings a second a token is answered 429
with Retry-After and nothing of the request is kept; other tokens go on."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient

from twinsync.api.app import create_app
from twinsync.config import Settings
from twinsync.demo import demo_project
from twinsync.tokens import Role

from .conftest import bearer, seeded_store


def test_a_token_past_its_requests_a_second_waits_and_another_token_does_not(
        tmp_path: Path) -> None:
    url = seeded_store(tmp_path)
    with TestClient(create_app(Settings(store=url, rate_requests=5.0))) as client:
        busy, other = bearer(url, Role.VIEWER), bearer(url, Role.VIEWER)
        answers = [client.get("/api/elements", headers=busy) for _ in range(25)]
        codes = [a.status_code for a in answers]
        assert codes[:20] == [200] * 20  # the burst: twice the rate, at least 20
        limited = next(a for a in answers if a.status_code == 429)
        assert limited.json()["error"] == "rate_limited"
        assert int(limited.headers["Retry-After"]) >= 1
        assert client.get("/api/elements", headers=other).status_code == 200
        time.sleep(0.5)  # two and a half requests' worth refilled
        assert client.get("/api/elements", headers=busy).status_code == 200


def test_a_device_past_its_readings_a_second_keeps_nothing_of_the_next_batch(
        tmp_path: Path) -> None:
    url = seeded_store(tmp_path)
    sensor = demo_project().sensors[0].id
    with TestClient(create_app(Settings(store=url, rate_readings=10.0))) as client:
        device = bearer(url, Role.DEVICE, sensors=[sensor])
        now = time.time()
        big = [{"sensor_id": sensor, "value": 20.0, "time": now - 100 + i * 0.1}
               for i in range(500)]
        # Larger than the burst (20): taken once, then the token owes 480 readings.
        assert client.post("/api/readings", json=big, headers=device).json()["accepted"] == 500
        late = [{"sensor_id": sensor, "value": 21.0, "time": now}]
        refused = client.post("/api/readings", json=late, headers=device)
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) >= 30  # 480 readings at 10 a second
        stored = client.get(f"/api/sensors/{sensor}/readings",
                            headers=bearer(url, Role.VIEWER)).json()
        assert 21.0 not in stored["value"] and len(stored["value"]) == 500


def test_a_batch_refused_as_too_large_costs_its_token_no_rate(tmp_path: Path) -> None:
    url = seeded_store(tmp_path)
    sensor = demo_project().sensors[0].id
    settings = Settings(store=url, rate_readings=10.0, max_readings=100)
    with TestClient(create_app(settings)) as client:
        device = bearer(url, Role.DEVICE, sensors=[sensor])
        now = time.time()
        batch = [{"sensor_id": sensor, "value": 20.0, "time": now - 100 + i * 0.1}
                 for i in range(150)]
        assert client.post("/api/readings", json=batch, headers=device).status_code == 413
        # Split as the 413 asks: the first part passes (the burst is 20 readings).
        part = client.post("/api/readings", json=batch[:10], headers=device)
        assert part.status_code == 200 and part.json()["accepted"] == 10
