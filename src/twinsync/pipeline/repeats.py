"""Repeats the in-memory windows could not judge, found in what was kept before.

A broker redelivers everything it had not seen acknowledged and a client retries a whole
batch; a reading too far behind its sensor's sequence window (``order``) can only be told
from a new one by the readings already kept. Where they are kept is the caller's: the
service reads its store, the offline replay the readings it has accepted so far.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from .batch import Batch
from .order import SequenceTable


class KeptReadings(Protocol):
    """One sensor's kept readings in a span of time: what a repeat is compared with."""

    @property
    def seq(self) -> NDArray[np.int64]: ...
    @property
    def event_time(self) -> NDArray[np.float64]: ...
    @property
    def raw_value(self) -> NDArray[np.float64]: ...


#: Reads one sensor's kept readings with ``start <= event_time < end``.
ReadKept = Callable[[int, float, float], KeptReadings]


def kept_repeats(sequences: SequenceTable, batch: Batch, behind_window: NDArray[np.bool_],
                 read: ReadKept) -> NDArray[np.bool_]:
    """Which of the readings marked ``behind_window`` are already kept.

    A repeat carries its original time, so only the kept readings of its sensor within
    the sequence table's ``repeat_slack`` of those times are read (a span per cluster of
    times, see ``SequenceTable.lookups``)."""
    repeats = np.zeros(len(batch), dtype=np.bool_)
    for row, index, start, end in sequences.lookups(batch.rows, batch.event_time,
                                                    behind_window):
        kept = read(row, start, end)
        repeats[index] = sequences.stored_repeats(
            batch.seq[index], batch.event_time[index], batch.raw_value[index],
            kept.seq, kept.event_time, kept.raw_value)
    return repeats
