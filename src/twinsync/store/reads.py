"""Reads every tiered store answers the same way once it has fetched its bytes: a sensor's
readings in a time window, sequence numbers for a restart, aggregates for a restart."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields

import numpy as np
from numpy.typing import NDArray

from ..errors import InvalidInput
from .base import Buckets, History, SensorAggregates
from .problems import LoadProblems
from .summary import SUMMARY_DTYPE, aggregate, bucketise
from .tiers import ROW_DTYPE, seal, widened

#: Buckets a downsampled window may be cut into, at most.
MAX_BUCKETS = 2.0**53


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
            anomaly=readings["anomaly"].astype(np.float64),
        )

    def downsample(self, row: int, start: float, end: float, every: float) -> Buckets:
        if every <= 0:
            raise InvalidInput("bucket width must be positive", "bad_interval")
        if (end - start) / every >= MAX_BUCKETS:
            # A bucket's number is computed in floats: past 2**53 it is no longer exact,
            # and past 2**63 it overflows, so every reading would land in one bucket.
            raise InvalidInput(f"every: {every:g} s cuts the window into more than 2**53 "
                               f"buckets; ask for a larger every or a shorter window",
                               "bad_request")
        return bucketise(self._readings_of(row, start, end), start, every)


def sequences_in(segments: Sequence[tuple[int, bytes, int]], hot: NDArray[np.void],
                 problems: LoadProblems) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(sensor row, sequence number) of the numbered readings in packed segments ((segment
    id, bytes, bytes a row), newest first as a store reads them) and the hot rows. A
    segment whose bytes are not whole readings is reported and left out: its sequence
    numbers are not known to the restarted windows, which is all that is lost."""
    parts = []
    for segment_id, data, row_bytes in reversed(segments):
        try:
            parts.append(widened(data, row_bytes))
        except ValueError as exc:
            problems.report("segments", f"{segment_id} data", f"data of {exc}")
    rows = np.concatenate([*parts, hot])
    keep = rows["seq"] >= 0
    return rows["sensor"][keep].astype(np.int64), rows["seq"][keep].astype(np.int64)


def aggregate_tiers(summaries: Sequence[tuple[int, bytes]], hot: NDArray[np.void], span: int,
                    problems: LoadProblems) -> SensorAggregates:
    """Per-sensor aggregates over sealed segments' packed summaries ((segment id, bytes),
    oldest first) and the hot rows. A summary that cannot be unpacked, and a sensor whose
    aggregates are not finite, are reported and left out: that sensor's live statistics
    start afresh rather than the store failing to open."""
    unpacked = []
    for segment_id, summary in summaries:
        if len(summary) % SUMMARY_DTYPE.itemsize:
            problems.report("segments", f"{segment_id} summary",
                            f"summary of {len(summary)} bytes is not whole entries")
            continue
        unpacked.append(np.frombuffer(summary, dtype=SUMMARY_DTYPE))
    if len(hot):
        unpacked.append(seal(hot, span).summary)
    return finite_only(aggregate(unpacked), problems)


def finite_only(aggregates: SensorAggregates, problems: LoadProblems) -> SensorAggregates:
    """The aggregates of the sensors whose statistics are finite. ``last_value`` may be
    NaN (every reading was late), so it is not checked."""
    numbers = (aggregates.mean, aggregates.m2, aggregates.minimum, aggregates.maximum,
               aggregates.first_event_time)
    keep = (aggregates.count > 0) & np.logical_and.reduce([np.isfinite(n) for n in numbers])
    if keep.all():
        return aggregates
    for row in aggregates.rows[~keep].tolist():
        problems.report("aggregates", f"sensor row {row}",
                        "stored statistics are not finite; live statistics start afresh")
    return SensorAggregates(**{f.name: getattr(aggregates, f.name)[keep]
                               for f in fields(aggregates)})


def journal_rows(journal_id: int, packed: bytes, problems: LoadProblems
                 ) -> NDArray[np.void] | None:
    """A journal row's readings, or None (reported) if its bytes are not whole rows."""
    if len(packed) % ROW_DTYPE.itemsize:
        problems.report("journal", journal_id,
                        f"{len(packed)} bytes are not whole readings; the batch is skipped")
        return None
    return np.frombuffer(packed, dtype=ROW_DTYPE).copy()
