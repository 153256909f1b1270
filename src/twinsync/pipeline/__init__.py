"""The reading path: admission, ordering, per-sensor state. Pure and vectorised; no I/O."""

from .accept import (
    ALLOWED_LATENESS_SECONDS,
    FRESHNESS_SECONDS,
    MAX_FUTURE_SECONDS,
    Pipeline,
    binding_transform,
)
from .batch import NO_SEQ, Accepted, Batch, DeadLetter, Flag, IncomingBatch, RawReading
from .clocks import ClockTable
from .latency import LatencyWindows
from .order import SequenceTable
from .table import LatestPerRow, SensorTable
from .times import iso, parse_time

__all__ = [
    "ALLOWED_LATENESS_SECONDS",
    "FRESHNESS_SECONDS",
    "MAX_FUTURE_SECONDS",
    "NO_SEQ",
    "Accepted",
    "Batch",
    "ClockTable",
    "DeadLetter",
    "Flag",
    "IncomingBatch",
    "LatencyWindows",
    "LatestPerRow",
    "Pipeline",
    "RawReading",
    "SensorTable",
    "SequenceTable",
    "binding_transform",
    "iso",
    "parse_time",
]
