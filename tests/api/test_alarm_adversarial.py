"""Alarms, anomalies, expected marks and site events as a site really uses them, over a
real server process and real HTTP: an alarm acknowledged twice, by two people at once,
after it cleared, one that never was, by a viewer; marks with a reason pasted from a
whole log, at a time no clock reaches, overlapping, and a crash (kill -9) after them; a
burst of anomalies over many loggers at once; the events read page by page while a heavy
ingest writes more. Every answer is correct or a 4xx with its reason, never a 5xx, a NaN,
a lost mark or alarm, or a figure silently wrong."""

from __future__ import annotations

import concurrent.futures
import json
import math
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.departures import departure
from tests.server import Server

from twinsync.tokens import Role

from .conftest import bearer, seeded_store


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One ``twinsync serve`` process over the demo project for the module (the crash
    test kills and restarts it)."""
    folder = Path(tmp_path_factory.mktemp("alarm-adversary"))
    running = Server("serve", "--store", seeded_store(folder), cwd=folder)
    running.start(timeout=600.0)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def client(server: Server) -> Iterator[httpx.Client]:
    with server.client(timeout=120.0) as http:
        yield http


@pytest.fixture(scope="module")
def roles(server: Server) -> dict[Role, dict[str, str]]:
    store = server.args[server.args.index("--store") + 1]
    return {role: bearer(store, role) for role in (Role.VIEWER, Role.OPERATOR)}


def slab(client: httpx.Client, element_id: str, sensors: list[str]) -> None:
    """A slab of its own with temperature loggers bound to its ``core_temperature``."""
    answer = client.post("/api/elements", json={"id": element_id, "type": "IfcSlab"})
    assert answer.status_code == 201, answer.text
    for sensor_id in sensors:
        answer = client.post("/api/sensors", json={"id": sensor_id, "kind": "temperature",
                                                   "unit": "degC"})
        assert answer.status_code == 201, answer.text
        answer = client.put(f"/api/sensors/{sensor_id}/binding",
                            json={"element_id": element_id, "property": "core_temperature"})
        assert answer.status_code == 200, answer.text


def plant(client: httpx.Client, sensors: list[str], now: float | None = None) -> None:
    """Days of each logger's regular course, then an hour that departs from it."""
    readings = departure(sensors, time.time() if now is None else now)
    answer = client.post("/api/readings", json={"readings": readings})
    assert answer.status_code == 200, answer.text
    assert answer.json()["accepted"] == len(readings), answer.text


def alarms(client: httpx.Client) -> dict[str, dict[str, Any]]:
    answer = client.get("/api/alarms")
    assert answer.status_code == 200, answer.text
    no_nan(answer)
    return {alarm["key"]: alarm for alarm in answer.json()["alarms"]}


def events(client: httpx.Client, kind: str) -> list[dict[str, Any]]:
    answer = client.get("/api/events", params={"kind": kind, "limit": 10_000})
    assert answer.status_code == 200, answer.text
    no_nan(answer)
    found: list[dict[str, Any]] = answer.json()["events"]
    return found


def no_nan(answer: httpx.Response) -> None:
    """A JSON answer with no NaN or infinity in it (standard JSON has neither)."""

    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} in {answer.text[:500]}")

    json.loads(answer.text, parse_constant=refuse)


def mark(client: httpx.Client, **body: Any) -> httpx.Response:
    return client.post("/api/anomalies/expected", json=body)


# -- acknowledging ---------------------------------------------------------------------------


