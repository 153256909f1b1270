"""Predicted against measured over HTTP: a slab's logger posts four days of readings and a
level shift; the element's track gives, for each reading, the one-step prediction the
level/trend tracker makes when run directly over the same stored readings (and its
residual is the live tracker's), the shift as a divergence span from the change point to
the alarm's clearing, buckets that agree with the raw answer, and refuses a range too long
or too full. Every element's twin state is its sensors' worst. Viewers read both; a
device may not, nor anyone without a token."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from twinsync.api.app import create_app
from twinsync.cli.token_cmd import create_token
from twinsync.config import Settings
from twinsync.physics.one_step import PredictingTracker, z_of
from twinsync.physics.tracker import LevelTrendTracker
from twinsync.pipeline.batch import NOT_JUDGED_IN_ORDER
from twinsync.service import twin_track
from twinsync.tokens import Role

from .conftest import seeded_store

SENSOR = "L1-slab-t1"
ELEMENT = "L1-slab"
PROPERTY = "core_temperature"
STEP = 900.0

Client = tuple[TestClient, dict[Role, dict[str, str]]]


@pytest.fixture
def twin(tmp_path: Path) -> Iterator[Client]:
    url = seeded_store(tmp_path)
    headers = {}
    for role in (Role.VIEWER, Role.OPERATOR, Role.ADMIN, Role.DEVICE):
        sensors = ("L1-slab-t1",) if role is Role.DEVICE else ()
        secret, _ = create_token(url, f"tests {role.value}", role, sensors=sensors)
        headers[role] = {"Authorization": f"Bearer {secret}"}
    with TestClient(create_app(Settings(store=url))) as client:
        yield client, headers


def post_series(client: TestClient, headers: dict[str, str], sensor: str, readings: int,
                shift_at: int | None = None, seed: int = 2) -> np.ndarray:
    """``readings`` of 20 ± 0.05 a quarter-hour apart up to now, +2 from ``shift_at``."""
    times = time.time() - readings * STEP + STEP * np.arange(readings)
    values = 20 + np.random.default_rng(seed).normal(0.0, 0.05, readings)
    if shift_at is not None:
        values[shift_at:] += 2.0
    batch = [{"sensor_id": sensor, "value": round(float(v), 3), "time": float(t)}
             for t, v in zip(times, values, strict=True)]
    answer = client.post("/api/readings", json=batch, headers=headers)
    assert answer.status_code == 200 and answer.json()["accepted"] == readings, answer.text
    return times


def track(client: TestClient, headers: dict[str, str], **query: Any) -> Any:
    return client.get(f"/api/elements/{ELEMENT}/twin/track",
                      params={"property": PROPERTY, **query}, headers=headers)


def test_each_reading_has_the_tracker_s_one_step_prediction_and_the_shift_is_a_span(
        twin: Client) -> None:
    client, headers = twin
    times = post_series(client, headers[Role.ADMIN], SENSOR, 400, shift_at=300)
    start = float(times[200]) - 1.0
    answer = track(client, headers[Role.VIEWER], start=start)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["coverage"] == 0.9 and body["every"] is None
    sensors = {s["sensor_id"]: s for s in body["sensors"]}
    assert set(sensors) == {"L1-slab-t1", "L1-slab-t2", "L1-slab-t3"}
    ours = sensors[SENSOR]
    assert ours["readings"] == 200 and ours["lead_readings"] == 200 and ours["warming_up"] == 0
    assert ours["time"] == pytest.approx(times[200:].tolist())

    # The tracker run directly over the sensor's stored readings (as the route reads them:
    # those health folds in order, with health's quality) from its first.
    stored = client.get(f"/api/sensors/{SENSOR}/readings",
                        params={"start": times[0] - 1, "end": time.time() + 1},
                        headers=headers[Role.VIEWER]).json()
    used = (np.array(stored["flags"]) & NOT_JUDGED_IN_ORDER) == 0
    t = np.array(stored["time"])[used]
    v = np.array(stored["value"])[used]
    q = np.array(stored["quality"], dtype=float)[used]
    rows = np.zeros(t.size, dtype=np.int64)
    direct = PredictingTracker().predict_many(rows, t, v, q)
    inside = t >= start
    assert ours["predicted"] == pytest.approx(direct.predicted[inside].tolist(), rel=1e-12)
    z = z_of(0.9)
    assert ours["low"] == pytest.approx((direct.predicted - z * direct.sd)[inside].tolist())
    assert ours["high"] == pytest.approx((direct.predicted + z * direct.sd)[inside].tolist())
    # ...and they are the predictions the live tracker's own residuals are measured from.
    live = LevelTrendTracker().track_many(rows, t, v, q).normalised[inside]
    trusted = q[inside] >= 1.0
    assert trusted.sum() > 150
    residual = (v[inside] - np.array(ours["predicted"])) / np.array(ours["sd"])
    assert residual[trusted] == pytest.approx(live[trusted], abs=1e-9)
    assert np.array(ours["normalised"]) == pytest.approx(live, abs=1e-9, nan_ok=True)
    # Before the shift the band holds the readings it should (90 %, give or take).
    before = slice(0, 100)
    held = (np.array(ours["low"][before]) <= v[inside][before]) \
        & (v[inside][before] <= np.array(ours["high"][before]))
    assert 0.8 <= held.mean() <= 1.0

    # The shift: one span from the change point, ended when the alarm cleared.
    (span,) = ours["divergences"]
    assert span["start"] == pytest.approx(times[300], abs=1.0)
    assert span["direction"] == "up" and span["size"] == pytest.approx(2.0, abs=0.2)
    cleared = [e for e in client.get("/api/events", params={"element_id": ELEMENT,
                                                            "limit": 10_000},
                                     headers=headers[Role.VIEWER]).json()["events"]
               if e["kind"] == "alarm_cleared" and e["data"]["key"] == f"twin:{SENSOR}"]
    assert len(cleared) == 1 and span["end"] == pytest.approx(cleared[0]["data"]["cleared_at"])
    assert times[300] < span["end"] <= times[-1]
    assert body["spans_complete"] is True
    # The loggers that sent nothing: no readings, no spans.
    assert sensors["L1-slab-t2"]["readings"] == 0 and sensors["L1-slab-t2"]["divergences"] == []


def test_buckets_are_the_raw_answer_gathered_as_the_readings_route_gathers_its(
        twin: Client) -> None:
    client, headers = twin
    times = post_series(client, headers[Role.ADMIN], SENSOR, 300)
    start, end, every = float(times[100]) - 1.0, float(times[-1]) + 1.0, 7200.0
    raw = next(s for s in track(client, headers[Role.VIEWER], start=start, end=end)
               .json()["sensors"] if s["sensor_id"] == SENSOR)
    ours = next(s for s in track(client, headers[Role.VIEWER], start=start, end=end,
                                 every=every).json()["sensors"] if s["sensor_id"] == SENSOR)
    buckets = client.get(f"/api/sensors/{SENSOR}/readings",
                         params={"start": start, "end": end, "every": every},
                         headers=headers[Role.VIEWER]).json()
    assert ours["time"] == buckets["time"] and ours["count"] == buckets["count"]
    assert ours["value"] == pytest.approx(buckets["mean"])
    index = np.floor((np.array(raw["time"]) - start) / every)
    predicted, low, high = (np.array(raw[k], dtype=float) for k in ("predicted", "low", "high"))
    for k, bucket in enumerate(np.unique(index)):
        mine = index == bucket
        assert ours["predicted"][k] == pytest.approx(predicted[mine].mean())
        assert ours["low"][k] == pytest.approx(low[mine].min())
        assert ours["high"][k] == pytest.approx(high[mine].max())


def test_the_first_readings_without_history_before_them_are_the_model_warming_up(
        twin: Client) -> None:
    client, headers = twin
    times = post_series(client, headers[Role.ADMIN], SENSOR, 100)
    ours = next(s for s in track(client, headers[Role.VIEWER], start=times[0] - 1)
                .json()["sensors"] if s["sensor_id"] == SENSOR)
    warmup = LevelTrendTracker().knobs.warmup
    assert ours["lead_readings"] == 0 and ours["warming_up"] == warmup
    assert ours["predicted"][:warmup] == [None] * warmup
    assert None not in ours["predicted"][warmup:]
    assert ours["predicted_from"] == pytest.approx(times[warmup])


def test_a_range_too_long_or_too_full_is_refused_with_the_reason(
        twin: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    client, headers = twin
    times = post_series(client, headers[Role.ADMIN], SENSOR, 100)
    viewer = headers[Role.VIEWER]
    now = time.time()
    long = track(client, viewer, start=now - 40 * 86_400, end=now)
    assert long.status_code == 422 and long.json()["error"] == "range_too_long"
    backwards = track(client, viewer, start=now, end=now - 60)
    assert backwards.status_code == 422 and backwards.json()["error"] == "bad_range"
    monkeypatch.setattr(twin_track, "MAX_READINGS", 50)
    full = track(client, viewer, start=times[0] - 1)
    assert full.status_code == 422 and full.json()["error"] == "too_many_readings"
    assert track(client, viewer, start=times[60]).status_code == 200
    unknown = client.get("/api/elements/no-such/twin/track", params={"property": PROPERTY},
                         headers=viewer)
    assert unknown.status_code == 404
    unfed = track(client, viewer, property="thickness")
    assert unfed.status_code == 404 and "fed by a sensor" in unfed.json()["detail"]


def test_every_element_s_twin_state_is_its_sensors_worst(twin: Client) -> None:
    client, headers = twin
    times = post_series(client, headers[Role.ADMIN], SENSOR, 200, shift_at=190)
    post_series(client, headers[Role.ADMIN], "L2-col1-strain", 100, seed=3)
    answer = client.get("/api/twin/states", headers=headers[Role.VIEWER])
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["enabled"] is True
    assert body["states"] == ["off", "learning", "in_control", "diverging"]
    states = dict(zip(body["element_id"], body["state"], strict=True))
    row = body["element_id"].index(ELEMENT)
    # The slab's other two loggers are still learning: the slab is diverging all the same.
    assert states[ELEMENT] == "diverging"
    assert body["sensors"][row] == 3 and body["diverging"][row] == 1
    assert body["since"][row] == pytest.approx(times[190], abs=1.0)
    assert states["L2-col1"] == "in_control"
    assert states["L0-slab"] == "learning" and states["site"] == "learning"
    assert "L1-wall-north" not in states  # no sensor: no model
    assert body["counts"] == {"off": 0, "learning": len(states) - 2, "in_control": 1,
                              "diverging": 1}


def test_viewers_and_operators_read_them_a_device_may_not_and_no_token_is_401(
        twin: Client) -> None:
    client, headers = twin
    for path, query in ((f"/api/elements/{ELEMENT}/twin/track", {"property": PROPERTY}),
                        ("/api/twin/states", {})):
        for role in (Role.VIEWER, Role.OPERATOR, Role.ADMIN):
            assert client.get(path, params=query, headers=headers[role]).status_code == 200
        assert client.get(path, params=query, headers=headers[Role.DEVICE]).status_code == 403
        assert client.get(path, params=query).status_code == 401


def test_with_the_models_off_the_track_is_409_and_every_element_is_off(
        tmp_path: Path) -> None:
    url = seeded_store(tmp_path)
    secret, _ = create_token(url, "tests viewer", Role.VIEWER)
    viewer = {"Authorization": f"Bearer {secret}"}
    with TestClient(create_app(Settings(store=url, twin_models=False))) as client:
        assert track(client, viewer).status_code == 409
        body = client.get("/api/twin/states", headers=viewer).json()
        assert body["enabled"] is False and set(body["state"]) == {"off"}
