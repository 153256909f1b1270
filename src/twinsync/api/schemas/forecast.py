"""What the forecast route answers: a property's readings looked ahead, with an interval
and the quantiles asked for, from the local level/trend fitted to its recent readings
(``physics/forecast.py``; described in docs/PHYSICS.md)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ForecastParameters(BaseModel):
    """The fitted noise variances, in the property's unit squared per hour (``noise``: the
    sensor's, per reading); ``trend_noise`` is null for the local level."""

    level_noise: float
    trend_noise: float | None
    noise: float


class PropertyForecast(BaseModel):
    """A property's forecast as columns: at each ``time`` (epoch seconds, evenly spaced up to
    ``horizon`` seconds after ``origin``, the newest reading's time) the mean reading, its
    standard deviation, the ``coverage`` interval (``low``, ``high``) and each quantile
    asked for (keyed by its probability); ``crossing`` is when the mean reaches
    ``threshold``, null when it does not within the horizon or none was asked."""

    model_config = ConfigDict(extra="allow")
    element_id: str
    property: str
    unit: str
    model: str
    """``local_level`` or ``local_trend``: the one of lower AIC."""
    parameters: ForecastParameters
    readings: int
    """Stored readings the model was fitted on."""
    steps_fitted: int
    """Steps of the regular grid that held at least one of them."""
    step: float
    """The grid's step, seconds."""
    window: float
    """How far back readings are read, seconds."""
    fitted_from: float
    origin: float
    level: float
    trend: float | None
    """Per hour; null for the local level."""
    horizon: float
    time: list[float]
    mean: list[float]
    deviation: list[float]
    coverage: float
    low: list[float]
    high: list[float]
    quantiles: dict[str, list[float]]
    threshold: float | None
    crossing: float | None