def test_an_alarm_acknowledged_by_several_people_at_once_keeps_the_first_and_tells_the_rest(
        client: httpx.Client, server: Server, roles: dict[Role, dict[str, str]]) -> None:
    slab(client, "ack-slab", ["ack-t1"])
    plant(client, ["ack-t1"])
    key = "anomaly:ack-t1"
    assert key in alarms(client)
    assert client.post(f"/api/alarms/{key}/ack",
                       headers=roles[Role.VIEWER]).status_code == 403

    def acknowledge(_: int) -> httpx.Response:
        with server.client() as http:
            return http.post(f"/api/alarms/{key}/ack", headers=roles[Role.OPERATOR])

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(acknowledge, range(8)))
    assert sorted(a.status_code for a in answers) == [200] + [409] * 7, \
        [a.text for a in answers]
    (first,) = [a.json() for a in answers if a.status_code == 200]
    refused = next(a.json() for a in answers if a.status_code == 409)
    assert refused["error"] == "already_acknowledged" and "tests operator" in refused["detail"]
    # Once more, later, by someone else: the first acknowledgement stands.
    again = client.post(f"/api/alarms/{key}/ack")
    assert again.status_code == 409, again.text
    alarm = alarms(client)[key]
    assert (alarm["acknowledged_by"], alarm["acknowledged_at"]) == (
        "tests operator", first["data"]["acknowledged_at"])
    acks = [e for e in events(client, "alarm_acknowledged") if e["data"]["key"] == key]
    assert len(acks) == 1


def test_an_alarm_that_never_was_or_has_cleared_cannot_be_acknowledged(
        client: httpx.Client) -> None:
    for key in ("anomaly:nobody", "💩\x00x", "x" * 20_000, "anomaly:ack-t1/../x", " "):
        answer = client.post(f"/api/alarms/{quote(key, safe='')}/ack")
        assert answer.status_code == 404, (key[:40], answer.text[:300])
        assert answer.json()["error"] == "not_found"
    slab(client, "cleared-slab", ["cleared-t1"])
    now = time.time()
    plant(client, ["cleared-t1"], now)
    key = "anomaly:cleared-t1"
    assert key in alarms(client)
    answer = mark(client, sensor_id="cleared-t1", start=now - 7200, end=now,
                  reason="pour of the cleared slab")
    assert answer.status_code == 201 and answer.json()["cleared"] == [key], answer.text
    late = client.post(f"/api/alarms/{key}/ack")
    assert late.status_code == 404 and late.json()["error"] == "not_found", late.text


# -- marks that cannot be --------------------------------------------------------------------


@pytest.mark.parametrize(("field", "value"), [
    ("reason", "r" * 100_000),            # a whole log pasted in
    ("reason", "pour\x00of\x1bslab"),     # control characters
    ("start", 1e300),                      # no clock reaches it (not "1e297 ms")
    ("end", 1e300),
    ("end", "9999-12-31T23:59:59+00:00"),
])
def test_a_mark_with_a_reason_or_a_time_no_site_sends_is_refused_and_keeps_nothing(
        client: httpx.Client, field: str, value: Any) -> None:
    slab_id = f"odd-{field}-{abs(hash(str(value))) % 10_000}"
    slab(client, slab_id, [f"{slab_id}-t1"])
    now = time.time()
    body = {"sensor_id": f"{slab_id}-t1", "start": now, "end": now + 3600,
            "reason": "pour", field: value}
    answer = mark(client, **body)
    assert answer.status_code == 422, answer.text[:300]
    assert answer.json()["error"] == ("bad_text" if field == "reason" else "bad_time"), \
        answer.text[:300]
    listed = client.get("/api/anomalies/expected", params={"sensor_id": f"{slab_id}-t1"})
    assert listed.json() == {"expected": []}


def test_a_withdrawal_with_a_huge_reason_is_refused_and_the_mark_stands(
        client: httpx.Client) -> None:
    slab(client, "withdraw-slab", ["withdraw-t1"])
    now = time.time()
    made = mark(client, sensor_id="withdraw-t1", start=now, end=now + 60, reason="test")
    assert made.status_code == 201, made.text
    mark_id = made.json()["expected"][0]["id"]
    answer = client.request("DELETE", f"/api/anomalies/expected/{mark_id}",
                            json={"reason": "w" * 100_000})
    assert answer.status_code == 422 and answer.json()["error"] == "bad_text", answer.text[:300]
    listed = client.get("/api/anomalies/expected", params={"sensor_id": "withdraw-t1"}).json()
    assert [row["id"] for row in listed["expected"]] == [mark_id]


