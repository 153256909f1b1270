"""Offline health replay: a recorded data set judged by the live reading path.

``replay(SENSORS.csv, READINGS.csv, STATES.csv)`` builds the twin the sensor list
describes, feeds the readings in the batches they arrived in through the pipeline and
the health monitor exactly as the service does, ticks the watch on simulated time, and
writes every health state change (see docs/HEALTH.md, "Offline replay").
"""

from .arrivals import MAX_BATCH, WINDOW, Arrival, arrivals
from .engine import Replay, ReplayResult, replay
from .files import BadRow, ReadingChunk, SensorList, read_readings, read_sensors
from .kept import KeptReadings
from .watch import CADENCE, SimulatedWatch

__all__ = [
    "CADENCE",
    "MAX_BATCH",
    "WINDOW",
    "Arrival",
    "BadRow",
    "KeptReadings",
    "ReadingChunk",
    "Replay",
    "ReplayResult",
    "SensorList",
    "SimulatedWatch",
    "arrivals",
    "read_readings",
    "read_sensors",
    "replay",
]
