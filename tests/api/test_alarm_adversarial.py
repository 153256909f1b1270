"""Alarms, anomalies, expected marks and site events as a site really uses them, over a
real server process and real HTTP: an alarm acknowledged twice, by two people at once,
after it cleared, one that never was, by a viewer; marks with a reason pasted from a
whole log, at a time no clock reaches, overlapping, and a crash (kill -9) after them; a
burst of anomalies over many loggers at once; the events read page by page while a heavy
ingest writes more. Every answer is correct or a 4xx with its reason, never a 5xx, a NaN,
a lost mark or alarm, or a figure silently wrong."""

from __future__ import annotations

import concurrent.futures
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
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
    """A JSON answer with no NaN or infinity in it."""
    assert "NaN" not in answer.text and "Infinity" not in answer.text, answer.text[:500]


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