# -- many loggers at once --------------------------------------------------------------------


def test_a_burst_of_anomalies_over_many_loggers_raises_one_alarm_a_logger(
        client: httpx.Client) -> None:
    loggers = [f"burst-t{k}" for k in range(12)]
    slab(client, "burst-slab", loggers)
    plant(client, loggers)
    raised = Counter(e["data"]["key"] for e in events(client, "alarm_raised")
                     if e["data"]["key"].startswith("anomaly:burst-"))
    assert raised == {f"anomaly:{sensor}": 1 for sensor in loggers}
    active = alarms(client)
    assert {f"anomaly:{sensor}" for sensor in loggers} <= set(active)
    assert {active[f"anomaly:{s}"]["element_id"] for s in loggers} == {"burst-slab"}


def test_events_read_page_by_page_during_a_heavy_ingest_are_neither_skipped_nor_repeated(
        client: httpx.Client, server: Server) -> None:
    loggers = [f"paged-t{k}" for k in range(6)]
    slab(client, "paged-slab", loggers)
    start = client.get("/api/events", params={"newest_first": "true", "limit": 1})
    after = start.json()["events"][0]["seq"]
    first_after = after
    done = threading.Event()
    failures: list[str] = []

    def ingest() -> None:
        with server.client() as http:
            try:
                for k, sensor in enumerate(loggers):
                    answer = http.post("/api/readings",
                                       json={"readings": departure([sensor], time.time() - k)})
                    if answer.status_code != 200:
                        failures.append(answer.text)
            finally:
                done.set()

    writer = threading.Thread(target=ingest)
    writer.start()
    seen: list[int] = []
    while True:
        finished = done.is_set()
        page = client.get("/api/events", params={"after": after, "limit": 7})
        assert page.status_code == 200, page.text
        no_nan(page)
        seqs = [event["seq"] for event in page.json()["events"]]
        assert seqs == sorted(seqs) and all(s > after for s in seqs)
        seen += seqs
        after = seqs[-1] if seqs else after
        if finished and not seqs:
            break
    writer.join()
    assert not failures
    whole = client.get("/api/events", params={"after": first_after, "limit": 10_000}).json()
    assert seen == [event["seq"] for event in whole["events"]]
    assert len(seen) == len(set(seen)) and len(seen) >= len(loggers)


# -- a crash ---------------------------------------------------------------------------------


def test_marks_and_an_acknowledgement_survive_a_kill_and_the_marks_still_suppress(
        client: httpx.Client, server: Server) -> None:
    slab(client, "crash-slab", ["crash-t1", "crash-t2"])
    now = time.time()
    plant(client, ["crash-t2"], now - 86_400 * 3)  # an alarm, then acknowledged
    assert client.post("/api/alarms/anomaly:crash-t2/ack").status_code == 200
    # Two overlapping marks of the same logger, and one withdrawn.
    made = [mark(client, sensor_id="crash-t1", start=now - 7200, end=now + 600,
                 reason="pour of the crash slab"),
            mark(client, element_id="crash-slab", start=now - 3600, end=now + 3600,
                 reason="heater test ✓"),
            mark(client, sensor_id="crash-t1", start=now - 100, end=now, reason="typo")]
    assert [answer.status_code for answer in made] == [201, 201, 201], [a.text for a in made]
    typo = made[2].json()["expected"][0]["id"]
    gone = client.request("DELETE", f"/api/anomalies/expected/{typo}",
                          json={"reason": "marked by mistake"})
    assert gone.status_code == 200, gone.text
    before = client.get("/api/anomalies/expected", params={"withdrawn": "include"}).json()
    acknowledged = alarms(client)["anomaly:crash-t2"]

    server.kill()
    server.start(timeout=600.0)

    after = client.get("/api/anomalies/expected", params={"withdrawn": "include"}).json()
    assert after == before
    assert alarms(client)["anomaly:crash-t2"] == acknowledged
    plant(client, ["crash-t1"], now)
    told = [e for e in events(client, "anomaly") if e["data"]["sensor"] == "crash-t1"]
    assert told and all(e["data"]["expected"] for e in told)
    assert {e["data"]["reason"] for e in told} <= {"pour of the crash slab", "heater test ✓"}
    assert "anomaly:crash-t1" not in alarms(client)


