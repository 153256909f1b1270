"""A slow subscriber never slows publishing; it gets a fresh snapshot instead of a backlog."""

from __future__ import annotations

import numpy as np
import orjson

from twinsync.service import Hub, Resync
from twinsync.service.changes import PropertyChanges


async def test_publishing_to_a_full_queue_replaces_the_backlog_with_a_resync() -> None:
    hub = Hub(queue_size=3)
    slow = hub.subscribe()
    slow.everything = True
    for n in range(10):
        hub.publish([{"element_id": "a", "n": n}])  # never waits
    assert slow.queue.qsize() <= 3
    assert slow.resyncs >= 1
    messages = [slow.queue.get_nowait() for _ in range(slow.queue.qsize())]
    # Whatever it missed, the client's next message is a resync: one fresh snapshot, which
    # already shows the last change, rather than a stale backlog.
    assert isinstance(messages[0], Resync)
    assert all(not isinstance(m, Resync) for m in messages[1:])


async def test_deltas_queued_after_a_resync_follow_it_in_order() -> None:
    hub = Hub(queue_size=2)
    client = hub.subscribe()
    client.everything = True
    for n in range(3):
        hub.publish([{"element_id": "a", "n": n}])
    hub.publish([{"element_id": "a", "n": 3}])
    first, second = client.queue.get_nowait(), client.queue.get_nowait()
    assert isinstance(first, Resync)
    assert isinstance(second, str)  # encoded once for every subscriber of everything
    assert orjson.loads(second)["changes"][0]["n"] == 3


async def test_a_message_for_everything_is_encoded_once_for_all_its_subscribers() -> None:
    hub = Hub()
    clients = [hub.subscribe() for _ in range(3)]
    for client in clients:
        client.everything = True
    hub.publish([{"element_id": "a", "n": 1}], committed_at=5.0)
    messages = [client.queue.get_nowait() for client in clients]
    assert all(m is messages[0] for m in messages)
    assert isinstance(messages[0], str)
    assert orjson.loads(messages[0]) == {"type": "delta", "committed_at": 5.0,
                                         "changes": [{"element_id": "a", "n": 1}]}


async def test_a_subscriber_gets_only_the_elements_it_asked_for() -> None:
    hub = Hub()
    picky = hub.subscribe()
    picky.elements = {"b"}
    hub.publish([{"element_id": "a"}, {"element_id": "b"}, {"element_id": None}])
    message = picky.queue.get_nowait()
    assert not isinstance(message, Resync)
    assert message["changes"] == [{"element_id": "b"}]
    assert picky.queue.empty()


def _moved(*elements: str) -> PropertyChanges:
    count = len(elements)
    return PropertyChanges(
        element_id=list(elements), property=["t"] * count,
        sensor_id=[f"{e}-s" for e in elements], unit=["degC"] * count,
        value=np.arange(count, dtype=np.float64), time=np.full(count, 10.0),
        quality=np.ones(count), sensor_value=np.arange(count, dtype=np.float64),
        sensor_time=np.full(count, 10.0), sensor_quality=np.ones(count),
        sensor_anomaly=np.full(count, 0.25, dtype=np.float32))


async def test_moved_values_travel_as_columns_one_entry_per_sensor() -> None:
    hub = Hub()
    client = hub.subscribe()
    client.everything = True
    hub.publish(properties=_moved("a", "b"), committed_at=5.0)
    message = orjson.loads(client.queue.get_nowait())
    assert message["changes"] == []
    assert message["properties"]["element_id"] == ["a", "b"]
    assert message["properties"]["value"] == [0.0, 1.0]
    assert message["properties"]["sensor_id"] == ["a-s", "b-s"]


async def test_a_subscriber_of_some_elements_gets_only_their_moved_values() -> None:
    hub = Hub()
    picky = hub.subscribe()
    picky.elements = {"b"}
    hub.publish(properties=_moved("a", "b", "c"))
    message = picky.queue.get_nowait()
    assert not isinstance(message, (Resync, str))
    moved = message["properties"]
    assert moved["element_id"] == ["b"] and moved["sensor_id"] == ["b-s"]
    assert moved["value"].tolist() == [1.0]
    hub.publish(properties=_moved("a"))  # nothing of b: no message at all
    assert picky.queue.empty()


def _rows(moved: PropertyChanges) -> list[dict[str, object]]:
    """Entry k of every column, as a client reads one change."""
    columns = {name: list(column) for name, column in moved.columns().items()}
    return [{"kind": "property", **{name: column[k] for name, column in columns.items()}}
            for k in range(len(moved))]


def test_columns_read_back_as_one_change_per_sensor() -> None:
    [first, second] = _rows(_moved("a", "b"))
    assert first == {"kind": "property", "element_id": "a", "property": "t",
                     "sensor_id": "a-s", "unit": "degC", "value": 0.0, "time": 10.0,
                     "quality": 1.0, "sensor_value": 0.0, "sensor_time": 10.0,
                     "sensor_quality": 1.0, "sensor_anomaly": 0.25}
    assert second["element_id"] == "b" and second["value"] == 1.0


async def test_a_reading_not_scored_travels_with_a_null_score_and_a_scored_one_as_stored(
        ) -> None:
    hub = Hub()
    client = hub.subscribe()
    client.everything = True
    moved = _moved("a", "b")
    moved.sensor_anomaly = np.array([np.nan, 0.41234567], dtype=np.float32)
    hub.publish(properties=moved)
    text = client.queue.get_nowait()
    assert isinstance(text, str)
    # Valid JSON (no NaN), and the score as float32 keeps it: short, and what the store's
    # history gives back for that reading.
    assert '"sensor_anomaly":[null,0.41234568]' in text
    assert orjson.loads(text)["properties"]["sensor_anomaly"] == [None, 0.41234568]
