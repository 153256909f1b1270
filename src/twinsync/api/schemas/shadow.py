"""What the shadow twin's routes take and answer (``service/twin_shadow.py``;
docs/PHYSICS.md, "The shadow twin")."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# Strict: JSON's true, or a number written as text, is a mistake, not a 1.
Whole = Annotated[int, Field(strict=True)]
Number = Annotated[float, Field(strict=True)]


def _given(description: str) -> Any:
    """A parameter a request may leave out (the live value is kept)."""
    return Field(default=None, description=description)


class TrackerParameters(BaseModel):
    """The live level/trend tracker's parameters. In a request, each one given is
    changed from the live value and the others kept; its range is checked (422,
    ``bad_parameter``, naming it)."""

    model_config = ConfigDict(extra="forbid")
    warmup: Whole | None = _given("trusted readings before the filter starts (12 to 10,000)")
    memory: Whole | None = _given("readings the usual spacing is averaged over (warmup to "
                                  "1,000,000)")
    min_quality: Number | None = _given("least health quality of a reading that teaches the "
                                        "noise (0 to 1)")
    rate: Number | None = _given("online learning rate of the sensor's noise (0 to 0.5)")
    ratio_rate: Number | None = _given("online learning rate of the smoothness ratio "
                                       "(0 to 0.5)")
    reference: Number | None = _given("CUSUM reference k in standard deviations (0 to 5)")
    threshold: Number | None = _given("CUSUM threshold h (above reference, at most 100)")
    settle: Whole | None = _given("readings back under the release before a divergence ends "
                                  "(1 to 10,000)")
    gate_probability: Number | None = _given("share of good readings the innovation gate "
                                             "lets in (0.9 to 0.999999)")
    reopen_after: Whole | None = _given("gated readings in a row before the gate re-opens "
                                        "(1 to 100)")


class ShadowIn(BaseModel):
    """A shadow to start: the parameters it changes from the live ones, and where its
    rows start (``live``: a copy of the live rows; ``fresh``: every row anew)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"parameters": {"threshold": 12, "rate": 0.02}},
        {"parameters": {"warmup": 48}, "start_from": "fresh"}]})
    parameters: TrackerParameters = Field(default_factory=TrackerParameters)
    start_from: Literal["live", "fresh"] = "live"


class ErrorFiguresOut(BaseModel):
    """One tracker's error over the counted readings: ``rms``, ``mean_abs`` and ``bias``
    in the reading's unit, ``calibration`` (mean squared normalised residual, each clipped
    at 4 sd; about 1 when honest) and the ``divergences`` it started."""

    rms: float | None
    mean_abs: float | None
    bias: float | None
    calibration: float | None
    divergences: int


class SensorComparisonOut(BaseModel):
    """``readings`` counted (both predicted them, health trusted them), each tracker's
    figures and the share of them the shadow predicted closer."""

    readings: int
    shadow_closer: float | None
    live: ErrorFiguresOut
    shadow: ErrorFiguresOut


class SensorShadowOut(BaseModel):
    """A sensor's shadow model (``state``, ``level`` with ``level_sd``, ``noise``,
    ``ratio``) and its comparison with the live one."""

    shadow_id: str
    state: str
    level: float | None
    level_sd: float | None = None
    noise: float | None
    ratio: float | None
    comparison: SensorComparisonOut


class ListedSensorOut(SensorComparisonOut):
    """A sensor ranked by ``rms_ratio``, the shadow's RMS over the live one's."""

    sensor_id: str
    element_id: str | None
    property: str | None
    unit: str
    rms_ratio: float | None


class FleetSideOut(BaseModel):
    calibration: float | None
    divergences: int


class FleetComparisonOut(BaseModel):
    """Fleet-wide, over the modelled sensors: readings counted, sensors with at least 10
    of them (``sensors_compared``), the geometric mean of their RMS ratios shadow / live
    (``rms_ratio``: below 1, the shadow predicts better), how many each predicts with the
    lower RMS, the share of readings the shadow predicted closer, each tracker's
    calibration and divergences; ``best`` and ``worst``: the sensors where the shadow does
    best and worst against the live model."""

    sensors: int
    sensors_compared: int
    readings: int
    rms_ratio: float | None
    shadow_lower_rms: int
    live_lower_rms: int
    shadow_closer: float | None
    live: FleetSideOut
    shadow: FleetSideOut
    best: list[ListedSensorOut] = []
    worst: list[ListedSensorOut] = []


class ShadowRunOut(BaseModel):
    """The running shadow: its id, who started it and when (epoch seconds), where its rows
    started, since when it is counted, its parameters and those it changes."""

    shadow_id: str
    start_from: str
    started_at: float
    started_by: str
    counted_since: float
    parameters: dict[str, Any]
    changed: dict[str, Any]
    bytes_a_sensor: int | None = None


class LiveOut(BaseModel):
    parameters: dict[str, Any]


class ShadowReportOut(BaseModel):
    """The live tracker's parameters, the running shadow (null if none) and the
    comparison; ``enabled`` is the ``twin_models`` setting."""

    enabled: bool
    live: LiveOut
    shadow: ShadowRunOut | None
    comparison: FleetComparisonOut | None


class ShadowEndedOut(ShadowRunOut):
    """A shadow promoted or stopped, with the comparison as it stood then (the event's
    data); a promotion also gives the parameters it replaced."""

    comparison: FleetComparisonOut
    previous_parameters: dict[str, Any] | None = None
