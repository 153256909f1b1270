"""The MQTT client process against the real Mosquitto: batches out, PUBACKs only on request."""

from __future__ import annotations

import queue
import subprocess
import sys
import threading

import msgspec

from twinsync.ingest.mqtt_wire import Ack, ClientOptions, Received, Status, frame, read_frame

from .mqtt_helpers import publish

MESSAGES = 20


class Client:
    """``python -m twinsync.ingest.mqtt_client`` with its frames read on a thread."""

    def __init__(self, options: ClientOptions) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "twinsync.ingest.mqtt_client"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert self.process.stdin is not None and self.process.stdout is not None
        self.stdin = self.process.stdin
        self.frames: queue.Queue[Status | Received | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, args=(self.process.stdout,),
                                        daemon=True)
        self._reader.start()
        self.send(options)

    def _read(self, stdout: object) -> None:
        while (body := read_frame(stdout)) is not None:  # type: ignore[arg-type]
            self.frames.put(msgspec.msgpack.decode(body, type=Status | Received))
        self.frames.put(None)

    def send(self, message: ClientOptions | Ack) -> None:
        self.stdin.write(frame(message))
        self.stdin.flush()

    def subscribed(self) -> None:
        while True:
            message = self.frames.get(timeout=10)
            assert isinstance(message, Status) and message.error is None, message
            if message.subscribed:
                return

    def received(self, count: int) -> list[Received]:
        batches: list[Received] = []
        while sum(len(batch.payloads) for batch in batches) < count:
            message = self.frames.get(timeout=10)
            assert message is not None, "the client exited"
            if isinstance(message, Received):
                batches.append(message)
        return batches

    def close(self) -> int:
        self.stdin.close()
        code = self.process.wait(10)
        self._reader.join(10)  # it has read to the end of stdout
        assert self.process.stdout is not None
        self.process.stdout.close()
        return code


def options(run_id: str, broker: tuple[str, int]) -> ClientOptions:
    return ClientOptions(
        host=broker[0], port=broker[1], client_id=f"cli-{run_id}", protocol=5, qos=1,
        filters=[f"cli/{run_id}/#"], persistent=True, session_expiry=60, keepalive=30,
        reconnect_min=1, reconnect_max=2, receive_maximum=65_535, max_batch_messages=8,
        max_batch_bytes=1 << 20, max_pending=2, linger=0.01)


def test_messages_come_again_until_their_batch_is_acked(
        mqtt_broker: tuple[str, int], run_id: str) -> None:
    first = Client(options(run_id, mqtt_broker))
    first.subscribed()
    sent = [(f"cli/{run_id}/s-{i % 3}", b'{"v": %d}' % i) for i in range(MESSAGES)]
    publish(*mqtt_broker, sent)
    batches = first.received(MESSAGES)
    assert [p for batch in batches for p in batch.payloads] == [p for _, p in sent]
    assert max(len(batch.payloads) for batch in batches) <= 8  # max_batch_messages
    assert first.close() == 0  # stdin closed: it disconnects, acking nothing

    second = Client(options(run_id, mqtt_broker))
    again = second.received(MESSAGES)  # the persistent session delivers them again
    assert sorted(p for batch in again for p in batch.payloads) == sorted(p for _, p in sent)
    for batch in again:
        second.send(Ack(batch.batch))
    assert second.close() == 0

    third = Client(options(run_id, mqtt_broker))
    third.subscribed()
    try:
        late = third.frames.get(timeout=1.0)
        assert not isinstance(late, Received), "acked messages came again"
    except queue.Empty:
        pass
    assert third.close() == 0


def test_a_broker_that_is_not_there_is_reported_and_the_client_exits(run_id: str) -> None:
    client = Client(options(run_id, ("127.0.0.1", 1)))
    status = client.frames.get(timeout=10)
    assert isinstance(status, Status) and not status.connected
    assert status.error is not None and "cannot connect to 127.0.0.1:1" in status.error
    assert client.close() == 1
