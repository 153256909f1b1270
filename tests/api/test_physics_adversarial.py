"""The physics twin as a site really uses it, over a real server process and real HTTP:
lab breaks that fall, or are written in psi; a curve whose rate overflows; a logger that
reads -999 when its probe fails, uploading a day at once, late and newest first; a
forecast with a failed sensor beside a good one; reads during a heavy ingest; and a crash
of the server (kill -9) with mixes and a shadow twin declared. Every answer is a correct
figure (checked against ASTM C1074 worked by hand) or a 4xx with its reason, never a
5xx, a NaN or a figure silently wrong."""

from __future__ import annotations

import concurrent.futures
import itertools
import math
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.server import Server

from twinsync.model.mix import mix_from_dict

from .conftest import seeded_store

#: ASTM C1074's Q = E / R for the mixes' default activation energy (40 kJ/mol), in K.
Q = 40_000.0 / 8.314462618
LOG_CURVE = {"form": "logarithmic", "a": -20.0, "b": 12.0}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One ``twinsync serve`` process over the demo project for the module (the last test
    crashes and restarts it)."""
    folder = Path(tmp_path_factory.mktemp("adversary"))
    running = Server("serve", "--store", seeded_store(folder), cwd=folder)
    running.start(timeout=180.0)
    # The first readings of a slab and of a room compile the reading path's kernels that
    # start-up does not (the pipeline's, the zones'): on a fresh cache that takes the
    # writer tens of seconds on a loaded machine, which no test below is about.
    at = time.time() - 3 * 86400
    first = [{"sensor_id": sensor, "value": 20.0, "time": at + k, "seq": k + 1}
             for sensor in ("L3-slab-t1", "weather-temp", "L3-room1-temp") for k in range(3)]
    with running.client(timeout=600.0) as http:
        assert http.post("/api/readings", json={"readings": first}).status_code == 200
    yield running
    running.stop()


@pytest.fixture(scope="module")
def client(server: Server) -> Iterator[httpx.Client]:
    with server.client() as http:
        yield http


def slab(client: httpx.Client, element_id: str, sensors: dict[str, str],
         poured_at: float | None = None) -> None:
    """A slab of its own with temperature sensors (id: kind, in °C) bound to its
    ``core_temperature``, poured at ``poured_at``."""
    answer = client.post("/api/elements", json={"id": element_id, "type": "IfcSlab"})
    assert answer.status_code == 201, answer.text
    for sensor_id, kind in sensors.items():
        answer = client.post("/api/sensors", json={"id": sensor_id, "kind": kind, "unit": "degC"})
        assert answer.status_code == 201, answer.text
        answer = client.put(f"/api/sensors/{sensor_id}/binding",
                            json={"element_id": element_id, "property": "core_temperature"})
        assert answer.status_code == 200, answer.text
    if poured_at is not None:
        answer = client.patch(f"/api/elements/{element_id}",
                              json={"properties": {"poured_at": poured_at}})
        assert answer.status_code == 200, answer.text


def mix(name: str, curve: dict[str, Any], elements: list[str], **fields: Any) -> dict[str, Any]:
    return {"name": name, "curve": curve, "elements": elements, "required_strength": 20.0,
            **fields}


def breaks(*pairs: tuple[float, float]) -> dict[str, Any]:
    return {"form": "logarithmic",
            "breaks": [{"maturity": m, "strength": s} for m, s in pairs]}


def post(client: httpx.Client, readings: list[dict[str, Any]]) -> dict[str, Any]:
    answer = client.post("/api/readings", json={"readings": readings})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def by_name(mixes: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {declared["name"]: declared for declared in mixes}


def no_nan(answer: httpx.Response) -> None:
    """A JSON answer with no NaN or infinity in it (orjson writes them as null)."""
    assert "NaN" not in answer.text and "Infinity" not in answer.text, answer.text[:500]


def test_breaks_whose_strength_falls_or_stays_flat_with_maturity_are_refused(
        client: httpx.Client) -> None:
    for name, curve in {
        "falling": breaks((500.0, 30.0), (1000.0, 20.0), (2000.0, 10.0)),
        "flat": breaks((500.0, 20.0), (1000.0, 20.0), (2000.0, 20.0)),
        "two falling": breaks((500.0, 15.0), (1000.0, 10.0)),
    }.items():
        answer = client.post("/api/mixes", json=mix(f"bad {name}", curve, ["nowhere"]))
        assert answer.status_code == 422, (name, answer.text)
        assert answer.json()["error"] == "bad_mix"
        assert "grow with maturity" in answer.json()["detail"]
    # Breaks that scatter, one lower than the one before, still fit a rising curve.
    scattered = client.post("/api/mixes", json=mix(
        "scattered", breaks((500.0, 10.0), (1000.0, 18.0), (2000.0, 16.0), (4000.0, 25.0)),
        ["nowhere"]))
    assert scattered.status_code == 201, scattered.text
    assert scattered.json()["curve"]["b"] > 0
    names = [m["name"] for m in client.get("/api/mixes").json()]
    assert not any(name.startswith("bad ") for name in names)


def test_strengths_written_in_psi_are_refused_naming_the_unit(client: httpx.Client) -> None:
    psi = {
        "breaks": {"curve": breaks((500.0, 1500.0), (1000.0, 2500.0), (2000.0, 3500.0))},
        "required": {"curve": LOG_CURVE, "required_strength": 4000.0},
        "target": {"curve": LOG_CURVE, "targets": {"striking": 2500.0}},
        "ultimate": {"curve": {"form": "hyperbolic", "ultimate": 6000.0, "rate": 0.005}},
        "a and b": {"curve": {"form": "logarithmic", "a": -7466.0, "b": 3322.0}},
        "absurd a": {"curve": {"form": "logarithmic", "a": 1e308, "b": 12.0}},
    }
    for name, fields in psi.items():
        answer = client.post("/api/mixes", json={**mix(f"psi {name}", LOG_CURVE, ["nowhere"]),
                                                 **fields})
        assert answer.status_code == 422, (name, answer.text)
        assert "MPa" in answer.json()["detail"] and "psi" in answer.json()["detail"], name
    # The same mix in MPa (4000 psi is 27.6 MPa) is taken.
    mpa = {**mix("in MPa", breaks((500.0, 10.3), (1000.0, 17.2), (2000.0, 24.1)), ["nowhere"]),
           "required_strength": 27.6, "targets": {"striking": 17.2}}
    assert client.post("/api/mixes", json=mpa).status_code == 201


def test_a_labs_scatter_beyond_any_strength_or_maturity_is_refused(
        client: httpx.Client) -> None:
    """A lab may give its breaks' scatter with a and b; a residual sd past any strength
    gave a strength interval whose high edge was infinite (null in the answer)."""
    scatter = {"breaks": 5, "residual_sd": 1.5, "log_mean": 3.2, "log_spread": 0.9}
    for name, change, word in (("sd", {"residual_sd": 1e308}, "MPa"),
                               ("mean", {"log_mean": 1e308}, "log_mean")):
        curve = {**LOG_CURVE, "scatter": {**scatter, **change}}
        answer = client.post("/api/mixes", json=mix(f"scatter {name}", curve, ["nowhere"]))
        assert answer.status_code == 422 and word in answer.json()["detail"], answer.text
    taken = client.post("/api/mixes", json=mix("scatter", {**LOG_CURVE, "scatter": scatter},
                                               ["nowhere"]))
    assert taken.status_code == 201 and taken.json()["curve"]["scatter"]["breaks"] == 5


def test_a_hyperbolic_curve_whose_rate_overflows_gives_its_ultimate_strength(
        client: httpx.Client) -> None:
    now = time.time()
    slab(client, "hyper-slab", {"hyper-t": "slab_temperature"}, poured_at=now - 6 * 3600)
    post(client, [{"sensor_id": "hyper-t", "value": 20.0 + 0.1 * k, "time": now - 5 * 3600
                   + 1800 * k, "seq": k + 1} for k in range(10)])
    curve = {"form": "hyperbolic", "ultimate": 50.0, "rate": 1e308}
    declared = client.post("/api/mixes", json=mix("instant", curve, ["hyper-slab"]))
    assert declared.status_code == 201, declared.text
    answer = client.get("/api/elements/hyper-slab/maturity")
    assert answer.status_code == 200, answer.text
    no_nan(answer)
    view = answer.json()
    assert view["maturity"] > 0
    assert view["strength"] == 50.0 and view["strength_bridged"] == 50.0
    assert view["sensors"][0]["strength"] == 50.0 and view["reached"] is True


def test_a_logger_reading_minus_999_is_not_the_coldest_sensor_for_either_index(
        client: httpx.Client) -> None:
    """A logger's failed probe reads -999 (a kind with no physical range, so the pipeline
    flags nothing); its good twin uploads a day at once, late and newest first. The
    maturity is the good logger's, as ASTM C1074 sums it by hand."""
    now = time.time()
    pour = now - 30 * 3600
    temperatures = [12.0 + 0.25 * k + 2.0 * math.sin(k / 5) for k in range(1, 49)]
    for element_id, index in (("ttf-slab", "temperature_time_factor"),
                              ("age-slab", "equivalent_age")):
        good, rail = f"{element_id}-good", f"{element_id}-rail"
        slab(client, element_id, {good: "logger", rail: "logger"}, poured_at=pour)
        assert client.post("/api/mixes", json=mix(f"{index} mix", LOG_CURVE, [element_id],
                                                   index=index)).status_code == 201
        readings = []
        for k, temperature in enumerate(temperatures, start=1):
            readings.append({"sensor_id": good, "value": temperature, "time": pour + 1800 * k,
                             "seq": k})
            readings.append({"sensor_id": rail, "value": -999.0, "time": pour + 1800 * k,
                             "seq": k})
        readings.reverse()
        accepted = post(client, readings)
        assert accepted["accepted"] == 96 and accepted["out_of_range"] == 0, accepted

    # The pour to the first reading is an interval at that reading's temperature.
    series = [temperatures[0], *temperatures]
    means = [(a + b) / 2 for a, b in itertools.pairwise(series)]
    nurse_saul = sum(0.5 * (t + 10.0) for t in means)
    equivalent = sum(0.5 * math.exp(-Q * (1 / (t + 273.15) - 1 / 293.15)) for t in means)
    for element_id, expected in (("ttf-slab", nurse_saul), ("age-slab", equivalent)):
        answer = client.get(f"/api/elements/{element_id}/maturity")
        assert answer.status_code == 200, answer.text
        no_nan(answer)
        view = answer.json()
        assert view["governing_sensor"] == f"{element_id}-good"
        assert view["maturity"] == pytest.approx(expected, abs=1e-3)
        rail = next(s for s in view["sensors"] if s["sensor_id"] == f"{element_id}-rail")
        assert rail["role"] == "excluded" and rail["not_believed"] == 48


