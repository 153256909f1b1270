"""The reading path: admission, ordering, per-sensor state. Pure and vectorised; no I/O."""

from .accept import MAX_FUTURE_SECONDS, Pipeline
from .batch import NO_SEQ, Accepted, Batch, DeadLetter, Flag, IncomingBatch, RawReading
from .table import LatestPerRow, SensorTable
from .times import iso, parse_time

__all__ = [
    "MAX_FUTURE_SECONDS",
    "NO_SEQ",
    "Accepted",
    "Batch",
    "DeadLetter",
    "Flag",
    "IncomingBatch",
    "LatestPerRow",
    "Pipeline",
    "RawReading",
    "SensorTable",
    "iso",
    "parse_time",
]