# -- what subscribers see --------------------------------------------------------------------


def test_a_subscriber_sees_the_alarm_raised_and_acknowledged_once_and_no_refused_second(
        client: httpx.Client, server: Server) -> None:
    from websockets.sync.client import connect

    slab(client, "ws-slab", ["ws-t1"])
    key = "anomaly:ws-t1"
    with connect(f"ws://127.0.0.1:{server.port}/ws", max_size=None,
                 additional_headers=server.headers) as socket:
        socket.send(json.dumps({"type": "subscribe", "elements": "ws-slab"}))

        def changes_until_pong() -> list[dict[str, Any]]:
            """Every change pushed before the answer to a ping (pushes are in order)."""
            socket.send(json.dumps({"type": "ping"}))
            seen: list[dict[str, Any]] = []
            while (message := json.loads(socket.recv(timeout=30)))["type"] != "pong":
                seen += message.get("changes", [])
            return seen

        changes_until_pong()  # the snapshot
        plant(client, ["ws-t1"])
        raised = [c for c in changes_until_pong() if c.get("key") == key]
        assert [c["kind"] for c in raised] == ["alarm_raised"]
        assert client.post(f"/api/alarms/{key}/ack").status_code == 200
        assert client.post(f"/api/alarms/{key}/ack").status_code == 409
        acked = [c for c in changes_until_pong() if c.get("key") == key]
        assert [(c["kind"], c["acknowledged_by"]) for c in acked] == [
            ("alarm_acknowledged", "tests admin")]


# -- site events while readings arrive -------------------------------------------------------


def test_site_events_declared_overlapping_and_withdrawn_while_readings_arrive_answer_clearly(
        client: httpx.Client, server: Server) -> None:
    loggers = ["pour-t1", "pour-t2"]
    slab(client, "pour-slab", loggers)
    now = time.time()
    stop = threading.Event()
    failures: list[str] = []

    def ingest() -> None:
        with server.client() as http:
            k = 0
            while not stop.is_set():
                readings = [{"sensor_id": sensor, "time": now - 3600 + k, "value": 20 + k % 3}
                            for sensor in loggers]
                answer = http.post("/api/readings", json={"readings": readings})
                if answer.status_code != 200:
                    failures.append(answer.text)
                k += 1

    writer = threading.Thread(target=ingest)
    writer.start()
    try:
        declared = []
        for k in range(6):  # overlapping pours and heating of one slab
            answer = client.post("/api/site-events", json={
                "kind": "pour" if k % 2 else "heating", "start": now - 7200 + 600 * k,
                "end": now + 600 * k, "element_ids": ["pour-slab"],
                "sensor_ids": ["pour-t1"]})
            assert answer.status_code == 201, answer.text
            declared.append(answer.json()["id"])
        for event_id in declared[::2]:
            answer = client.delete(f"/api/site-events/{event_id}")
            assert answer.status_code == 200 and answer.json()["withdrawn_at"], answer.text
            again = client.delete(f"/api/site-events/{event_id}")
            assert again.status_code == 404, again.text
        for sensor in loggers:
            health = client.get(f"/api/sensors/{sensor}/health")
            assert health.status_code == 200, health.text
            no_nan(health)
    finally:
        stop.set()
        writer.join()
    assert not failures, failures[:3]
    live = client.get("/api/site-events", params={"element_id": "pour-slab"}).json()["events"]
    assert sorted(event["id"] for event in live) == sorted(declared[1::2])
    every = client.get("/api/site-events", params={"element_id": "pour-slab",
                                                   "withdrawn": "true"}).json()["events"]
    assert sorted(event["id"] for event in every) == sorted(declared)
    for bad in ({"start": now + 10, "end": now}, {"start": "tomorrow"},
                {"start": now, "end": now + 200 * 86_400}):
        answer = client.post("/api/site-events", json={"kind": "heating",
                                                       "element_ids": ["pour-slab"], **bad})
        assert answer.status_code == 422, answer.text
    unknown = client.post("/api/site-events", json={"kind": "pour", "start": now,
                                                    "element_ids": ["no-such-slab"]})
    assert unknown.status_code == 422 and unknown.json()["error"] == "unknown_element"


