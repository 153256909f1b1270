"""A property's forecast over HTTP: a slab's core temperature posted as any device posts it,
rising linearly, is forecast rising with an interval that widens with the horizon and a
threshold crossed when the line crosses it; a viewer may read it; unknown names, too few
readings and absurd parameters are refused in the one error shape."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from twinsync.config import Settings
from twinsync.tokens import Role

from .conftest import bearer, seeded_store, signed_in

ROUTE = "/api/elements/L1-slab/forecast"
#: A slab whose temperature has too few readings to fit on.
SPARSE = "/api/elements/L2-slab/forecast"
#: The slab warms 0.5 °C an hour, read every 10 minutes for a day with 0.1 °C of noise.
RATE = 0.5
EVERY = 600.0


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str, float]]:
    """An admin's client over the demo project whose level 1 slab's core temperature has a
    day of the ramp (level 2's three readings, level 3's twelve a minute apart), its
    store's URL and when the ramp was 20 °C."""
    url = seeded_store(Path(tmp_path_factory.mktemp("forecast")))
    with signed_in(Settings(store=url)) as client:
        start = post_ramp(client, "L1-slab-t1", 145, time.time())
        post_ramp(client, "L2-slab-t1", 3, time.time())
        post_ramp(client, "L3-slab-t1", 12, time.time(), every=60.0)
        yield client, url, start


def post_ramp(
    client: TestClient, sensor_id: str, count: int, now: float, every: float = EVERY
) -> float:
    """``count`` readings of the ramp, ``every`` seconds apart, ending a minute before
    ``now``; the time it is 20 °C."""
    start = now - 60.0 - every * (count - 1)
    noise = np.random.default_rng(7).normal(0.0, 0.1, count)
    readings = [
        {"sensor_id": sensor_id, "value": 20.0 + RATE * k * every / 3600 + float(noise[k]),
         "time": start + every * k, "seq": k + 1}
        for k in range(count)
    ]
    answer = client.post("/api/readings", json={"readings": readings})
    assert answer.status_code == 200 and answer.json()["accepted"] == count, answer.text
    return start


