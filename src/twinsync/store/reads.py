"""Reads every tiered store answers the same way once it has fetched its bytes: a sensor's
readings in a time window, sequence numbers for a restart, aggregates for a restart."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from ..errors import InvalidInput
from .base import Buckets, History, SensorAggregates
from .summary import SUMMARY_DTYPE, aggregate, bucketise
from .tiers import ROW_DTYPE, seal


class TieredReads:
    """Mixin: ``history`` and ``downsample``. The store provides ``_readings_of``."""

    def _readings_of(self, row: int, start: float, end: float) -> NDArray[np.void]:
        raise NotImplementedError

    def history(self, row: int, start: float, end: float, limit: int = 100_000) -> History:
        readings = self._readings_of(row, start, end)[:limit]
        return History(
            event_time=readings["event_time"].astype(np.float64),
            value=readings["value"].astype(np.float64),
            raw_value=readings["raw_value"].astype(np.float64),
            received_at=readings["received_at"].astype(np.float64),
            seq=readings["seq"].astype(np.int64),
            quality=readings["quality"].astype(np.float64),
            flags=readings["flags"].astype(np.int64),
        )

    def downsample(self, row: int, start: float, end: float, every: float) -> Buckets:
        if every <= 0:
            raise InvalidInput("bucket width must be positive", "bad_interval")
        return bucketise(self._readings_of(row, start, end), start, every)


def sequences_in(segments: Sequence[bytes], hot: NDArray[np.void]
                 ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(sensor row, sequence number) of the numbered readings in packed segments, newest
    first as a store reads them, and the hot rows."""
    parts = [np.frombuffer(data, dtype=ROW_DTYPE) for data in reversed(segments)]
    rows = np.concatenate([*parts, hot])
    keep = rows["seq"] >= 0
    return rows["sensor"][keep].astype(np.int64), rows["seq"][keep].astype(np.int64)


def aggregate_tiers(summaries: Sequence[bytes], hot: NDArray[np.void], span: int
                    ) -> SensorAggregates:
    """Per-sensor aggregates over sealed segments' packed summaries and the hot rows."""
    unpacked = [np.frombuffer(summary, dtype=SUMMARY_DTYPE) for summary in summaries]
    if len(hot):
        unpacked.append(seal(hot, span).summary)
    return aggregate(unpacked)