# -- any span a client may send --------------------------------------------------------------

#: What a site's clients send as a time: epoch seconds or milliseconds, ISO 8601 with or
#: without an offset, and what goes wrong (NaN, infinities, text, dates no clock reaches).
times = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=0, max_value=4e12),
    st.integers(min_value=-10, max_value=10**16),
    st.builds(lambda moment, minutes: moment.replace(
        tzinfo=timezone(timedelta(minutes=minutes))).isoformat(),
        st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(9999, 12, 30)),
        st.integers(min_value=-14 * 60, max_value=14 * 60)),
    st.datetimes(min_value=datetime(1970, 1, 2)).map(datetime.isoformat),
    st.sampled_from(["", "NaN", "tomorrow", "2026-13-01T00:00:00Z", "1e400"]),
)


def seconds_of(value: float | int | str) -> float | None:
    """What the time means (an oracle written apart from the code), or None: refused."""
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        seconds = moment.timestamp()
    else:
        seconds = float(value)
        if not math.isfinite(seconds):
            return None
        if seconds > 1e11:
            seconds /= 1000.0
    return seconds if 0 <= seconds <= 1e11 else None


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=times, end=times)
def test_a_mark_of_any_span_is_kept_at_the_times_sent_or_refused_with_a_reason(
        client: httpx.Client, start: float | int | str, end: float | int | str) -> None:
    if "hyp-t1" not in client.get("/api/sensors", params={"limit": 10_000}).text:
        slab(client, "hyp-slab", ["hyp-t1"])
    answer = client.post("/api/anomalies/expected", content=json.dumps({
        "sensor_id": "hyp-t1", "start": start, "end": end, "reason": "pour"}),
        headers={"content-type": "application/json"})
    begins, ends = seconds_of(start), seconds_of(end)
    no_nan(answer)
    if begins is None or ends is None:
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"] == "bad_time", answer.text
    elif ends < begins:
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"] == "bad_span", answer.text
    else:
        assert answer.status_code == 201, answer.text
        (span,) = answer.json()["expected"]
        assert span["start"] == pytest.approx(begins, abs=1e-3)
        assert span["end"] == pytest.approx(ends, abs=1e-3)


def test_the_alarm_of_a_logger_named_like_its_mqtt_topic_can_be_acknowledged(
        client: httpx.Client) -> None:
    # Gateways name loggers by topic ("site/L9/t1"): an id may hold slashes, and so does
    # its alarm's key. (Not bound: the binding's route cannot name it, see below.)
    answer = client.post("/api/sensors", json={"id": "site/L9/t1", "kind": "temperature",
                                               "unit": "degC"})
    assert answer.status_code == 201, answer.text
    plant(client, ["site/L9/t1"])
    key = "anomaly:site/L9/t1"
    assert key in alarms(client)
    answer = client.post(f"/api/alarms/{quote(key, safe='')}/ack")
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"]["key"] == key
    assert alarms(client)[key]["acknowledged_by"] == "tests admin"
    missing = client.post(f"/api/alarms/{quote('anomaly:site/L9/none', safe='')}/ack")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"


