"""WebSocket subscribers get a snapshot, then the changes, in order; updates go both ways."""

from __future__ import annotations

import time
from typing import Any

from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession


def next_of(ws: WebSocketTestSession, kind: str) -> dict[str, Any]:
    for _ in range(50):
        message: dict[str, Any] = ws.receive_json()
        if message["type"] == kind:
            return message
    raise AssertionError(f"no {kind} message")


def test_subscribing_to_one_element_gives_its_snapshot_then_its_deltas(
        client: TestClient) -> None:
    with client.websocket_connect("/ws") as ws:
        ws.send_json({"type": "subscribe", "elements": "L1-room2", "id": 1})
        snapshot = next_of(ws, "snapshot")
        assert snapshot["id"] == 1
        assert [e["id"] for e in snapshot["elements"]] == ["L1-room2"]

        now = time.time()
        client.post("/api/readings", json=[
            {"sensor_id": "L0-room1-temp", "value": 19.0, "time": now},  # not subscribed
            {"sensor_id": "L1-room2-temp", "value": 22.0, "time": now},
            {"sensor_id": "L1-room2-temp", "value": 22.5, "time": now + 1},
        ])
        delta = next_of(ws, "delta")
        moved = delta["properties"]  # moved live values come as columns
        assert moved["element_id"] == ["L1-room2"]
        assert moved["property"] == ["air_temperature"]
        assert moved["value"] == [22.5]  # the newest of the batch
        assert moved["sensor_value"] == [22.5] and moved["sensor_id"] == ["L1-room2-temp"]
        assert moved["unit"] == ["degC"]
        assert delta["changes"] == []


def test_deltas_arrive_in_the_order_changes_were_made(client: TestClient) -> None:
    with client.websocket_connect("/ws") as ws:
        ws.send_json({"type": "subscribe", "elements": "*"})
        assert len(next_of(ws, "snapshot")["elements"]) == 62  # every element, spatial too
        for status in ("in_progress", "issue", "completed"):
            client.patch("/api/elements/L2-slab", json={"status": status})
        statuses = [next_of(ws, "delta")["changes"][0]["status"] for _ in range(3)]
        assert statuses == ["in_progress", "issue", "completed"]


def test_a_field_update_over_the_socket_is_acknowledged_and_broadcast(
        client: TestClient) -> None:
    with client.websocket_connect("/ws") as watcher, client.websocket_connect("/ws") as field:
        watcher.send_json({"type": "subscribe", "elements": ["L3-slab"]})
        next_of(watcher, "snapshot")
        field.send_json({"type": "update", "id": 9, "element_id": "L3-slab",
                         "status": "in_progress", "properties": {"pour": "started"}})
        ack = next_of(field, "ack")
        assert ack["id"] == 9
        assert [e["kind"] for e in ack["events"]] == ["status_changed", "property_changed"]
        changes = next_of(watcher, "delta")["changes"]
        assert changes[0]["status"] == "in_progress"
        assert changes[1]["property"] == "pour"
    assert client.get("/api/elements/L3-slab").json()["status"] == "in_progress"


def test_bad_messages_get_an_error_and_the_socket_stays_open(client: TestClient) -> None:
    with client.websocket_connect("/ws") as ws:
        ws.send_text("{nope")
        assert next_of(ws, "error")["error"] == "bad_message"
        ws.send_json({"type": "subscribe", "elements": ["ghost"], "id": 4})
        error = next_of(ws, "error")
        assert (error["error"], error["id"]) == ("not_found", 4)
        ws.send_json({"type": "update", "element_id": "L0-slab", "status": "done", "id": 5})
        assert next_of(ws, "error")["error"] == "bad_status"
        ws.send_json({"type": "ping", "id": 6})
        assert next_of(ws, "pong")["id"] == 6


def test_bad_frames_are_answered_with_an_error_and_the_socket_stays_open(
        client: TestClient) -> None:
    with client.websocket_connect("/ws") as ws:
        ws.send_bytes(b'{"type": "ping"}')
        assert ws.receive_json()["error"] == "binary_frame"
        ws.send_text("{not json")
        assert ws.receive_json()["error"] == "bad_message"
        ws.send_text("[1, 2]")
        assert ws.receive_json()["error"] == "bad_message"
        ws.send_json({"type": "update", "id": 3, "element_id": "L3-slab", "properties": [1]})
        error = ws.receive_json()
        assert (error["id"], error["error"]) == (3, "bad_message")
        ws.send_json({"type": "update", "element_id": "L3-slab", "status": ["done"]})
        assert ws.receive_json()["error"] == "bad_message"
        ws.send_json({"type": "subscribe", "elements": {"a": 1}, "id": "x" * 10_000})
        error = ws.receive_json()
        assert (error["id"], error["error"]) == (None, "bad_message")
        ws.send_json({"type": "reboot"})
        assert ws.receive_json()["error"] == "unknown_type"
        ws.send_json({"type": "ping", "id": 4})
        assert next_of(ws, "pong")["id"] == 4
