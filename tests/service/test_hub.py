"""A slow subscriber never slows publishing; it gets a fresh snapshot instead of a backlog."""

from __future__ import annotations

import orjson

from twinsync.service import Hub, Resync


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
