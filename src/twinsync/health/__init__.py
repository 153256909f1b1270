"""Sensor health: stale, offline, clock, stuck, spike, drift and noisy, as a quality 0..1
with a reason.

Pure NumPy: no I/O. State lives in a struct-of-arrays table indexed by the pipeline's
dense sensor rows; work per batch is proportional to the batch, and the timer's scan is
one vectorised pass.
"""

from . import snapshot
from .groups import SensorSettings, configure_from_twin, sensor_settings
from .monitor import HealthChange, HealthChanges, HealthMonitor, HealthStatus, warm_up
from .params import HealthParams
from .snapshot import SnapshotMismatch
from .states import OUTLIER_READING_QUALITY, STATE_NAMES, State, quality_of

__all__ = [
    "OUTLIER_READING_QUALITY",
    "STATE_NAMES",
    "HealthChange",
    "HealthChanges",
    "HealthMonitor",
    "HealthParams",
    "HealthStatus",
    "SensorSettings",
    "SnapshotMismatch",
    "State",
    "configure_from_twin",
    "quality_of",
    "sensor_settings",
    "snapshot",
    "warm_up",
]
