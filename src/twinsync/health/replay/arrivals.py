"""Readings grouped into the batches a connector would have handed the service.

A live connector seals a batch when it is full or shortly after its first message, and
splits it by source (each source's clock is learned on its own). Here a batch is the
consecutive rows that arrived within the same second from the same source, at most
``MAX_BATCH`` of them, received when its last row was; a second's batches are handed
over in the order they were sealed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
from numpy.typing import NDArray

from ...errors import InvalidInput
from ...pipeline import IncomingBatch, RawReading
from .files import ReadingChunk

#: The most readings in one batch: a live MQTT connector's default (``max_batch_messages``).
MAX_BATCH = 5_000
#: Seconds of arrival that make one batch (per source).
WINDOW = 1.0
#: The connector the replayed readings are said to come through (latency keys, dead letters).
CONNECTOR = "replay"


@dataclass(slots=True)
class Arrival:
    """One batch as the service would receive it, with each reading's line in the file."""

    incoming: IncomingBatch
    lines: NDArray[np.int64]


def arrivals(chunks: Iterable[ReadingChunk], max_batch: int = MAX_BATCH,
             window: float = WINDOW) -> Iterator[Arrival | ReadingChunk]:
    """Batches in arrival order. Each chunk is yielded first (its ``bad`` rows are the
    caller's to count); a second's rows at the end of a chunk wait for the next one, whose
    first rows may belong to the same second.

    ``window`` widens the second: rows of one source within the same ``window`` seconds
    (counted from the epoch) make one batch. Wider than a connector would wait, it is a
    trade of fidelity for speed when every reading arrived on its own (the cost of a batch
    is mostly per batch, not per reading): each reading is then received up to
    ``window`` seconds later than it was."""
    if not window > 0:
        raise InvalidInput(f"the batching window must be positive, not {window!r}",
                           "bad_window")
    held: ReadingChunk | None = None
    for chunk in chunks:
        yield chunk
        if held is not None:
            chunk = _join(held, chunk)
        seconds = np.floor(chunk.received_at / window)
        if len(chunk) == 0:
            held = None
            continue
        # The last second may go on in the next chunk.
        other = seconds[::-1] != seconds[-1]
        cut = len(chunk) - (int(other.argmax()) if other.any() else len(chunk))
        yield from _batches(chunk, seconds, 0, cut, max_batch)
        held = _slice(chunk, cut, len(chunk))
    if held is not None and len(held):
        yield from _batches(held, np.floor(held.received_at / window), 0, len(held),
                            max_batch)


def _batches(chunk: ReadingChunk, seconds: NDArray[np.float64], start: int, end: int,
             max_batch: int) -> Iterator[Arrival]:
    if end <= start:
        return
    edges = np.flatnonzero(seconds[start + 1:end] != seconds[start:end - 1]) + start + 1
    bounds = [start, *edges.tolist(), end]
    sources = chunk.source
    for first, last in pairwise(bounds):
        run = sources[first:last]
        if run.count(run[0]) == len(run):
            groups = [list(range(first, last))]
        else:
            by_source: dict[str, list[int]] = {}
            for i, source in enumerate(run, start=first):
                by_source.setdefault(source, []).append(i)
            groups = list(by_source.values())
        sealed = [_arrival(chunk, members[at:at + max_batch])
                  for members in groups for at in range(0, len(members), max_batch)]
        if len(sealed) > 1:
            # Handed over in the order they were sealed, so the clock never runs back.
            sealed.sort(key=lambda arrival: arrival.incoming.received_at)
        yield from sealed


def _arrival(chunk: ReadingChunk, members: list[int]) -> Arrival:
    ids, times, values, seqs = chunk.sensor_id, chunk.time, chunk.value, chunk.seq
    readings = [RawReading(ids[i], values[i], times[i], None, seqs[i]) for i in members]
    index = np.array(members, dtype=np.int64)
    received_at = float(chunk.received_at[index].max())
    return Arrival(IncomingBatch(readings, chunk.source[members[0]], received_at, CONNECTOR),
                   chunk.line[index])


def _slice(chunk: ReadingChunk, start: int, end: int) -> ReadingChunk:
    return ReadingChunk(chunk.line[start:end], chunk.received_at[start:end],
                        chunk.source[start:end], chunk.sensor_id[start:end],
                        chunk.time[start:end], chunk.value[start:end], chunk.seq[start:end])


def _join(first: ReadingChunk, second: ReadingChunk) -> ReadingChunk:
    return ReadingChunk(np.concatenate([first.line, second.line]),
                        np.concatenate([first.received_at, second.received_at]),
                        first.source + second.source, first.sensor_id + second.sensor_id,
                        first.time + second.time, first.value + second.value,
                        first.seq + second.seq)