def test_a_logger_named_like_its_mqtt_topic_is_reached_by_its_own_routes(
        client: httpx.Client) -> None:
    answer = client.post("/api/sensors", json={"id": "site/L8/t1", "kind": "temperature",
                                               "unit": "degC"})
    assert answer.status_code == 201, answer.text
    # Over uvicorn, its slashes encoded (as the dashboard sends them) or as they are.
    for named in (quote("site/L8/t1", safe=""), "site/L8/t1"):
        read = client.get(f"/api/sensors/{named}")
        assert read.status_code == 200 and read.json()["id"] == "site/L8/t1", read.text
        judged = client.get(f"/api/sensors/{named}/health")
        assert judged.status_code == 200 and judged.json()["sensor_id"] == "site/L8/t1"
        history = client.get(f"/api/sensors/{named}/readings")
        assert history.status_code == 200 and history.json()["sensor_id"] == "site/L8/t1"
        bound = client.put(f"/api/sensors/{named}/binding",
                           json={"element_id": "L1-slab", "property": "core_temperature"})
        assert bound.status_code == 200 and bound.json()["binding"]["sensor_id"] == "site/L8/t1"
        unbound = client.delete(f"/api/sensors/{named}/binding")
        assert unbound.status_code == 200 and unbound.json()["binding"] is None


def test_an_alarm_of_a_logger_unbound_mid_anomaly_stays_until_it_is_calm_or_marked(
        client: httpx.Client, server: Server) -> None:
    slab(client, "unbound-slab", ["unbound-t1", "unbound-t2"])
    now = time.time() - 86_400
    plant(client, ["unbound-t1", "unbound-t2"], now)
    raised = alarms(client)
    for sensor in ("unbound-t1", "unbound-t2"):
        assert raised[f"anomaly:{sensor}"]["element_id"] == "unbound-slab"
        answer = client.delete(f"/api/sensors/{sensor}/binding")
        assert answer.status_code == 200, answer.text
    # Unbinding loses no alarm: it is about the logger's readings, filed where they went.
    kept = alarms(client)
    assert kept["anomaly:unbound-t1"] == raised["anomaly:unbound-t1"]
    # Marking the element it left marks nothing of it (no sensor bound now) ...
    answer = mark(client, element_id="unbound-slab", start=now - 7200, end=now,
                  reason="pour")
    assert answer.status_code == 422 and answer.json()["error"] == "no_sensors", answer.text
    # ... marking the logger itself clears its alarm, and calm readings clear the other's.
    answer = mark(client, sensor_id="unbound-t1", start=now - 7200, end=now, reason="pour")
    assert answer.json()["cleared"] == ["anomaly:unbound-t1"], answer.text
    calm = [{"sensor_id": "unbound-t2", "time": now + 7 * 3600 + 60 * k,
             "value": 20.0 + 0.05 * (k % 2)} for k in range(20)]
    assert client.post("/api/readings", json={"readings": calm}).status_code == 200
    left = alarms(client)
    assert "anomaly:unbound-t1" not in left and "anomaly:unbound-t2" not in left
    cleared = [e for e in events(client, "alarm_cleared")
               if e["data"]["key"] == "anomaly:unbound-t2"]
    assert len(cleared) == 1 and cleared[0]["element_id"] == "unbound-slab"


def test_alarms_health_and_marks_read_during_a_heavy_ingest_answer_whole_pages(
        client: httpx.Client, server: Server) -> None:
    loggers = [f"busy-t{k}" for k in range(8)]
    slab(client, "busy-slab", loggers)
    done = threading.Event()

    def ingest() -> None:
        with server.client() as http:
            try:
                http.post("/api/readings", json={"readings": departure(loggers, time.time())})
            finally:
                done.set()

    writer = threading.Thread(target=ingest)
    writer.start()
    reads = 0
    while not done.is_set() or reads < 3:
        for path in ("/api/alarms", "/api/health", "/api/sensors/busy-t3/health",
                     "/api/anomalies/expected?limit=5", "/api/site-events"):
            answer = client.get(path)
            assert answer.status_code == 200, (path, answer.text[:300])
            no_nan(answer)
        reads += 1
    writer.join()
    active = alarms(client)
    assert {f"anomaly:{sensor}" for sensor in loggers} <= set(active)