def test_a_forecast_is_not_pulled_by_a_sensor_reading_out_of_its_range(
        client: httpx.Client) -> None:
    """Two probes in one slab: one reads 20 °C with 0.1 °C of noise every ten minutes
    for a day, the other -999 at the same times (flagged out of its range, kept as
    evidence). The forecast is the good probe's, and the quantiles and threshold asked
    at the edges are answered or refused, never NaN."""
    now = time.time()
    slab(client, "two-probe-slab", {"probe-good": "slab_temperature",
                                    "probe-bad": "slab_temperature"})
    noise = np.random.default_rng(3).normal(0.0, 0.1, 144)
    readings = []
    for k in range(144):
        at = now - 60 - 600 * (143 - k)
        readings.append({"sensor_id": "probe-good", "value": 20.0 + float(noise[k]),
                         "time": at, "seq": k + 1})
        readings.append({"sensor_id": "probe-bad", "value": -999.0, "time": at, "seq": k + 1})
    assert post(client, readings)["out_of_range"] == 144
    route = "/api/elements/two-probe-slab/forecast"
    answer = client.get(route, params={"property": "core_temperature", "horizon": 6 * 3600,
                                       "threshold": 25.0, "quantiles": "0.001,0.5,0.999"})
    assert answer.status_code == 200, answer.text
    no_nan(answer)
    body = answer.json()
    assert body["readings"] == 144
    assert body["level"] == pytest.approx(20.0, abs=0.2)
    assert all(abs(m - 20.0) < 0.5 for m in body["mean"])
    assert all(lo < 20.0 < hi for lo, hi in zip(body["low"], body["high"], strict=True))
    assert body["crossing"] is None  # 25 °C is never reached by a steady 20
    for params, reason in (({"horizon": 0}, "bad_request"), ({"horizon": -60}, "bad_request"),
                           ({"horizon": 365 * 86400}, "bad_request"),
                           ({"horizon": "an hour"}, "bad_request"),
                           ({"horizon": 3600, "quantiles": "0,0.5"}, "bad_quantiles"),
                           ({"horizon": 3600, "quantiles": ",".join(["0.5"] * 100)},
                            "bad_quantiles"),
                           ({"horizon": 3600, "threshold": "nan"}, "bad_threshold")):
        refused = client.get(route, params={"property": "core_temperature", **params})
        assert refused.status_code == 422 and refused.json()["error"] == reason, params
    assert client.get(route, params={"property": "poured_at", "horizon": 60}).status_code == 404
    # Quantiles close to 1 are each answered under their own key, none of them "1".
    tails = client.get(route, params={"property": "core_temperature", "horizon": 3600,
                                      "quantiles": "0.9999991,0.9999999,1e-07"}).json()
    assert sorted(tails["quantiles"]) == ["0.9999991", "0.9999999", "1e-07"]


