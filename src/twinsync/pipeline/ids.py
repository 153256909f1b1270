"""Sensor id → row for a whole batch at once, in compiled code.

A Python dict answers one id in ~60 ns while the fleet is small, but each look-up follows
a chain of pointers (hash slot, entry, key string, row object) and with 100,000 sensors
those live outside the CPU's private cache: ~400 ns a reading, the largest part of what a
big fleet costs. Here the batch's ids are joined into one byte string and looked up in an
open-addressing table of NumPy arrays by one compiled loop. The readings are independent,
so the CPU overlaps their cache misses instead of waiting for each in turn.

Keys are compared byte for byte after the hash matches: a wrong row is impossible, not
just improbable. Rows are never removed (the pipeline's rows are append-only).

>>> index = IdIndex()
>>> index.add("s1", 0); index.add("s2", 1)
>>> index.rows_of(["s2", "nope", "s1"])
array([ 1, -1,  0])
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..jit import LIGHT_PASS_AHEAD, compiled, prefetch_item

#: Separator of the ids in a batch's joined bytes; an id holding it is looked up by dict.
SEPARATOR = "\x00"
_EMPTY = -1


class IdIndex:
    """An append-only map of text ids to dense rows, answered a batch at a time.

    An id holding the separator cannot be found in joined bytes: it is not added, and a
    batch naming it is not answered (``rows_of`` returns None), so that the caller looks
    that batch up in its dict."""

    def __init__(self, capacity: int = 1024) -> None:
        capacity = max(capacity, 16)
        # slot → [hash, row]: one probe reads one 16-byte pair.
        self._slots = np.full((_power_of_two(capacity * 2), 2), _EMPTY, dtype=np.int64)
        self._key_bytes = np.zeros(capacity * 16, dtype=np.uint8)
        self._key_used = 0
        # row → [start, length] of its id in ``_key_bytes``
        self._keys = np.zeros((capacity, 2), dtype=np.int64)
        self._count = 0

    def add(self, sensor_id: str, row: int) -> None:
        """Register a new id at ``row``. Adding an id twice is the caller's error."""
        if SEPARATOR in sensor_id:
            return
        key = np.frombuffer(sensor_id.encode(), dtype=np.uint8)
        if (self._count + 1) * 2 > len(self._slots):  # at most half full: short probes
            slots = np.full((2 * len(self._slots), 2), _EMPTY, dtype=np.int64)
            _reinsert(self._slots, slots)
            self._slots = slots
        self._keys = _room_for(self._keys, row + 1)
        self._key_bytes = _room_for(self._key_bytes, self._key_used + len(key))
        self._key_bytes[self._key_used: self._key_used + len(key)] = key
        self._keys[row] = (self._key_used, len(key))
        self._key_used += len(key)
        _insert(self._slots, _hash(key, 0, len(key)), row)
        self._count += 1

    def rows_of(self, ids: list[str]) -> NDArray[np.int64] | None:
        """The row of each id, -1 where the id is unknown; None if an id holds the
        separator. Every id must be a ``str`` (else ``TypeError``)."""
        if not ids:
            return np.empty(0, dtype=np.int64)
        joined = SEPARATOR.join(ids).encode()
        rows = np.empty(len(ids), dtype=np.int64)
        found = _look_up(np.frombuffer(joined, dtype=np.uint8), self._slots, self._keys,
                         self._key_bytes, rows)
        return rows if found == len(ids) else None


def _room_for(array: NDArray[Any], needed: int) -> NDArray[Any]:
    """``array``, or a copy at least twice as long if it has fewer than ``needed`` rows."""
    if needed <= len(array):
        return array
    grown = np.zeros((max(needed, 2 * len(array)), *array.shape[1:]), dtype=array.dtype)
    grown[: len(array)] = array
    return grown


def _power_of_two(n: int) -> int:
    return 1 << (n - 1).bit_length()


