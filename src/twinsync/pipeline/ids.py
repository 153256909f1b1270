"""Sensor id → row for a whole batch at once, in compiled code.

A Python dict answers one id in ~60 ns while the fleet is small, but each look-up follows
a chain of pointers (hash slot, entry, key string, row object) and with 100,000 sensors
those live outside the CPU's private cache: ~400 ns a reading, the largest part of what a
big fleet costs. Here the batch's ids are joined into one byte string and looked up in an
open-addressing table of NumPy arrays by one compiled loop. The readings are independent,
so the CPU overlaps their cache misses instead of waiting for each in turn.

Keys are compared byte for byte after the hash matches: a wrong row is impossible, not
just improbable. A slot holds an id's first 16 bytes beside its hash and row, so for most
ids one cache line answers; with 100,000 sensors a look-up that went on to a table of keys
and then to the key's bytes waited for three lines from memory. Rows are never removed
(the pipeline's rows are append-only).

>>> index = IdIndex()
>>> index.add("s1", 0); index.add("s2", 1)
>>> index.rows_of(["s2", "nope", "s1"])
array([ 1, -1,  0])
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..jit import compiled, prefetch_item

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
        # slot → [hash, row | length << 32, the id's first 16 bytes as two words]: a probe
        # and, for an id of up to 16 bytes, the check of its key read one 32-byte slot.
        self._slots = _empty_slots(_power_of_two(capacity * 2))
        # The bytes past the 16th of longer ids, and row → where they start (how many
        # there are follows from the length in the id's slot).
        self._key_bytes = np.zeros(capacity * 16, dtype=np.uint8)
        self._key_used = 0
        self._tails = np.zeros(capacity, dtype=np.int64)
        self._count = 0

    def add(self, sensor_id: str, row: int) -> None:
        """Register a new id at ``row``. Adding an id twice is the caller's error."""
        if SEPARATOR in sensor_id:
            return
        key = np.frombuffer(sensor_id.encode(), dtype=np.uint8)
        if (self._count + 1) * 2 > len(self._slots):  # at most half full: short probes
            slots = _empty_slots(2 * len(self._slots))
            _reinsert(self._slots, slots)
            self._slots = slots
        tail = key[INLINE:]
        self._tails = _room_for(self._tails, row + 1)
        self._key_bytes = _room_for(self._key_bytes, self._key_used + len(tail))
        self._key_bytes[self._key_used: self._key_used + len(tail)] = tail
        self._tails[row] = self._key_used
        self._key_used += len(tail)
        h, first, second = _key(key, 0, len(key))
        _insert(self._slots, h, row | len(key) << 32, first, second)
        self._count += 1

    def rows_of(self, ids: list[str]) -> NDArray[np.int64] | None:
        """The row of each id, -1 where the id is unknown; None if an id holds the
        separator. Every id must be a ``str`` (else ``TypeError``)."""
        if not ids:
            return np.empty(0, dtype=np.int64)
        joined = SEPARATOR.join(ids).encode()
        rows = np.empty(len(ids), dtype=np.int64)
        found = _look_up(np.frombuffer(joined, dtype=np.uint8), self._slots, self._tails,
                         self._key_bytes, rows)
        return rows if found == len(ids) else None


#: Bytes of an id kept in its slot. Ids hold no NUL byte (the separator), so zero padding
#: cannot make two ids of different lengths equal; the length is compared all the same.
INLINE = 16
_ROW_MASK = (1 << 32) - 1


#: Ids ahead the look-up asks for a slot. The pass does a few ns of work an id, and a slot
#: of a large fleet comes from memory: far enough ahead to cover that wait.
ID_PASS_AHEAD = 32