def test_forecasts_and_maturity_read_during_a_heavy_ingest_are_answered_and_consistent(
        server: Server, client: httpx.Client) -> None:
    """Batches of 2,000 readings posted as fast as the server takes them, a failed probe
    among them, while forecasts and maturity are read: every read is answered, no
    maturity goes back, and at the end both are the readings' as worked by hand."""
    now = time.time()
    pour = now - 20 * 3600
    slab(client, "busy-slab", {"busy-good": "slab_temperature",
                               "busy-bad": "slab_temperature"}, poured_at=pour)
    assert client.post("/api/mixes", json=mix("busy", LOG_CURVE, ["busy-slab"])).status_code \
        == 201
    every, batches, size = 2.0, 15, 2000
    stop, problems = threading.Event(), []
    maturities: list[float] = []

    def ingest() -> None:
        with server.client() as http:
            for batch in range(batches):
                readings = []
                for k in range(batch * size, (batch + 1) * size):
                    sensor = "busy-bad" if k % 10 == 0 else "busy-good"
                    value = -999.0 if sensor == "busy-bad" else 20.0 + 0.01 * (k % 7)
                    readings.append({"sensor_id": sensor, "value": value,
                                     "time": pour + every * (k + 1), "seq": k + 1})
                answer = http.post("/api/readings", json={"readings": readings})
                if answer.status_code != 200:
                    problems.append(("ingest", answer.status_code, answer.text[:200]))
        stop.set()

    def read(path: str, params: dict[str, Any]) -> None:
        with server.client() as http:
            while not stop.is_set():
                answer = http.get(path, params=params)
                if answer.status_code >= 500 or "NaN" in answer.text:
                    problems.append((path, answer.status_code, answer.text[:200]))
                elif path.endswith("maturity"):
                    maturities.append(answer.json()["maturity"])
                elif answer.status_code == 200:
                    if any(abs(m - 20.03) > 1.0 for m in answer.json()["mean"]):
                        problems.append(("pulled", answer.json()["mean"][:3]))
                elif answer.status_code != 409:  # 409: too few readings yet
                    problems.append((path, answer.status_code, answer.text[:200]))

    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        readers = [pool.submit(read, "/api/elements/busy-slab/maturity", {}),
                   pool.submit(read, "/api/elements/busy-slab/forecast",
                               {"property": "core_temperature", "horizon": 3600})]
        ingest()
        for reader in readers:
            reader.result(timeout=120)
    assert problems == []
    assert len(maturities) >= 3 and maturities == sorted(maturities)
    # 27,000 good readings, the last 16.7 h after the pour, every one about 20 °C (30 °C·h
    # an hour over the datum); the bad probe's readings are not believed.
    good = np.array([k for k in range(batches * size) if k % 10 != 0])
    hours = np.concatenate([[0.0], (good + 1) * every / 3600])
    temps = np.concatenate([[20.0 + 0.01 * (good[0] % 7)], 20.0 + 0.01 * (good % 7)])
    expected = float(np.sum(np.diff(hours) * ((temps[1:] + temps[:-1]) / 2 + 10.0)))
    final = client.get("/api/elements/busy-slab/maturity").json()
    assert final["maturity"] == pytest.approx(expected, abs=1e-3)
    assert final["governing_sensor"] == "busy-good"


