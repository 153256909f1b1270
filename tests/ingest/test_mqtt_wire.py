"""Frames between the MQTT connector and its client process."""

from __future__ import annotations

import asyncio
import io

import pytest

from twinsync.ingest.mqtt_wire import (
    Ack,
    FrameReader,
    Received,
    Status,
    frame,
    read_ack,
)


async def test_frames_come_back_as_they_were_sent() -> None:
    reader = asyncio.StreamReader()
    sent = [Status(True, True, 2), Received(7, 1.5, ["a/b"], [b"{}"], [[("source", "g")]]),
            Received(8, 2.5, ["a/c"], [b"1"])]
    for message in sent:
        reader.feed_data(frame(message))
    frames = FrameReader(reader)
    got = [await frames.receive() for _ in sent]
    assert got == [Status(True, True, 2), Received(7, 1.5, ["a/b"], [b"{}"], [[["source", "g"]]]),
                   Received(8, 2.5, ["a/c"], [b"1"])]


async def test_a_receive_cancelled_halfway_resumes_at_the_same_frame() -> None:
    reader = asyncio.StreamReader()
    data = frame(Received(1, 0.0, ["t"] * 3, [b"x" * 100] * 3)) + frame(Status(False, False, 0))
    frames = FrameReader(reader)
    reader.feed_data(data[:10])  # the length and a little of the body
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(frames.receive(), 0.05)
    reader.feed_data(data[10:])
    first = await frames.receive()
    assert isinstance(first, Received) and first.batch == 1 and len(first.payloads) == 3
    assert await frames.receive() == Status(False, False, 0)


async def test_a_client_that_is_gone_ends_the_stream() -> None:
    reader = asyncio.StreamReader()
    reader.feed_data(frame(Status(True, True, 1))[:3])
    reader.feed_eof()
    with pytest.raises(asyncio.IncompleteReadError):
        await FrameReader(reader).receive()


def test_acks_are_read_until_the_end_of_the_stream() -> None:
    stream = io.BytesIO(frame(Ack(3)) + frame(Ack(4)) + frame(Ack(5))[:-1])
    assert read_ack(stream) == Ack(3)
    assert read_ack(stream) == Ack(4)
    assert read_ack(stream) is None  # a cut-off frame is the end, not garbage
