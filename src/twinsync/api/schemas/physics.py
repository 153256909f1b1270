"""What the physics twin's route answers: each sensor-fed property's local level/trend
model as the reading path keeps it (``service/twin_models.py``; docs/PHYSICS.md, "On the
reading path")."""

from __future__ import annotations

from pydantic import BaseModel

from .shadow import SensorShadowOut


class NoiseOut(BaseModel):
    """The sensor's noise variance (``noise``, the unit squared) and the smoothness ratio
    (how far level and trend wander over a usual spacing, in ``noise``s)."""

    noise: float | None
    ratio: float | None


class RecalibrationOut(BaseModel):
    """The row's last recalibration: when (epoch seconds), how many so far, its noise
    before and after."""

    time: float
    count: int
    before: NoiseOut
    after: NoiseOut


class SensorModelOut(BaseModel):
    """One bound sensor's model. ``state``: ``learning`` (its first readings), ``in_control``,
    ``diverging`` (since ``diverging_since``) or ``off``. ``level`` and ``trend`` (per hour)
    with their standard deviations, as of ``last_time``; ``last_normalised`` is the last
    reading's residual in standard deviations of the prediction (``last_residual`` in the
    unit); ``level_noise`` (per hour) and ``trend_noise`` (per hour³) are variances;
    ``shadow``: the running shadow twin's model of the sensor and how the two compare
    (null when none runs)."""

    sensor_id: str
    property: str
    unit: str
    state: str
    readings: int | None = None
    level: float | None = None
    trend: float | None = None
    level_sd: float | None = None
    trend_sd: float | None = None
    noise: float | None = None
    ratio: float | None = None
    level_noise: float | None = None
    trend_noise: float | None = None
    last_time: float | None = None
    last_residual: float | None = None
    last_normalised: float | None = None
    diverging_since: float | None = None
    recalibration: RecalibrationOut | None = None
    shadow: SensorShadowOut | None = None


class ElementTwinOut(BaseModel):
    """An element's sensor models; ``enabled`` is the ``twin_models`` setting, and
    ``bytes_a_sensor`` the state each keeps."""

    element_id: str
    enabled: bool
    bytes_a_sensor: int
    sensors: list[SensorModelOut]