def test_a_zone_forecast_is_not_widened_by_outdoor_readings_out_of_range(
        client: httpx.Client) -> None:
    """A day of a room and the outdoors read every ten minutes; then the weather station's
    failed probe's -999s of the same day arrive late (flagged out of range, kept as
    evidence). The room's forecast from its zone's model is as sure as before."""
    now = time.time()
    readings = []
    for k in range(144):
        at = now - 60 - 600 * (143 - k)
        day = math.sin(2 * math.pi * at / 86400)
        readings.append({"sensor_id": "weather-temp", "value": 5 + 5 * day, "time": at,
                         "seq": k + 1})
        readings.append({"sensor_id": "L2-room1-temp", "value": 20 + 0.5 * day, "time": at,
                         "seq": k + 1})
    post(client, readings)
    route, params = "/api/elements/L2-room1/forecast", {
        "property": "air_temperature", "horizon": 6 * 3600, "steps": 6}
    before = client.get(route, params=params)
    assert before.status_code == 200 and before.json()["model"] == "thermal_zone", before.text
    failed = [{"sensor_id": "weather-temp", "value": -999.0, "time": now - 60 - 600 * k + 300,
               "seq": 1000 + k} for k in range(1, 144, 2)]
    assert post(client, failed)["out_of_range"] == 72
    after = client.get(route, params=params)
    assert after.status_code == 200, after.text
    no_nan(after)
    assert after.json()["mean"] == pytest.approx(before.json()["mean"], abs=0.01)
    assert after.json()["deviation"] == pytest.approx(before.json()["deviation"], rel=0.05)