def _empty_slots(size: int) -> NDArray[np.int64]:
    return np.full((size, 4), _EMPTY, dtype=np.int64)


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
def _key(data: NDArray[np.uint8], start: int, end: int) -> tuple[int, int, int]:
    """What a slot holds of ``data[start:end]``: a 64-bit hash and the first 16 bytes as two
    little-endian words, zero-padded. The bytes are read once, eight at a time: each word
    takes one multiply into the hash (a byte-wise hash would chain a multiply per byte),
    and a final mix makes the low bits, which pick the slot, depend on every byte."""
    h = np.uint64(0x9E3779B97F4A7C15) ^ np.uint64(end - start)
    first = np.uint64(0)
    second = np.uint64(0)
    k = start
    while k < end:
        word = np.uint64(0)
        stop = min(k + 8, end)
        for b in range(k, stop):
            word |= np.uint64(data[b]) << np.uint64(8 * (b - k))
        if k == start:
            first = word
        elif k == start + 8:
            second = word
        h = (h ^ word) * np.uint64(0xFF51AFD7ED558CCD)
        h ^= h >> np.uint64(32)
        k = stop
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xC4CEB9FE1A85EC53)
    h ^= h >> np.uint64(33)
    return np.int64(h), np.int64(first), np.int64(second)  # type: ignore[return-value]


@compiled
def _insert(slots: NDArray[np.int64], h: int, row_and_length: int, first: int,
            second: int) -> None:
    mask = slots.shape[0] - 1
    i = h & mask
    while slots[i, 1] != _EMPTY:
        i = (i + 1) & mask
    slots[i, 0] = h
    slots[i, 1] = row_and_length
    slots[i, 2] = first
    slots[i, 3] = second


@compiled
def _reinsert(old: NDArray[np.int64], new: NDArray[np.int64]) -> None:
    for i in range(old.shape[0]):
        if old[i, 1] != _EMPTY:
            _insert(new, old[i, 0], old[i, 1], old[i, 2], old[i, 3])


@compiled
def _look_up(joined: NDArray[np.uint8], slots: NDArray[np.int64], tails: NDArray[np.int64],
             key_bytes: NDArray[np.uint8], rows: NDArray[np.int64]) -> int:
    """Split ``joined`` at the separators and write each part's row (or -1) into ``rows``.
    Returns how many parts there were; if that is not ``len(rows)``, ``rows`` is not set.

    Two passes: hash every id (no memory beyond the batch), then read each id's slot,
    asked for well ahead so that many cache misses are in flight at once; the slot holds
    the hash, the length and the first 16 bytes, so most ids are checked where found."""
    n = rows.shape[0]
    size = joined.shape[0]
    starts = np.empty(n + 1, dtype=np.int64)
    hashes = np.empty(n, dtype=np.int64)
    firsts = np.empty(n, dtype=np.int64)
    seconds = np.empty(n, dtype=np.int64)
    parts = 0
    start = 0
    while start <= size:
        end = start
        while end < size and joined[end] != 0:
            end += 1
        if parts < n:
            starts[parts] = start
            hashes[parts], firsts[parts], seconds[parts] = _key(joined, start, end)
        parts += 1
        start = end + 1
    if parts != n:
        return parts
    starts[n] = size + 1
    mask = slots.shape[0] - 1
    for i in range(n):
        if i + ID_PASS_AHEAD < n:
            prefetch_item(slots, hashes[i + ID_PASS_AHEAD] & mask)
        at = starts[i]
        rows[i] = _probe(slots, tails, key_bytes, hashes[i], joined, at,
                         starts[i + 1] - 1 - at, firsts[i], seconds[i])
    return int(n)


@compiled
def _probe(slots: NDArray[np.int64], tails: NDArray[np.int64], key_bytes: NDArray[np.uint8],
           h: int, joined: NDArray[np.uint8], at: int, length: int, first: int,
           second: int) -> int:
    """Every slot of the id's run, from its first, until the id or an empty slot."""
    mask = slots.shape[0] - 1
    i = h & mask
    while slots[i, 1] != _EMPTY:
        if (slots[i, 0] == h and slots[i, 1] >> 32 == length and slots[i, 2] == first
                and slots[i, 3] == second):
            row = slots[i, 1] & _ROW_MASK
            if length <= INLINE or _same_tail(tails, key_bytes, row, joined, at + INLINE,
                                              length - INLINE):
                return int(row)
        i = (i + 1) & mask
    return _EMPTY


@compiled
def _same_tail(tails: NDArray[np.int64], key_bytes: NDArray[np.uint8], row: int,
               joined: NDArray[np.uint8], at: int, length: int) -> bool:
    """Whether the bytes of ``row``'s id past the inline ones are ``joined[at:at+length]``
    (the lengths already agree)."""
    start = tails[row]
    for k in range(length):  # noqa: SIM110 - an explicit loop compiles; all(generator) not
        if key_bytes[start + k] != joined[at + k]:
            return False
    return True
