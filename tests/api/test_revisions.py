"""ETag and If-Match over HTTP, and the WebSocket update's revision: a write made against a
stale revision answers 412 (or an error of the same code) and changes nothing."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi.testclient import TestClient

from .test_websocket import next_of


def state(client: TestClient) -> dict[str, Any]:
    """What a stale write could have changed: the element, the binding and the events."""
    return {"element": client.get("/api/elements/L1-slab").json(),
            "sensor": client.get("/api/sensors/L1-slab-t1").json()["binding"],
            "events": client.get("/api/events?limit=10000").json()["events"]}


def test_an_element_answers_its_revision_as_its_etag(client: TestClient) -> None:
    got = client.get("/api/elements/L1-slab")
    assert got.headers["etag"] == f'"{got.json()["revision"]}"' == '"1"'
    patched = client.patch("/api/elements/L1-slab", json={"status": "in_progress"},
                           headers={"If-Match": got.headers["etag"]})
    assert patched.status_code == 200, patched.text
    assert patched.headers["etag"] == '"2"' == f'"{patched.json()["element"]["revision"]}"'
    assert client.get("/api/elements/L1-slab").headers["etag"] == '"2"'


def test_a_patch_with_a_stale_if_match_answers_412_and_changes_nothing(
        client: TestClient) -> None:
    client.patch("/api/elements/L1-slab", json={"status": "in_progress"})  # now at 2
    before = state(client)
    for stale in ('"1"', '"1", "3"', 'W/"2"', '"two"'):
        refused = client.patch("/api/elements/L1-slab",
                               json={"status": "issue", "properties": {"note": "x"}},
                               headers={"If-Match": stale})
        assert refused.status_code == 412, (stale, refused.text)
        assert refused.json().keys() == {"error", "detail"}
        assert refused.json()["error"] == "stale_revision"
        assert refused.headers["etag"] == '"2"'
    assert state(client) == before
    # Several tags, one of them current; and ``*``: both go through.
    assert client.patch("/api/elements/L1-slab", json={"status": "issue"},
                        headers={"If-Match": '"1", "2"'}).status_code == 200
    assert client.patch("/api/elements/L1-slab", json={"status": "completed"},
                        headers={"If-Match": "*"}).status_code == 200


def test_without_if_match_a_write_goes_on_as_before(client: TestClient) -> None:
    client.patch("/api/elements/L1-slab", json={"status": "in_progress"})
    answer = client.patch("/api/elements/L1-slab", json={"status": "issue"})
    assert answer.status_code == 200 and answer.headers["etag"] == '"3"'


def test_a_binding_put_or_delete_with_a_stale_if_match_answers_412_and_changes_nothing(
        client: TestClient) -> None:
    sensor = client.get("/api/sensors/L1-slab-t1")
    tag = sensor.headers["etag"]
    assert tag == f'"{sensor.json()["binding_revision"]}"'
    binding = sensor.json()["binding"]
    moved = client.put("/api/sensors/L1-slab-t1/binding", headers={"If-Match": tag},
                       json={"element_id": binding["element_id"], "property": "core_t"})
    assert moved.status_code == 200, moved.text
    assert moved.headers["etag"] == f'"{int(tag.strip(chr(34))) + 1}"'
    before = state(client)
    put = client.put("/api/sensors/L1-slab-t1/binding", headers={"If-Match": tag},
                     json={"element_id": "L2-slab", "property": "core_temperature"})
    deleted = client.delete("/api/sensors/L1-slab-t1/binding", headers={"If-Match": tag})
    for refused in (put, deleted):
        assert refused.status_code == 412
        assert refused.json()["error"] == "stale_revision"
        assert refused.headers["etag"] == moved.headers["etag"]
    assert state(client) == before
    gone = client.delete("/api/sensors/L1-slab-t1/binding",
                         headers={"If-Match": moved.headers["etag"]})
    assert gone.status_code == 200 and gone.json()["binding"] is None


def test_a_websocket_update_with_a_stale_revision_is_refused_and_changes_nothing(
        client: TestClient) -> None:
    with client.websocket_connect("/ws") as ws:
        ws.send_json({"type": "subscribe", "elements": ["L3-slab"], "id": 1})
        revision = next_of(ws, "snapshot")["elements"][0]["revision"]
        ws.send_json({"type": "update", "id": 2, "element_id": "L3-slab",
                      "status": "in_progress", "revision": revision})
        ack = next_of(ws, "ack")
        assert (ack["id"], ack["revision"]) == (2, revision + 1)
        before = state(client), client.get("/api/elements/L3-slab").json()
        ws.send_json({"type": "update", "id": 3, "element_id": "L3-slab",
                      "status": "issue", "revision": revision})
        error = next_of(ws, "error")
        assert (error["id"], error["error"]) == (3, "stale_revision")
        assert f"revision {revision + 1}" in error["detail"]
        ws.send_json({"type": "update", "id": 4, "element_id": "L3-slab",
                      "status": "issue", "revision": "2"})
        assert next_of(ws, "error")["error"] == "bad_message"
        assert (state(client), client.get("/api/elements/L3-slab").json()) == before


def test_of_patches_racing_with_one_if_match_exactly_one_wins(client: TestClient) -> None:
    tag = client.get("/api/elements/L2-slab").headers["etag"]
    writers = 8
    start = threading.Barrier(writers)

    def patch(n: int) -> int:
        start.wait()
        return client.patch("/api/elements/L2-slab", json={"properties": {"writer": n}},
                            headers={"If-Match": tag}).status_code

    with ThreadPoolExecutor(writers) as pool:
        statuses = list(pool.map(patch, range(writers)))
    assert sorted(statuses) == [200] + [412] * (writers - 1)
    winner = statuses.index(200)
    element = client.get("/api/elements/L2-slab")
    assert element.json()["properties"]["writer"]["value"] == winner
    assert element.headers["etag"] == f'"{int(tag.strip(chr(34))) + 1}"'


def test_a_websocket_ack_names_the_revision_its_update_left_not_a_later_writers(
        client: TestClient) -> None:
    service = client.app.state.service  # type: ignore[attr-defined]
    update = service.update_element

    async def then_another_writer(element_id: str, **kwargs: Any) -> Any:
        events = await update(element_id, **kwargs)
        # Another writer commits between this update and its ack.
        await update(element_id, properties={"note": "from another writer"})
        return events

    with client.websocket_connect("/ws") as ws:
        ws.send_json({"type": "subscribe", "elements": ["L3-slab"], "id": 1})
        revision = next_of(ws, "snapshot")["elements"][0]["revision"]
        service.update_element = then_another_writer
        ws.send_json({"type": "update", "id": 2, "element_id": "L3-slab",
                      "status": "in_progress", "revision": revision})
        ack = next_of(ws, "ack")
        service.update_element = update
        assert (ack["id"], ack["revision"]) == (2, revision + 1)
        # Sent with the ack's revision, the next update is refused: it has not seen the
        # other writer's change.
        ws.send_json({"type": "update", "id": 3, "element_id": "L3-slab",
                      "status": "issue", "revision": ack["revision"]})
        assert next_of(ws, "error")["error"] == "stale_revision"