def test_a_pour_or_an_as_of_on_the_calendars_first_day_is_said_not_answered_500(
        client: httpx.Client) -> None:
    """0001-01-01 is what a spreadsheet exports for an empty date: it has no time in the
    server's zone, and is said as such; the other slab of the mix is assessed as usual."""
    now = time.time()
    slab(client, "zero-date-slab", {"zero-date-t": "slab_temperature"})
    slab(client, "dated-slab", {"dated-t": "slab_temperature"}, poured_at=now - 3 * 3600)
    assert client.post("/api/mixes", json=mix("zero date", LOG_CURVE, [
        "zero-date-slab", "dated-slab"])).status_code == 201
    post(client, [{"sensor_id": sensor, "value": 20.0, "time": now - 3 * 3600 + 1800 * k,
                   "seq": k} for sensor in ("zero-date-t", "dated-t") for k in range(1, 6)])
    declared = client.patch("/api/elements/zero-date-slab",
                            json={"properties": {"poured_at": "0001-01-01 00:00"}})
    assert declared.status_code == 200, declared.text
    answer = client.get("/api/elements/zero-date-slab/maturity")
    assert answer.status_code == 200, answer.text
    assert answer.json()["estimate"] is None and "poured_at" in answer.json()["detail"]
    dated = client.get("/api/elements/dated-slab/maturity")
    assert dated.status_code == 200 and dated.json()["maturity"] == pytest.approx(75.0)
    refused = client.get("/api/elements/dated-slab/maturity", params={"as_of": "0001-01-01"})
    assert refused.status_code == 422 and refused.json()["error"] == "bad_date"


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.floats(1e-3, 1e7), st.floats(0.0, 300.0)),
                min_size=2, max_size=8))
def test_any_breaks_are_refused_or_give_a_mix_that_is_read_back_after_a_restart(
        client: httpx.Client, pairs: list[tuple[float, float]]) -> None:
    """A mix the server took (201) is stored and read back from its stored form on every
    start; one it could not read back would vanish at the next restart."""
    answer = client.post("/api/mixes", json=mix("any breaks", breaks(*pairs), ["nowhere"]))
    assert answer.status_code in (201, 422), answer.text
    if answer.status_code == 201:
        no_nan(answer)
        stored = answer.json()
        assert stored["curve"]["b"] > 0
        assert mix_from_dict(stored).to_dict() == stored


@dataclass
class Crash:
    """What was declared and read before the module's server was killed and started
    again."""

    mixes: list[dict[str, Any]]
    declared: list[httpx.Response]
    shadow_id: str
    as_of: str
    maturity: dict[str, Any]
    model: dict[str, Any]