@compiled
def _hash(data: NDArray[np.uint8], start: int, end: int) -> int:
    """A 64-bit hash of ``data[start:end]``: eight bytes at a time, one multiply each (a
    byte-wise hash would chain a multiply per byte), then a final mix so that the low bits,
    which pick the slot, depend on every byte."""
    h = np.uint64(0x9E3779B97F4A7C15) ^ np.uint64(end - start)
    k = start
    while k < end:
        word = np.uint64(0)
        stop = min(k + 8, end)
        for b in range(k, stop):
            word |= np.uint64(data[b]) << np.uint64(8 * (b - k))
        h = (h ^ word) * np.uint64(0xFF51AFD7ED558CCD)
        h ^= h >> np.uint64(32)
        k = stop
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xC4CEB9FE1A85EC53)
    h ^= h >> np.uint64(33)
    return np.int64(h)  # type: ignore[return-value]


@compiled
def _insert(slots: NDArray[np.int64], h: int, row: int) -> None:
    mask = slots.shape[0] - 1
    i = h & mask
    while slots[i, 1] != _EMPTY:
        i = (i + 1) & mask
    slots[i, 0] = h
    slots[i, 1] = row


@compiled
def _reinsert(old: NDArray[np.int64], new: NDArray[np.int64]) -> None:
    for i in range(old.shape[0]):
        if old[i, 1] != _EMPTY:
            _insert(new, old[i, 0], old[i, 1])


@compiled
def _look_up(joined: NDArray[np.uint8], slots: NDArray[np.int64], keys: NDArray[np.int64],
             key_bytes: NDArray[np.uint8], rows: NDArray[np.int64]) -> int:
    """Split ``joined`` at the separators and write each part's row (or -1) into ``rows``.
    Returns how many parts there were; if that is not ``len(rows)``, ``rows`` is not set.

    Three passes, each a loop of independent loads, so that the CPU keeps many cache
    misses in flight at once: hash every id (no memory beyond the batch), read each id's
    first slot, then compare the candidate's key bytes."""
    n = rows.shape[0]
    size = joined.shape[0]
    starts = np.empty(n + 1, dtype=np.int64)
    hashes = np.empty(n, dtype=np.int64)
    parts = 0
    start = 0
    while start <= size:
        end = start
        while end < size and joined[end] != 0:
            end += 1
        if parts < n:
            starts[parts] = start
            hashes[parts] = _hash(joined, start, end)
        parts += 1
        start = end + 1
    if parts != n:
        return parts
    starts[n] = size + 1
    mask = slots.shape[0] - 1
    for i in range(n):
        # The common case: the first slot holds the id's hash (or is empty).
        slot = hashes[i] & mask
        rows[i] = slots[slot, 1] if slots[slot, 0] == hashes[i] else -2
    half = LIGHT_PASS_AHEAD // 2
    for i in range(n):
        # A candidate's key is two loads deep (its [start, length], then its bytes): ask for
        # the first well ahead, and for the bytes once the first has had time to arrive.
        if i + LIGHT_PASS_AHEAD < n and rows[i + LIGHT_PASS_AHEAD] >= 0:
            prefetch_item(keys, rows[i + LIGHT_PASS_AHEAD])
        if i + half < n and rows[i + half] >= 0:
            prefetch_item(key_bytes, keys[rows[i + half], 0])
        row = rows[i]
        at = starts[i]
        length = starts[i + 1] - 1 - at
        if row >= 0 and _same_key(keys, key_bytes, row, joined, at, length):
            continue
        rows[i] = _probe(slots, keys, key_bytes, hashes[i], joined, at, length)
    return int(n)


@compiled
def _same_key(keys: NDArray[np.int64], key_bytes: NDArray[np.uint8], row: int,
              joined: NDArray[np.uint8], at: int, length: int) -> bool:
    if keys[row, 1] != length:
        return False
    start = keys[row, 0]
    for k in range(length):  # noqa: SIM110 - an explicit loop compiles; all(generator) not
        if key_bytes[start + k] != joined[at + k]:
            return False
    return True


@compiled
def _probe(slots: NDArray[np.int64], keys: NDArray[np.int64], key_bytes: NDArray[np.uint8],
           h: int, joined: NDArray[np.uint8], at: int, length: int) -> int:
    """The full search: every slot of the id's run, until an empty one."""
    mask = slots.shape[0] - 1
    i = h & mask
    while slots[i, 1] != _EMPTY:
        if slots[i, 0] == h and _same_key(keys, key_bytes, slots[i, 1], joined, at, length):
            return int(slots[i, 1])
        i = (i + 1) & mask
    return _EMPTY
