"""What the forecast route answers: a property's readings looked ahead, with an interval
and the quantiles asked for, from the local level/trend fitted to its recent readings
(``physics/forecast.py``), or for a thermal zone's air temperature from the zone's model
(``physics/zone_forecast.py``; both described in docs/PHYSICS.md)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ForecastParameters(BaseModel):
    """The fitted noise variances, in the property's unit squared per hour (``noise``: the
    sensor's, per reading); ``trend_noise`` is null for the local level."""

    level_noise: float
    trend_noise: float | None
    noise: float


class ZoneParameters(BaseModel):
    """A thermal zone's: R (K/kW) and C (kWh/K), null without a heating meter (only their
    product is learned then), the time constant (h), the heat gain (K: how far the room's
    equilibrium sits above what the outdoors and the metered heating explain) with its
    standard deviation and process noise (K² an hour: a random walk), the temperature's
    process noise (K² an hour) and a reading's noise variance (K²)."""

    resistance: float | None
    capacitance: float | None
    time_constant_hours: float
    gain: float
    gain_sd: float
    gain_noise: float
    temperature_noise: float
    noise: float


class ZoneInput(BaseModel):
    """An input of the zone over the forecast: where it is read, its newest reading (°C or
    kW, epoch seconds) and how its future is taken (``persisted``: that reading held, its
    error as its own history's changes over the same lags)."""

    element_id: str
    property: str
    value: float
    time: float
    assumed: str


class ZoneSpread(BaseModel):
    """What a thermal zone's forecast deviation is made of, at each ``time``: the state's
    (temperature, R and C carried through the model with its process noise) and the
    inputs' futures' (outdoor and heating); the deviation is their root sum of squares
    with the sensor's noise. ``heating`` is null for a zone without a heating meter (0
    kW, known)."""

    state_deviation: list[float]
    input_deviation: list[float]
    outdoor: ZoneInput
    heating: ZoneInput | None


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
    """``local_level`` or ``local_trend``: the one of lower AIC; ``thermal_zone`` for a
    zone's air temperature (its zone's model)."""
    parameters: ForecastParameters | ZoneParameters
    readings: int
    """Stored readings the model was fitted on (a zone: the readings its filter took)."""
    steps_fitted: int
    """Steps of the regular grid that held at least one of them (a zone: as ``readings``)."""
    step: float
    """The grid's step, seconds (a zone: the step its model is run on ahead)."""
    window: float | None
    """How far back readings are read, seconds (null for a zone: its filter has taken
    every reading since it started)."""
    fitted_from: float | None
    origin: float
    """The newest reading's time (a zone: its last reading's)."""
    level: float
    trend: float | None
    """Per hour; null for the local level (a zone: where its temperature heads now)."""
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
    zone: ZoneSpread | None = None
    """A thermal zone's answer only: its deviation's parts and its inputs."""