@pytest.fixture(scope="module")
def crash(server: Server, client: httpx.Client) -> Crash:
    """A shadow started, a sensor's model that diverged and was recalibrated, mixes
    declared and a slab's maturity; then the server is killed (SIGKILL) and started again.
    The tests that use it run last. The shadow starts first: starting one saves the
    learned state, and the model's readings must come after the last save."""
    now = time.time()
    started = client.post("/api/twin/shadow", json={"parameters": {"threshold": 11.0}})
    assert started.status_code == 201, started.text
    pour = now - 12 * 3600
    slab(client, "crash-slab", {"crash-t": "slab_temperature"}, poured_at=pour)
    post(client, [{"sensor_id": "crash-t", "value": 15.0 + 0.2 * k, "time": pour + 1800 * k,
                   "seq": k} for k in range(1, 24)])
    # A gauge that reads steadily, then 30 units higher: its model diverges and is
    # recalibrated.
    slab(client, "crash-column", {"crash-gauge": "logger"})
    noise = np.random.default_rng(1).normal(0.0, 1.0, 200)
    post(client, [{"sensor_id": "crash-gauge", "value": 100.0 + float(noise[k])
                   + (30.0 if k >= 150 else 0.0), "time": now - 600 * (200 - k), "seq": k + 1}
                  for k in range(200)])
    model = client.get("/api/elements/crash-column/twin").json()["sensors"][0]
    assert model["readings"] > 150 and model["recalibration"] is not None, model
    declared = [
        client.post("/api/mixes", json=mix("crash fitted", breaks(
            (500.0, 11.0), (1000.0, 16.5), (2000.0, 19.0), (4000.0, 24.5)), ["crash-slab"],
            targets={"striking": 15.0})),
        client.post("/api/mixes", json=mix("crash falling", breaks(
            (500.0, 30.0), (1000.0, 20.0), (2000.0, 10.0)), ["elsewhere"])),
        client.post("/api/mixes", json=mix("crash hyperbolic", {
            "form": "hyperbolic", "ultimate": 40.0, "rate": 0.004, "offset": 20.0},
            ["elsewhere"], index="equivalent_age", activation_energy=45_000.0)),
    ]
    assert all(answer.status_code in (201, 422) for answer in declared)
    assert declared[0].status_code == 201
    as_of = datetime.fromtimestamp(now + 3600).strftime("%Y-%m-%d %H:%M")
    maturity = client.get("/api/elements/crash-slab/maturity", params={"as_of": as_of}).json()
    assert maturity["maturity"] > 0
    mixes = client.get("/api/mixes").json()

    server.kill()
    server.start(timeout=180.0)
    return Crash(mixes, declared, started.json()["shadow"]["shadow_id"], as_of, maturity,
                 model)


def test_a_sensors_model_and_its_recalibration_continue_after_the_server_is_killed(
        crash: Crash, client: httpx.Client) -> None:
    model = client.get("/api/elements/crash-column/twin").json()["sensors"][0]
    kinds = [event["kind"] for event in client.get(
        "/api/events", params={"element_id": "crash-column", "limit": 100}).json()["events"]]
    assert "twin_recalibrated" in kinds  # the event is durable
    assert model["readings"] == crash.model["readings"]
    assert model["recalibration"] == crash.model["recalibration"]


def test_mixes_a_shadow_and_maturity_are_there_after_the_server_is_killed(
        crash: Crash, client: httpx.Client) -> None:
    mixes = client.get("/api/mixes").json()
    assert by_name(mixes) == by_name(crash.mixes)
    accepted = {answer.json()["name"] for answer in crash.declared
                if answer.status_code == 201}
    assert accepted <= {m["name"] for m in mixes}
    after = client.get("/api/elements/crash-slab/maturity", params={"as_of": crash.as_of})
    assert after.status_code == 200 and after.json() == crash.maturity  # not from zero
    shadow = client.get("/api/twin/shadow").json()["shadow"]
    assert shadow["shadow_id"] == crash.shadow_id
    assert shadow["parameters"]["threshold"] == 11.0
    # Promoted by eight clients at once: one promotion, the others told none runs.
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        codes = sorted(pool.map(lambda _: client.post("/api/twin/shadow/promote").status_code,
                                range(8)))
    assert codes == [200] + [409] * 7
    assert client.get("/api/twin/shadow").json()["live"]["parameters"]["threshold"] == 11.0