def test_a_rising_property_is_forecast_rising_and_crosses_its_threshold_on_time(
    site: tuple[TestClient, str, float],
) -> None:
    client, url, start = site
    # 33.5 °C is reached 27 h after 20 °C: 3 h after the newest reading
    threshold = 33.5
    truth = start + (threshold - 20.0) / RATE * 3600
    viewer = bearer(url, Role.VIEWER)
    answer = client.get(
        ROUTE,
        params={"property": "core_temperature", "horizon": 6 * 3600, "threshold": threshold,
                "quantiles": "0.1,0.9"},
        headers=viewer,
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    assert body["model"] == "local_trend" and body["readings"] == 145
    assert body["unit"] == "degC" and len(body["time"]) == 12
    assert body["trend"] == pytest.approx(RATE, rel=0.1)
    mean, low, high = (np.array(body[k]) for k in ("mean", "low", "high"))
    assert np.all(np.diff(mean) > 0)
    expected = 20.0 + RATE * (np.array(body["time"]) - start) / 3600
    assert np.all((low < expected) & (expected < high))
    assert np.all(np.diff(high - low) > 0)  # surer of the next hour than of the sixth
    assert np.all((low < body["quantiles"]["0.1"]) & (np.array(body["quantiles"]["0.9"]) < high))
    assert abs(body["crossing"] - truth) < 15 * 60
    # not within an hour: no crossing
    near = client.get(ROUTE, params={"property": "core_temperature", "horizon": 3600,
                                     "threshold": threshold}).json()
    assert near["crossing"] is None


def test_a_sensor_that_started_minutes_ago_is_forecast_on_steps_of_its_own(
    site: tuple[TestClient, str, float],
) -> None:
    # twelve readings a minute apart: the grid follows them, not the two days read
    client, _, _ = site
    answer = client.get("/api/elements/L3-slab/forecast",
                        params={"property": "core_temperature", "horizon": 600})
    assert answer.status_code == 200, answer.text
    assert answer.json()["steps_fitted"] == 12 and answer.json()["step"] == 60.0


@pytest.mark.parametrize(
    ("address", "params", "status", "error"),
    [
        ("/api/elements/no-such/forecast", {"property": "core_temperature", "horizon": 60},
         404, "not_found"),
        (ROUTE, {"property": "no_such_property", "horizon": 60}, 404, "not_found"),
        (ROUTE, {"property": "thickness", "horizon": 60}, 404, "not_found"),  # no sensor
        (SPARSE, {"property": "core_temperature", "horizon": 60}, 409, "conflict"),
        (ROUTE, {"property": "core_temperature", "horizon": 0}, 422, "bad_request"),
        (ROUTE, {"property": "core_temperature", "horizon": 31 * 86400}, 422, "bad_request"),
        (ROUTE, {"property": "core_temperature"}, 422, "bad_request"),
        (ROUTE, {"property": "core_temperature", "horizon": 60, "quantiles": "0.5,1"},
         422, "bad_quantiles"),
        (ROUTE, {"property": "core_temperature", "horizon": 60, "quantiles": "half"},
         422, "bad_quantiles"),
        (ROUTE, {"property": "core_temperature", "horizon": 60, "threshold": "nan"},
         422, "bad_threshold"),
    ],
)
def test_what_cannot_be_forecast_is_refused_with_a_reason(
    site: tuple[TestClient, str, float], address: str, params: dict[str, Any], status: int,
    error: str,
) -> None:
    client, _, _ = site
    answer = client.get(address, params=params)
    assert answer.status_code == status, answer.text
    assert answer.json()["error"] == error and answer.json()["detail"]


def test_a_rooms_air_temperature_is_forecast_by_its_thermal_zone(
    site: tuple[TestClient, str, float],
) -> None:
    # The demo building's weather station and a room cooling towards it (time constant
    # 40 h, no heating meter), a day of 15-minute readings posted as devices post them.
    client, url, _ = site
    count, every = 96, 900.0
    times = time.time() - 60.0 - every * (count - 1) + every * np.arange(count)
    outdoor = 5 + 4 * np.sin(2 * np.pi * np.arange(count) * every / 86_400)
    room = np.full(count, 20.0)
    for k in range(1, count):
        room[k] = outdoor[k - 1] + (room[k - 1] - outdoor[k - 1]) * np.exp(-0.25 / 40)
    batch = [{"sensor_id": sensor, "value": round(float(v), 3), "time": float(t)}
             for k, t in enumerate(times)
             for sensor, v in (("weather-temp", outdoor[k]), ("L0-room1-temp", room[k]))]
    answer = client.post("/api/readings", json=batch)
    assert answer.status_code == 200 and answer.json()["accepted"] == len(batch), answer.text
    answer = client.get("/api/elements/L0-room1/forecast",
                        params={"property": "air_temperature", "horizon": 12 * 3600,
                                "threshold": float(room[-1]) - 1.0, "quantiles": "0.5"},
                        headers=bearer(url, Role.VIEWER))
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    assert body["model"] == "thermal_zone" and body["unit"] == "degC"
    assert body["origin"] == pytest.approx(times[-1])
    # Without a heating meter only the time constant is learned.
    assert body["parameters"]["resistance"] is None
    assert body["parameters"]["time_constant_hours"] > 0
    assert body["zone"]["heating"] is None
    assert body["zone"]["outdoor"]["element_id"] == "site"
    mean, low, high = (np.array(body[k]) for k in ("mean", "low", "high"))
    assert np.all(np.diff(mean) < 0) and body["trend"] < 0  # cooling to a colder outdoors
    assert np.all(np.diff(high - low) > 0)
    assert body["quantiles"]["0.5"] == pytest.approx(body["mean"])
    assert body["origin"] < body["crossing"] < body["time"][-1]
